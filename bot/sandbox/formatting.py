"""Parse-mode checks that reject what Telegram rejects.

A bot that forgets to escape a user's comment (``<`` in HTML, ``.`` or ``-`` in MarkdownV2)
works in a naive fake and fails in production with "can't parse entities". These parsers
follow the rules of Telegram's own parser closely enough to catch that class of bug, and
return the plain text so length limits are applied to what the user would see.
"""

from __future__ import annotations

import html
import re

HTML_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "s",
        "strike",
        "del",
        "u",
        "ins",
        "tg-spoiler",
        "tg-emoji",
        "span",
        "pre",
        "code",
        "blockquote",
    }
)
_HTML_ENTITY = re.compile(r"&(#[0-9]{1,7}|#x[0-9a-fA-F]{1,6}|lt|gt|amp|quot);")
_MDV2_RESERVED = frozenset("_*[]()~`>#+-=|{}.!")
_MDV2_ENTITY_NAMES = {
    "*": "Bold",
    "_": "Italic",
    "__": "Underline",
    "~": "Strikethrough",
    "||": "Spoiler",
    "`": "Code",
    "```": "Pre",
    "[": "TextUrl",
}


class EntityParseError(ValueError):
    """Text does not parse in its parse mode; the message mirrors Telegram's."""


