"""Outbox payloads keep the JSON that earlier versions stored: rows are read back, not migrated.

The payload types (bot.delivery.payloads) replaced plain dicts; these hold the builders that
were rewritten for them to the keys and values the dicts gave.
"""

from __future__ import annotations

import base64

from bot.delivery.payloads import document_payload, file_bytes, photo_payload
from bot.i18n import translator
from bot.survey import texts

TR = translator("en")


def test_a_file_is_stored_as_before_and_read_back() -> None:
    photo = photo_payload(b"\x89PNG", "nps.png", caption="NPS by period")

    assert photo == {
        "photo": {"filename": "nps.png", "base64": base64.b64encode(b"\x89PNG").decode()},
        "caption": "NPS by period",
    }
    assert file_bytes(photo["photo"]) == b"\x89PNG"
    document = document_payload(b"a;b\n", "nps.csv", caption="Responses")
    assert document == {
        "document": {"filename": "nps.csv", "base64": base64.b64encode(b"a;b\n").decode()},
        "caption": "Responses",
    }


def test_the_answered_question_keeps_its_keyboard_only_while_it_may_change() -> None:
    closed = texts.answered_payload(TR, company="ACME", ticket="T-1", score=7)
    still_open = texts.answered_payload(
        TR, company="ACME", ticket="T-1", score=7, survey_id=5, change_minutes=10
    )

    assert set(closed) == {"parse_mode", "text"}
    assert set(still_open) == {"parse_mode", "reply_markup", "text"}
    assert closed["parse_mode"] == still_open["parse_mode"] == "HTML"
    assert still_open["text"].startswith(closed["text"])
    assert "10 minutes" in still_open["text"]
    assert "10 minutes" not in closed["text"]


def test_only_a_promoters_thanks_carry_the_review_link() -> None:
    plain = texts.thanks_payload(TR, score=9)
    with_review = texts.thanks_payload(TR, score=9, review_url="https://example.com/review")
    detractor = texts.thanks_payload(TR, score=3, review_url="https://example.com/review")

    assert set(plain) == set(detractor) == {"parse_mode", "text"}
    assert set(with_review) == {"parse_mode", "reply_markup", "text"}
    assert with_review["reply_markup"]["inline_keyboard"][0][0]["url"] == (
        "https://example.com/review"
    )
    assert "public review" in with_review["text"]
    assert "public review" not in plain["text"]
