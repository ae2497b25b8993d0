"""Outbox payloads keep the JSON that earlier versions stored: rows are read back, not migrated.

The payload types (bot.delivery.payloads) replaced plain dicts; these hold the builders that
were rewritten for them to the exact JSON text the dicts gave, key order included.
"""

from __future__ import annotations

import base64
import json

from bot.delivery.payloads import document_payload, file_bytes, photo_payload
from bot.i18n import translator
from bot.survey import texts

TR = translator("en")


def test_a_file_is_stored_as_before_and_read_back() -> None:
    photo = photo_payload(b"\x89PNG", "nps.png", caption="NPS by period")

    assert json.dumps(photo) == json.dumps(
        {
            "photo": {"filename": "nps.png", "base64": base64.b64encode(b"\x89PNG").decode()},
            "caption": "NPS by period",
        }
    )
    assert file_bytes(photo["photo"]) == b"\x89PNG"
    document = document_payload(b"a;b\n", "nps.csv", caption="Responses")
    assert list(document) == ["document", "caption"]
    assert list(document["document"]) == ["filename", "base64"]


def test_the_answered_question_keeps_its_key_order() -> None:
    closed = texts.answered_payload(TR, company="ACME", ticket="T-1", score=7)
    still_open = texts.answered_payload(
        TR, company="ACME", ticket="T-1", score=7, survey_id=5, change_minutes=10
    )

    assert list(closed) == ["parse_mode", "text"]
    assert list(still_open) == ["parse_mode", "reply_markup", "text"]
    assert "10 minutes" in still_open["text"]
    assert "10 minutes" not in closed["text"]


def test_the_thanks_keep_their_key_order() -> None:
    plain = texts.thanks_payload(TR, score=9)
    with_review = texts.thanks_payload(TR, score=9, review_url="https://example.com/review")

    assert list(plain) == ["parse_mode", "text"]
    assert list(with_review) == ["parse_mode", "reply_markup", "text"]
    assert with_review["reply_markup"]["inline_keyboard"][0][0]["url"] == (
        "https://example.com/review"
    )
    assert "public review" in with_review["text"]
    assert "public review" not in plain["text"]
