"""What managers read: alert text, progress lines and buttons, escaped and in their time zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.i18n import translator
from bot.intake.adapters import helpdesk_names
from bot.managers.alert_texts import (
    ALERT_COMMENT_LIMIT,
    RELAY_LIMIT,
    AlertTexts,
    AlertView,
    recovery_payload,
    relay_to_client_payload,
    ticket_url,
)
from storage.models import AlertCase, Customer, Survey, Ticket
from storage.survey_queries import SurveyContext

MOSCOW = ZoneInfo("Europe/Moscow")  # UTC+3 all year
TEMPLATE = "https://help.example/tickets/{id}"
CLOSED = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
TAKEN = datetime(2026, 11, 20, 9, 5, tzinfo=UTC)  # 12:05 in Moscow
CASE_ID = 42
HELPDESKS = helpdesk_names()
TEXTS = AlertTexts(translator("en"), MOSCOW, TEMPLATE, HELPDESKS)


def make_view(
    *,
    score: int | None = 3,
    comment: str | None = "Slow",
    name: str | None = "Anna",
    external_id: str = "zendesk:123",
    company: str | None = "Globex",
    customer_company: str | None = None,
    agent: str | None = "Ivan",
    team: str | None = "L2",
    channel: str | None = "email",
    completed: bool = True,
    voice_seconds: int | None = None,
    history: list[int] | None = None,
    case: AlertCase | None = None,
) -> AlertView:
    customer = Customer(
        id=1, helpdesk_id="c-1", name=name, company=customer_company, created_at=CLOSED
    )
    ticket = Ticket(id=2, external_id=external_id, customer_id=1, created_at=CLOSED)
    survey = Survey(
        id=3,
        ticket_id=2,
        customer_id=1,
        status="answered",
        closed_at=CLOSED,
        agent=agent,
        team=team,
        channel=channel,
        company=company,
        due_at=CLOSED,
        score=score,
        comment=comment,
        voice_file_id="voice-1" if voice_seconds is not None else None,
        voice_seconds=voice_seconds,
        completed_at=CLOSED if completed else None,
        created_at=CLOSED,
    )
    return AlertView(SurveyContext(survey, ticket, customer), case, history or [])


def make_case(**values: Any) -> AlertCase:
    return AlertCase(
        **{"id": CASE_ID, "survey_id": 3, "chat_id": -100, "created_at": CLOSED, **values}
    )


def buttons(markup: dict[str, Any] | None) -> list[list[tuple[str, str]]]:
    assert markup is not None
    return [
        [(button["text"], button["callback_data"]) for button in row]
        for row in markup["inline_keyboard"]
    ]


@pytest.mark.parametrize(
    ("template", "external_id", "url"),
    [
        (TEMPLATE, "zendesk:123", "https://help.example/tickets/123"),
        (TEMPLATE, "jira:ABC-7", "https://help.example/tickets/ABC-7"),
        (TEMPLATE, "T-2", "https://help.example/tickets/T-2"),
        (TEMPLATE, "acme:55", "https://help.example/tickets/acme%3A55"),  # not a helpdesk's
        (TEMPLATE, "a b/c?d&e", "https://help.example/tickets/a%20b%2Fc%3Fd%26e"),
        (TEMPLATE, "zendesk:x/y", "https://help.example/tickets/x%2Fy"),
        ("https://h.example/{external_id}/{id}", "zendesk:9", "https://h.example/zendesk%3A9/9"),
        (TEMPLATE, "forgotten:abc", None),
        (None, "zendesk:123", None),
        ("", "zendesk:123", None),
    ],
)
def test_ticket_url(template: str | None, external_id: str, url: str | None) -> None:
    assert ticket_url(template, external_id, HELPDESKS) == url


def test_a_new_detractor_alert_in_full() -> None:
    text = TEXTS.text(make_view(history=[9, 3]))
    assert text == (
        "🔴 <b>Detractor: 3/10</b>\n"
        'Ticket: <a href="https://help.example/tickets/123">zendesk:123</a>\n'
        "Customer: Anna\n"
        "Company: Globex\n"
        "Agent: Ivan\n"
        "Team: L2\n"
        "Channel: email\n"
        "Scores so far: 9 → 3\n"
        "Comment:\n"
        "<blockquote>Slow</blockquote>"
    )


def test_without_a_template_the_ticket_is_shown_as_code() -> None:
    text = AlertTexts(translator("en"), MOSCOW).text(make_view(external_id="T-<2>"))
    assert "Ticket: <code>T-&lt;2&gt;</code>" in text
    assert "href" not in text
    assert "Ticket: <code>forgotten:1</code>" in TEXTS.text(make_view(external_id="forgotten:1"))


def test_client_and_helpdesk_text_is_escaped() -> None:
    view = make_view(
        comment="<b>bad</b> & <a href='x'>worse</a>",
        name="<b>Anna</b>",
        agent="Ivan & Co",
        team="<script>",
        external_id='T"1<',
    )
    text = TEXTS.text(view)
    assert "<blockquote>&lt;b&gt;bad&lt;/b&gt; &amp; &lt;a href=&#x27;x&#x27;&gt;worse" in text
    assert "Customer: &lt;b&gt;Anna&lt;/b&gt;" in text
    assert "Agent: Ivan &amp; Co" in text
    assert "Team: &lt;script&gt;" in text
    assert '<a href="https://help.example/tickets/T%221%3C">T&quot;1&lt;</a>' in text
    assert "<b>bad" not in text and "<b>Anna" not in text and "<script>" not in text


def test_facts_fall_back_and_missing_ones_are_left_out() -> None:
    view = make_view(name=None, company=None, customer_company="ACME", agent=None, team=None)
    text = TEXTS.text(view)
    assert "Customer: c-1\nCompany: ACME\nChannel: email\nComment:" in text
    assert "Agent" not in text and "Team" not in text


@pytest.mark.parametrize("history", [[], [3]])
def test_score_history_only_with_more_than_one_score(history: list[int]) -> None:
    assert "Scores so far" not in TEXTS.text(make_view(history=history))


def test_a_score_raised_out_of_the_detractor_band_says_so() -> None:
    assert TEXTS.text(make_view(score=7)).startswith(
        "🔴 <b>Score changed to 7/10: no longer a detractor</b>\n"
    )
    assert TEXTS.text(make_view(score=6)).startswith("🔴 <b>Detractor: 6/10</b>\n")
    assert TEXTS.text(make_view(score=0)).startswith("🔴 <b>Detractor: 0/10</b>\n")


def test_comment_states() -> None:
    assert TEXTS.text(make_view(comment=None, completed=False)).endswith(
        "\n<i>Waiting for a comment…</i>"
    )
    assert TEXTS.text(make_view(comment=None)).endswith("\n<i>No comment.</i>")
    assert TEXTS.text(make_view(comment=None, voice_seconds=1)).endswith(
        "\n<i>Voice comment, 1 second: below.</i>"
    )
    assert TEXTS.text(make_view(comment=None, voice_seconds=12)).endswith(
        "\n<i>Voice comment, 12 seconds: below.</i>"
    )


def test_a_long_comment_is_cut_to_the_limit() -> None:
    exact = "a" * ALERT_COMMENT_LIMIT
    assert TEXTS.text(make_view(comment=exact)).endswith(f"<blockquote>{exact}</blockquote>")
    long = "a" * (ALERT_COMMENT_LIMIT + 1)
    cut = "a" * (ALERT_COMMENT_LIMIT - 1) + "…"
    assert TEXTS.text(make_view(comment=long)).endswith(f"<blockquote>{cut}</blockquote>")


def test_an_open_case_adds_nothing_until_it_is_reannounced() -> None:
    bare = TEXTS.text(make_view())
    assert TEXTS.text(make_view(case=make_case())) == bare
    reminded = TEXTS.text(make_view(case=make_case(reannounce_count=1)))
    assert reminded == bare + "\n\n⏰ Nobody has taken this yet"


def test_taken_and_contacted_in_the_managers_time_zone() -> None:
    case = make_case(
        status="taken",
        taken_by=7,
        taken_by_name="<Olga>",
        taken_at=TAKEN,
        reannounce_count=2,  # taken: the reminder line goes
        first_contact_at=TAKEN + timedelta(minutes=30),
    )
    text = TEXTS.text(make_view(case=case))
    assert text.endswith(
        "<blockquote>Slow</blockquote>\n\n"
        "🙋 Taken by &lt;Olga&gt; at 20.11 12:05\n"
        "💬 Client contacted at 20.11 12:35"
    )


def test_resolved_case_shows_who_steps_and_escaped_note() -> None:
    case = make_case(
        status="resolved",
        taken_by_name="Olga",
        taken_at=TAKEN,
        resolved_by_name="Olga",
        resolved_at=TAKEN + timedelta(hours=13),  # the next day in Moscow
        checklist=["fix", "apologise", "bogus"],
        resolution_note="Refund <issued>",
    )
    text = TEXTS.text(make_view(case=case))
    assert text.endswith(
        "🙋 Taken by Olga at 20.11 12:05\n"
        "✅ Resolved by Olga at 21.11 01:05\n"
        "Done: Fixed it, Apologised\n"
        "Note:\n<blockquote>Refund &lt;issued&gt;</blockquote>"
    )


def test_resolved_without_a_name_or_steps() -> None:
    case = make_case(status="resolved", resolved_at=TAKEN)
    text = TEXTS.text(make_view(case=case))
    assert text.endswith("\n\n✅ Resolved by ? at 20.11 12:05")
    assert "Done:" not in text and "Note" not in text


def test_resolution_lines_need_the_resolved_status() -> None:
    case = make_case(status="taken", resolved_at=TAKEN, checklist=["fix"], resolution_note="x")
    text = TEXTS.text(make_view(case=case))
    assert "Resolved by" not in text and "Done:" not in text and "Note" not in text


@pytest.mark.parametrize(
    ("answered", "answer", "line", "absent"),
    [
        (False, None, "❔ Asked the client whether we made it right", "Client says"),
        (True, True, "💚 Client says we made it right", "❔"),
        (True, False, "💔 Client says we did not make it right", "❔"),
    ],
)
def test_recovery_lines(answered: bool, answer: bool | None, line: str, absent: str) -> None:
    case = make_case(
        status="resolved",
        resolved_by_name="Olga",
        resolved_at=TAKEN,
        recovery_asked_at=TAKEN,
        recovery_answer=answer,
        recovery_answered_at=TAKEN if answered else None,
    )
    text = TEXTS.text(make_view(case=case))
    assert text.endswith("\n" + line)
    assert absent not in text


def test_keyboard_of_an_open_case() -> None:
    assert buttons(TEXTS.keyboard(make_case())) == [
        [("🙋 Take it", "case:42:take"), ("✅ Resolved", "case:42:resolve")],
        [("💬 Reply to client", "case:42:reply")],
    ]


def test_keyboard_of_a_taken_case() -> None:
    assert buttons(TEXTS.keyboard(make_case(status="taken"))) == [
        [("✅ Resolved", "case:42:resolve")],
        [("💬 Reply to client", "case:42:reply")],
    ]


def test_keyboard_of_a_resolved_case_only_replies() -> None:
    assert buttons(TEXTS.keyboard(make_case(status="resolved"))) == [
        [("💬 Reply to client", "case:42:reply")]
    ]


def test_checklist_keyboard_ticks_the_steps_done() -> None:
    case = make_case(status="taken", checklist=["apologise", "tell"])
    assert buttons(TEXTS.keyboard(case, checklist=True)) == [
        [("☐ Acknowledged the problem", "case:42:step:0")],
        [("☑ Apologised", "case:42:step:1")],
        [("☐ Fixed it", "case:42:step:2")],
        [("☑ Told the client what was done", "case:42:step:3")],
        [("☐ Thanked the client", "case:42:step:4")],
        [("✅ Save as resolved", "case:42:done"), ("Back", "case:42:back")],
    ]


def test_no_case_or_no_id_means_no_keyboard() -> None:
    assert TEXTS.keyboard(None) is None
    assert TEXTS.keyboard(AlertCase(survey_id=3, chat_id=-100, created_at=CLOSED)) is None
    assert "reply_markup" not in TEXTS.payload(make_view())


def test_payload_is_html_with_the_state_keyboard() -> None:
    view = make_view(case=make_case(status="taken"))
    payload = TEXTS.payload(view, checklist=True)
    assert payload["parse_mode"] == "HTML"
    assert payload["text"] == TEXTS.text(view)
    assert buttons(payload["reply_markup"])[0] == [("☐ Acknowledged the problem", "case:42:step:0")]


@pytest.mark.parametrize(
    ("waited", "shown"),
    [
        (timedelta(hours=1), "1 hour"),
        (timedelta(hours=1, minutes=59), "1 hour"),
        (timedelta(hours=4, seconds=5), "4 hours"),
        (timedelta(hours=24), "24 hours"),
        (timedelta(minutes=30), "30 minutes"),
        (timedelta(minutes=1, seconds=30), "1 minute"),
    ],
)
def test_reannounce_payload_replies_to_the_alert(waited: timedelta, shown: str) -> None:
    assert TEXTS.reannounce_payload(alert_message_id=555, waited=waited) == {
        "text": f"⏰ Nobody has taken this detractor for {shown}.",
        "parse_mode": "HTML",
        "reply_to_message_id": 555,
    }


def test_client_answer_is_escaped_cut_and_offers_a_reply() -> None:
    long = "<" * (RELAY_LIMIT + 5)
    payload = TEXTS.client_answered_payload(make_view(), CASE_ID, long)
    cut = "&lt;" * (RELAY_LIMIT - 1) + "…"
    assert payload["text"] == (
        f"The client of ticket zendesk:123 answered:\n<blockquote>{cut}</blockquote>"
    )
    assert buttons(payload["reply_markup"]) == [[("💬 Reply to client", "case:42:reply")]]


def test_relay_to_client_escapes_company_ticket_and_text() -> None:
    payload = relay_to_client_payload(
        translator("en"), company="ACME & Co", ticket="T-2", text="We refunded <today>"
    )
    assert payload["text"] == (
        "A message from ACME &amp; Co about your request T-2:\n\n"
        "We refunded &lt;today&gt;\n\n<i>You can answer right here.</i>"
    )


def test_recovery_question_buttons() -> None:
    payload = recovery_payload(translator("en"), case_id=CASE_ID, ticket="T-2")
    assert "request T-2. Did we make it right?" in payload["text"]
    assert buttons(payload["reply_markup"]) == [[("👍 Yes", "fix:42:yes"), ("👎 No", "fix:42:no")]]


def test_open_cases_list() -> None:
    now = CLOSED + timedelta(hours=2, minutes=59)
    taken = make_view(case=make_case(status="taken", taken_by_name="Olga & Co"))
    fresh = make_view(
        score=0, external_id="T-9", case=make_case(created_at=now - timedelta(minutes=70))
    )
    assert TEXTS.open_cases_text([taken, fresh], now) == (
        "<b>2 open cases</b>\n"
        "• 3/10 · <code>zendesk:123</code> · 2 hours ago · taken by Olga &amp; Co\n"
        "• 0/10 · <code>T-9</code> · 1 hour ago · nobody has taken it"
    )
    assert TEXTS.open_cases_text([], now) == "No open cases. Well done!"


def test_russian_header() -> None:
    texts = AlertTexts(translator("ru"), MOSCOW)
    assert texts.text(make_view()).startswith("🔴 <b>Критик: 3/10</b>\n")
