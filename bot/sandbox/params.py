"""Decoding Bot API request parameters the way Telegram does.

PTB sends parameters form-encoded (every value a string, nested objects as JSON strings) or
as multipart when uploading files; other clients send JSON or a query string. Everything is
normalised here into one typed ``dict`` so handlers -- and test assertions on
``ApiCall.params`` -- see ``chat_id == 42`` rather than ``"42"``.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qsl

from bot.sandbox.errors import bad_request
from bot.sandbox.models import UploadedFile

INT_FIELDS = frozenset(
    {
        "chat_id",
        "from_chat_id",
        "message_id",
        "message_thread_id",
        "reply_to_message_id",
        "offset",
        "limit",
        "timeout",
        "cache_time",
        "user_id",
        "max_connections",
        "duration",
        "width",
        "height",
    }
)
BOOL_FIELDS = frozenset(
    {
        "disable_notification",
        "protect_content",
        "allow_sending_without_reply",
        "disable_web_page_preview",
        "disable_content_type_detection",
        "show_alert",
        "drop_pending_updates",
        "has_spoiler",
        "show_caption_above_media",
        "allow_paid_broadcast",
    }
)
JSON_FIELDS = frozenset(
    {
        "reply_markup",
        "allowed_updates",
        "commands",
        "scope",
        "entities",
        "caption_entities",
        "reply_parameters",
        "link_preview_options",
        "media",
    }
)
_INT_RE = re.compile(r"-?[0-9]+")
_FLOAT_RE = re.compile(r"-?[0-9]+\.[0-9]*")
_BOUNDARY_RE = re.compile(r'boundary="?([^";]+)"?', re.IGNORECASE)
_HTML5_ESCAPES = re.compile(r"%([0-1][0-9A-F]|22)")


def _as_number(value: str) -> object:
    if _INT_RE.fullmatch(value):
        return int(value)
    return float(value) if _FLOAT_RE.fullmatch(value) else value


def _as_bool(value: str) -> object:
    lowered = value.lower()
    if lowered in ("true", "1"):
        return True
    return False if lowered in ("false", "0", "") else value


def _as_json(value: str) -> object:
    try:
        return json.loads(value)
    except ValueError:
        return value


def _coerce(name: str, value: object) -> object:
    if not isinstance(value, str):
        return value
    if name in INT_FIELDS:
        return _as_number(value)
    if name in BOOL_FIELDS:
        return _as_bool(value)
    if name in JSON_FIELDS:
        return _as_json(value)
    return value


def normalize(raw: dict[str, Any]) -> dict[str, Any]:
    """Typed parameters: ints, bools and JSON fields decoded, everything else untouched."""
    return {name: _coerce(name, value) for name, value in raw.items()}


def _header_param(header: str, name: str) -> str | None:
    """A ``name="value"`` parameter of a Content-Disposition header (HTML5 escaping undone)."""
    match = re.search(rf'(?:^|;)\s*{name}="((?:[^"\\]|\\.)*)"', header)
    if match is None:
        match = re.search(rf"(?:^|;)\s*{name}=([^;\s]+)", header)
        if match is None:
            return None
    value = match.group(1).replace("\\\\", "\\")
    return _HTML5_ESCAPES.sub(lambda m: chr(int(m.group(1), 16)), value)


def parse_multipart(
    body: bytes, content_type: str
) -> tuple[dict[str, str], dict[str, UploadedFile]]:
    """Fields and files of a ``multipart/form-data`` body.

    Written by hand because Starlette's form parser needs ``python-multipart``, which the
    project does not depend on; the format PTB/httpx produce is simple and well-defined.
    """
    match = _BOUNDARY_RE.search(content_type)
    if match is None:
        raise bad_request("multipart body without boundary")
    delimiter = b"--" + match.group(1).encode("latin-1")
    fields: dict[str, str] = {}
    files: dict[str, UploadedFile] = {}
    for chunk in body.split(delimiter)[1:]:
        if chunk.startswith(b"--"):
            break
        part = chunk.removeprefix(b"\r\n").removesuffix(b"\r\n")
        head, _, content = part.partition(b"\r\n\r\n")
        headers: dict[str, str] = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            key, _, value = line.partition(":")
            headers[key.strip().lower()] = value.strip()
        disposition = headers.get("content-disposition", "")
        name = _header_param(disposition, "name")
        if name is None:
            continue
        filename = _header_param(disposition, "filename")
        if filename is None:
            fields[name] = content.decode("utf-8", "replace")
        else:
            files[name] = UploadedFile(
                field=name,
                filename=filename,
                content_type=headers.get("content-type", "application/octet-stream"),
                data=content,
            )
    return fields, files


def parse_body(query: str, content_type: str, body: bytes) -> dict[str, Any]:
    """All parameters of a request: query string, then the body (JSON, form or multipart)."""
    raw: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
    media_type = content_type.split(";", 1)[0].strip().lower()
    if not body.strip():
        return normalize(raw)
    if media_type == "application/json":
        try:
            decoded = json.loads(body)
        except ValueError:
            raise bad_request("can't parse JSON object") from None
        if not isinstance(decoded, dict):
            raise bad_request("JSON object expected")
        raw.update(decoded)
    elif media_type == "multipart/form-data":
        fields, files = parse_multipart(body, content_type)
        raw.update(fields)
        raw.update(files)
    else:
        raw.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    return normalize(raw)
