"""Reading helpdesk JSON defensively: every wrong shape becomes a ``PayloadError`` naming the field.

Helpdesks let admins edit payloads and placeholders render as empty strings, so an empty value
counts as absent, numbers and strings are both accepted for ids, and text is cut to what the
database stores (NUL characters removed: PostgreSQL refuses them). An id is never cut, as a cut
id could be another's: a ticket's or customer's that is too long is refused, and one that only
labels (an agent's, a group's) is dropped (``bot.intake.limits``). A lone UTF-16 surrogate
(``"\\ud83d"``, what a JavaScript helpdesk leaves when it cuts an emoji in half) becomes U+FFFD:
no database stores it and no JSON answer can encode it, and a broken name must not lose a survey.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.core.text import replace_surrogates
from bot.intake import limits
from bot.intake.adapters.base import PayloadError

_EARLIEST, _LATEST = datetime(2000, 1, 1, tzinfo=UTC), datetime(2200, 1, 1, tzinfo=UTC)
_MS_THRESHOLD = 10**11  # larger epoch numbers are milliseconds (Jira), not seconds


@dataclass(frozen=True, slots=True)
class Obj:
    """A JSON object and where it sits in the body, so errors can say ``ticket.requester.id``."""

    data: dict[str, object]
    path: str = ""

    def where(self, key: str) -> str:
        """The dotted name of ``key`` inside this object."""
        return f"{self.path}.{key}" if self.path else key

    def raw(self, key: str) -> object:
        """The value as sent (None when absent)."""
        return self.data.get(key)

    def obj(self, key: str) -> Obj | None:
        """A nested object, or None when absent or null."""
        value = self.data.get(key)
        if value is None or value == "":
            return None
        if not isinstance(value, dict):
            raise PayloadError(f"{self.where(key)} must be an object")
        return Obj(value, self.where(key))

    def require_obj(self, key: str) -> Obj:
        """A nested object that must be there."""
        found = self.obj(key)
        if found is None:
            raise PayloadError(f"missing field {self.where(key)}")
        return found

    def text(self, key: str, *, limit: int | None = limits.TEXT) -> str | None:
        """A short text (numbers are accepted and written out), or None when empty."""
        value = self.data.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise PayloadError(f"{self.where(key)} must be a string")
        return clean(str(value), limit=limit)

    def require_text(self, key: str) -> str:
        """A text that must be there."""
        found = self.text(key)
        if found is None:
            raise PayloadError(f"missing field {self.where(key)}")
        return found

    def id(self, key: str) -> str | None:
        """An identifier: a string or an integer, not longer than ids are stored."""
        found = self._any_id(key)
        if found is not None and len(found) > limits.HELPDESK_ID:
            raise PayloadError(f"{self.where(key)} is longer than {limits.HELPDESK_ID} characters")
        return found

    def label_id(self, key: str) -> str | None:
        """An id that only labels (an agent's, a group's): None rather than cut when too long.

        Losing the label is better than losing the closing, and a cut id would name another.
        """
        found = self._any_id(key)
        return found if found is not None and len(found) <= limits.HELPDESK_ID else None

    def _any_id(self, key: str) -> str | None:
        value = self.data.get(key)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, str | int | type(None)):
            raise PayloadError(f"{self.where(key)} must be a string or an integer")
        return clean(str(value), limit=None) if value is not None else None

    def require_id(self, key: str) -> str:
        """An identifier that must be there."""
        found = self.id(key)
        if found is None:
            raise PayloadError(f"missing field {self.where(key)}")
        return found


def clean(value: str, *, limit: int | None = limits.TEXT) -> str | None:
    """Trimmed, without NUL characters, cut to ``limit``; None when nothing is left."""
    value = value.replace("\x00", "").strip()
    if limit is not None:
        value = value[:limit].strip()
    return value or None


def load_object(body: bytes) -> Obj:
    """The body as a JSON object, or a ``PayloadError`` saying why it is not one."""
    try:
        data = json.loads(body)
    except UnicodeDecodeError as error:
        raise PayloadError("malformed JSON: the body is not UTF-8") from error
    except ValueError as error:  # json.JSONDecodeError, and numbers too large to convert
        raise PayloadError(f"malformed JSON: {error}") from error
    except RecursionError as error:
        raise PayloadError("malformed JSON: nested too deeply") from error
    if not isinstance(data, dict):
        raise PayloadError("the body must be a JSON object")
    # From a ``\\ud83d`` escape, or from raw surrogate bytes (``json`` decodes "surrogatepass").
    return Obj(_without_surrogates(data))


def _without_surrogates(data: dict[str, object]) -> dict[str, object]:
    """The document with every lone surrogate (in keys and values) replaced by U+FFFD.

    Iterative, so a body nested as deeply as ``json`` accepts cannot overflow the stack here.
    """
    root: dict[str, object] = {}
    pending: list[tuple[dict[str, object] | list[object], dict[str, object] | list[object]]]
    pending = [(data, root)]
    while pending:
        source, target = pending.pop()
        pairs = source.items() if isinstance(source, dict) else enumerate(source)
        for key, value in pairs:
            copy: object = value
            if isinstance(value, str):
                copy = replace_surrogates(value)
            elif isinstance(value, dict):
                copy = {}
                pending.append((value, copy))
            elif isinstance(value, list):
                copy = []
                pending.append((value, copy))
            if isinstance(target, dict):
                target[replace_surrogates(str(key))] = copy
            else:
                target.append(copy)
    return root


def moment(value: object) -> datetime | None:
    """A point in time from ISO 8601 (with a zone) or a Unix epoch; None when it is neither."""
    try:
        if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
            return moment(int(value.strip()))
        if isinstance(value, str) and value.strip():
            parsed = datetime.fromisoformat(value.strip())
        elif isinstance(value, int | float) and not isinstance(value, bool):
            seconds = value / 1000 if abs(value) >= _MS_THRESHOLD else value
            parsed = datetime.fromtimestamp(seconds, UTC)
        else:
            return None
    except (ValueError, OverflowError, OSError):
        return None
    if parsed.tzinfo is None or not _EARLIEST <= parsed <= _LATEST:
        return None  # a naive time is in some unknown zone: better the next fallback
    return parsed.astimezone(UTC)


def first_moment(*values: object) -> datetime | None:
    """The first of ``values`` that is a usable point in time."""
    return next((found for found in map(moment, values) if found is not None), None)
