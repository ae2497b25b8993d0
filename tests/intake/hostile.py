"""Hypothesis strategies for what a careless helpdesk or an attacker may send.

Text here includes what breaks naive code: NUL (PostgreSQL refuses it), lone UTF-16 surrogates
(no UTF-8 encoder takes them; JSON carries them as ``\\ud83d`` escapes), markup, bidi and
zero-width characters, and strings far beyond every column's length.
"""

from __future__ import annotations

import hashlib
import hmac
import json

from hypothesis import strategies as st

from tests.intake.conftest import GENERIC_SECRET

NASTY = [
    "\x00",
    "a\x00b",
    "\ud83d",  # half an emoji, as JavaScript's substring leaves it
    "\udc00x",
    "<b>bold</b> & <i>",
    "&amp;&lt;",
    "\u200b\u200d\ufeff",
    "\u202eevil\u202c",
    "\u05e9\u05dc\u05d5\u05dd",
    "😀👍🏽",
    "Ω≈ç√",
    "%s%n{0}",
    "' OR 1=1 --",
    " ",
    "",
]
HOSTILE_TEXT = st.one_of(
    st.sampled_from(NASTY),
    st.text(st.characters(exclude_categories=()), max_size=30),  # surrogates included
    st.integers(min_value=256, max_value=20_000).map(lambda size: "é" * size),
)
HOSTILE_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=2**63 - 2, max_value=2**70)
    | st.floats()
    | HOSTILE_TEXT
)
JSON_VALUES = st.recursive(
    HOSTILE_SCALARS,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(HOSTILE_TEXT, children, max_size=3)
    ),
    max_leaves=8,
)


def dumps(value: object, *, escaped: bool) -> bytes:
    """JSON as bytes: with ``\\u`` escapes (the only way a lone surrogate travels) or raw UTF-8."""
    text = json.dumps(value, ensure_ascii=escaped)
    return text.encode("utf-8", "surrogatepass" if not escaped else "strict")


DEEP = st.integers(min_value=50, max_value=200_000).map(
    lambda depth: b'{"a":' * depth + b"1" + b"}" * depth
)
GARBAGE = st.one_of(
    st.binary(max_size=200),
    DEEP,
    st.just(b"[" * 100_000),
    st.just(b'{"a": 1e999999, "b": 123' + b"4" * 5000 + b"}"),
    st.just(b'{"a": "\\ud800"}'),
    st.just(b'{"a": NaN, "b": Infinity}'),
    st.just('{"a": "\ufeff"}'.encode("utf-8-sig")),
)


def generic_signature(body: bytes, stamp: str, secret: str = GENERIC_SECRET) -> dict[str, str]:
    mac = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return {
        "X-Npsbot-Timestamp": stamp,
        "X-Npsbot-Signature": f"sha256={mac}",
        "Content-Type": "application/json",
    }
