"""Parse-mode validation: what Telegram rejects with "can't parse entities"."""

from __future__ import annotations

import pytest

from bot.sandbox.formatting import (
    EntityParseError,
    normalize_parse_mode,
    parse_html,
    parse_markdown,
    parse_markdown_v2,
    utf16_length,
)


def test_html_returns_visible_text() -> None:
    text = '<b>NPS</b> &amp; <a href="https://example.com/?a=1&amp;b=2">report</a> &lt;9&gt;'
    assert parse_html(text) == "NPS & report <9>"


def test_html_accepts_spoiler_span_and_nested_tags() -> None:
    assert parse_html('<span class="tg-spoiler"><i>x</i></span>') == "x"


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("score < 7", 'Unsupported start tag "" at byte offset 6'),
        ("<br>line", 'Unsupported start tag "br" at byte offset 0'),
        ("<b>bold", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b><i>x</b></i>", 'expected "</i>", found "</b>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler"'),
        ("Отзыв: <хорошо>", 'Unsupported start tag "хорошо" at byte offset 12'),
    ],
)
def test_html_errors_match_telegram(text: str, error: str) -> None:
    with pytest.raises(EntityParseError, match=error.replace("(", r"\(")):
        parse_html(text)


def test_markdown_v2_requires_escaping_reserved_characters() -> None:
    with pytest.raises(EntityParseError, match=r"Character '\.' is reserved"):
        parse_markdown_v2("Thanks for your feedback.")
    assert parse_markdown_v2(r"Thanks for your feedback\. Score: 9\-10") == (
        "Thanks for your feedback. Score: 9-10"
    )


def test_markdown_v2_entities_links_and_code() -> None:
    text = r"*bold* _it_ __under__ ~s~ ||sp|| [link](https://x.io/a_(b\)) `a.b` ```py\nx = 1.0```"
    assert parse_markdown_v2(text).startswith("bold it under s sp link a.b")


def test_markdown_v2_unclosed_entity() -> None:
    with pytest.raises(EntityParseError, match="Can't find end of Bold entity at byte offset 0"):
        parse_markdown_v2("*bold")


def test_legacy_markdown_unclosed_entity() -> None:
    assert parse_markdown("*bold* and 9.5") == "bold and 9.5"
    with pytest.raises(EntityParseError, match="byte offset 4"):
        parse_markdown("user_name")


def test_parse_mode_names_are_case_insensitive() -> None:
    assert normalize_parse_mode("html") == "HTML"
    assert normalize_parse_mode("MARKDOWNV2") == "MarkdownV2"
    assert normalize_parse_mode(None) is None
    with pytest.raises(EntityParseError):
        normalize_parse_mode("rtf")


def test_utf16_length_counts_surrogate_pairs() -> None:
    assert utf16_length("a😀") == 3