def utf16_length(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def normalize_parse_mode(parse_mode: str | None) -> str | None:
    """Canonical spelling of a parse mode (Telegram accepts any case); ``None`` if unset."""
    if parse_mode is None or parse_mode == "":
        return None
    canonical = {"html": "HTML", "markdownv2": "MarkdownV2", "markdown": "Markdown"}
    try:
        return canonical[parse_mode.lower()]
    except KeyError:
        raise EntityParseError(f"unsupported parse_mode {parse_mode!r}") from None


def plain_text(text: str, parse_mode: str | None) -> str:
    """The visible text of ``text`` in ``parse_mode``; raises :class:`EntityParseError`."""
    mode = normalize_parse_mode(parse_mode)
    if mode == "HTML":
        return parse_html(text)
    if mode == "MarkdownV2":
        return parse_markdown_v2(text)
    if mode == "Markdown":
        return parse_markdown(text)
    return text


def _read_attributes(text: str, pos: int, begin: int) -> tuple[dict[str, str], int]:
    """Attributes of a start tag from ``pos``; returns them and the index of the ``>``."""
    attributes: dict[str, str] = {}
    length = len(text)
    while True:
        while pos < length and text[pos].isspace():
            pos += 1
        if pos >= length:
            raise EntityParseError(f"Unclosed start tag at byte offset {_byte_offset(text, begin)}")
        if text[pos] == ">":
            return attributes, pos
        name_start = pos
        while pos < length and not text[pos].isspace() and text[pos] not in "=>":
            pos += 1
        name = text[name_start:pos].lower()
        while pos < length and text[pos].isspace():
            pos += 1
        value = ""
        if pos < length and text[pos] == "=":
            pos += 1
            while pos < length and text[pos].isspace():
                pos += 1
            if pos < length and text[pos] in "\"'":
                quote = text[pos]
                end = text.find(quote, pos + 1)
                if end == -1:
                    raise EntityParseError(
                        f"Unclosed start tag at byte offset {_byte_offset(text, begin)}"
                    )
                value = text[pos + 1 : end]
                pos = end + 1
            else:
                value_start = pos
                while pos < length and not text[pos].isspace() and text[pos] != ">":
                    pos += 1
                value = text[value_start:pos]
        attributes[name] = html.unescape(value)


def _close_tag(text: str, begin: int, open_tags: list[str]) -> int:
    """Check the end tag at ``begin`` against the innermost open tag; index after it."""
    end = text.find(">", begin)
    if end == -1:
        raise EntityParseError(f"Unclosed end tag at byte offset {_byte_offset(text, begin)}")
    name = text[begin + 2 : end].strip().lower()
    if not open_tags:
        raise EntityParseError(f"Unexpected end tag at byte offset {_byte_offset(text, begin)}")
    expected = open_tags[-1]
    if name != expected:
        raise EntityParseError(
            f"Unmatched end tag at byte offset {_byte_offset(text, begin)}, "
            f'expected "</{expected}>", found "</{name}>"'
        )
    open_tags.pop()
    return end + 1


def parse_html(text: str) -> str:
    """Validate Telegram HTML and return the visible text."""
    visible: list[str] = []
    open_tags: list[str] = []
    pos = 0
    length = len(text)
    while pos < length:
        char = text[pos]
        if char == "&":
            match = _HTML_ENTITY.match(text, pos)
            if match:
                visible.append(html.unescape(match.group(0)))
                pos = match.end()
            else:
                visible.append(char)
                pos += 1
            continue
        if char != "<":
            visible.append(char)
            pos += 1
            continue
        begin = pos
        if pos + 1 < length and text[pos + 1] == "/":
            pos = _close_tag(text, pos, open_tags)
            continue
        pos += 1
        while pos < length and not text[pos].isspace() and text[pos] not in ">/":
            pos += 1
        name = text[begin + 1 : pos].lower()
        if name not in HTML_TAGS:
            raise EntityParseError(
                f'Unsupported start tag "{name}" at byte offset {_byte_offset(text, begin)}'
            )
        attributes, pos = _read_attributes(text, pos, begin)
        if name == "span" and attributes.get("class") != "tg-spoiler":
            raise EntityParseError(
                'Tag "span" must have class "tg-spoiler" at byte offset '
                f"{_byte_offset(text, begin)}"
            )
        open_tags.append(name)
        pos += 1
    if open_tags:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{open_tags[-1]}"')
    return "".join(visible)


def _mdv2_marker(text: str, pos: int) -> str | None:
    """The entity marker starting at ``pos`` (``__`` before ``_``, `````` before `````)."""
    for marker in ("```", "__", "||", "`", "*", "_", "~", "["):
        if text.startswith(marker, pos):
            return marker
    return None


def _skip_link_url(text: str, pos: int, begin: int) -> int:
    """Index after the ``(url)`` that follows a link's ``]`` (``pos`` is just after ``]``)."""
    if pos >= len(text) or text[pos] != "(":
        return pos
    pos += 1
    while pos < len(text):
        if text[pos] == "\\" and pos + 1 < len(text):
            pos += 2
            continue
        if text[pos] == ")":
            return pos + 1
        pos += 1
    raise EntityParseError(f"Can't find end of a URL at byte offset {_byte_offset(text, begin)}")


def parse_markdown_v2(text: str) -> str:
    """Validate Telegram MarkdownV2 and return the visible text."""
    visible: list[str] = []
    open_entities: list[tuple[str, int]] = []
    pos = 0
    length = len(text)
    while pos < length:
        char = text[pos]
        if char == "\\" and pos + 1 < length and 0 < ord(text[pos + 1]) <= 126:
            visible.append(text[pos + 1])
            pos += 2
            continue
        in_code = bool(open_entities) and open_entities[-1][0] in ("`", "```")
        if in_code:
            closing = open_entities[-1][0]
            if text.startswith(closing, pos):
                open_entities.pop()
                pos += len(closing)
            else:
                visible.append(char)
                pos += 1
            continue
        if char not in _MDV2_RESERVED:
            visible.append(char)
            pos += 1
            continue
        if char == "]" and open_entities and open_entities[-1][0] == "[":
            open_entities.pop()
            pos = _skip_link_url(text, pos + 1, pos)
            continue
        if char == ">" and (pos == 0 or text[pos - 1] == "\n"):
            pos += 1
            continue
        marker = _mdv2_marker(text, pos)
        if marker is None:
            raise EntityParseError(
                f"Character '{char}' is reserved and must be escaped with the preceding '\\'"
            )
        if open_entities and open_entities[-1][0] == marker and marker != "[":
            open_entities.pop()
        else:
            open_entities.append((marker, pos))
        pos += len(marker)
    if open_entities:
        marker, begin = open_entities[-1]
        raise EntityParseError(
            f"Can't find end of {_MDV2_ENTITY_NAMES[marker]} entity at byte offset "
            f"{_byte_offset(text, begin)}"
        )
    return "".join(visible)


def parse_markdown(text: str) -> str:
    """Validate legacy Markdown (only ``*``, ``_``, ````` and ``[text](url)``)."""
    visible: list[str] = []
    pos = 0
    length = len(text)
    while pos < length:
        char = text[pos]
        if char == "\\" and pos + 1 < length and text[pos + 1] in "_*`[":
            visible.append(text[pos + 1])
            pos += 2
            continue
        if char not in "_*`[":
            visible.append(char)
            pos += 1
            continue
        closing = "]" if char == "[" else ("```" if text.startswith("```", pos) else char)
        start = pos + len(closing) if closing == "```" else pos + 1
        end = text.find(closing, start)
        if end == -1:
            raise EntityParseError(
                f"Can't find end of the entity starting at byte offset {_byte_offset(text, pos)}"
            )
        visible.append(text[start:end])
        pos = end + len(closing)
        if char == "[":
            pos = _skip_link_url(text, pos, end)
    return "".join(visible)
