"""What each helpdesk does differently: attribution, duplicates of one closing, fallbacks."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest

from bot.core.tickets import TicketClosed
from bot.intake.adapters import Ignored, PayloadError, SignatureError, TicketReopened
from tests.intake.cases import BY_NAME, NOW, Json, encode, load

ZENDESK, FRESHDESK, ZAMMAD = BY_NAME["zendesk"], BY_NAME["freshdesk"], BY_NAME["zammad"]
HELPSCOUT, CHATWOOT, JIRA = BY_NAME["helpscout"], BY_NAME["chatwoot"], BY_NAME["jira"]


def closed(case_name: str, data: Json, headers: dict[str, str] | None = None) -> TicketClosed:
    case = BY_NAME[case_name]
    body = encode(data)
    event = case.adapter().parse(headers=headers or case.headers(body), body=body)
    assert isinstance(event, TicketClosed)
    return event


def test_zendesk_event_attribution_is_by_ids_because_events_carry_no_names() -> None:
    event = closed("zendesk", ZENDESK.body())
    assert (event.agent, event.team, event.channel) == (
        "8447388090494",
        "8447320466430",
        "web_form",
    )
    assert event.tags == ("mobile", "crash")
    assert event.customer.name is None


def test_zendesk_solved_ticket_closed_later_by_zendesk_is_not_a_second_closing() -> None:
    data = ZENDESK.body({"event.current": "CLOSED", "event.previous": "SOLVED"})
    body = encode(data)
    event = ZENDESK.adapter().parse(headers=ZENDESK.headers(body), body=body)
    assert isinstance(event, Ignored)


def test_zendesk_trigger_body_carries_names_language_and_tags() -> None:
    event = closed("zendesk", load("zendesk_trigger_solved.json"))
    assert event.ticket_id == "zendesk:5158"
    assert event.closed_at == datetime(2026, 11, 18, 9, 45, tzinfo=UTC)
    assert event.customer.helpdesk_id == "zendesk:8447388090495"
    assert (event.customer.name, event.customer.language) == ("Anna Smirnova", "ru")
    assert (event.customer.company, event.customer.telegram_user_id) == ("Globex", None)
    assert (event.agent, event.team, event.channel) == ("Ivan Petrov", "L2 support", "web form")
    assert event.tags == ("mobile", "crash")


def test_zendesk_trigger_reopening_and_creation() -> None:
    for status, expected in (
        ("Open", TicketReopened("zendesk:5158")),
        ("New", Ignored("ticket created")),
    ):
        data = load("zendesk_trigger_solved.json")
        data["ticket"]["status"] = status
        body = encode(data)
        assert ZENDESK.adapter().parse(headers=ZENDESK.headers(body), body=body) == expected


def test_zendesk_trigger_without_time_falls_back_to_the_signature_timestamp() -> None:
    data = load("zendesk_trigger_solved.json")
    data["ticket"]["updated_at"] = ""
    event = closed("zendesk", data)
    assert event.closed_at == datetime(2026, 11, 18, 9, 45, 21, tzinfo=UTC)


def test_freshdesk_maps_names_and_prefers_the_mobile_number() -> None:
    event = closed("freshdesk", FRESHDESK.body())
    assert event.customer.phone == "+79001234567" and event.customer.language == "ru"
    assert (event.agent, event.team, event.channel) == ("Ivan Petrov", "Billing", "email")
    assert event.tags == ("billing", "refund")


@pytest.mark.parametrize("status", ["4", "5", 5, "Closed", "resolved"])
def test_freshdesk_accepts_status_numbers_and_names(status: object) -> None:
    data = FRESHDESK.body({"freshdesk_webhook.ticket_status": status})
    data["freshdesk_webhook"].pop("triggered_event")
    assert closed("freshdesk", data).ticket_id == "freshdesk:1042"


@pytest.mark.parametrize(
    "triggered", ["{status:{from:4,to:5}}", "{note_type:public}", "{priority:{from:1,to:3}}"]
)
def test_freshdesk_resolved_then_closed_and_other_updates_are_ignored(triggered: str) -> None:
    data = FRESHDESK.body(
        {"freshdesk_webhook.triggered_event": triggered, "freshdesk_webhook.ticket_status": "5"}
    )
    body = encode(data)
    assert isinstance(FRESHDESK.adapter().parse(headers={}, body=body), Ignored)


def test_freshdesk_without_requester_id_keys_the_customer_by_a_hash_never_the_address() -> None:
    data = FRESHDESK.body({"freshdesk_webhook.requester_id": ""})
    data["freshdesk_webhook"]["requester_email"] = " Anna@Example.com "
    event = closed("freshdesk", data)
    digest = hashlib.sha256(b"anna@example.com").hexdigest()[:32]
    assert event.customer.helpdesk_id == f"freshdesk:email-{digest}"
    assert "example" not in repr(event)


def test_freshdesk_flat_body_without_the_wrapper_is_read_too() -> None:
    flat = FRESHDESK.body()["freshdesk_webhook"]
    assert closed("freshdesk", flat).ticket_id == "freshdesk:1042"


def test_freshdesk_wrong_shared_secret_is_refused() -> None:
    with pytest.raises(SignatureError, match="wrong"):
        FRESHDESK.adapter().verify(headers={"X-Npsbot-Secret": "guess"}, body=b"{}", now=NOW)


def test_zammad_maps_owner_group_organization_and_phone() -> None:
    event = closed("zammad", ZAMMAD.body())
    assert (event.agent, event.team, event.channel) == ("Emma Taylor", "Service Desk", "email")
    assert event.customer.company == "Awesome Customer Inc."
    assert event.customer.name == "Emily Adams" and event.customer.phone == "0061 2 1234 7777"
    assert event.tags == ("printer",)


def test_zammad_closing_time_is_the_last_closing_not_the_first() -> None:
    data = ZAMMAD.body({"ticket.close_at": "2026-10-01T10:00:00Z"})
    assert closed("zammad", data).closed_at == datetime(2026, 11, 18, 9, 45, 1, tzinfo=UTC)
    older = ZAMMAD.body({"ticket.last_close_at": ...})
    assert closed("zammad", older).closed_at == datetime(2026, 11, 18, 9, 45, 1, 333000, tzinfo=UTC)


def test_zammad_unassigned_ticket_has_no_agent() -> None:
    data = ZAMMAD.body({"ticket.owner": {"id": 1, "firstname": "-", "lastname": ""}})
    assert closed("zammad", data).agent is None


@pytest.mark.parametrize("state", ["merged", "removed"])
def test_zammad_merged_or_removed_ticket_is_ignored(state: str) -> None:
    body = encode(ZAMMAD.body({"ticket.state": state}))
    assert isinstance(ZAMMAD.adapter().parse(headers={}, body=body), Ignored)


def test_helpscout_maps_assignee_source_and_tag_objects() -> None:
    event = closed("helpscout", HELPSCOUT.body())
    assert (event.agent, event.channel, event.tags) == ("Ivan Petrov", "email", ("vip",))
    assert event.customer.name == "Anna Smirnova"


def test_helpscout_needs_the_event_header() -> None:
    body = encode(HELPSCOUT.body())
    with pytest.raises(PayloadError, match="X-HelpScout-Event"):
        HELPSCOUT.adapter().parse(headers={}, body=body)


def test_helpscout_spam_is_ignored() -> None:
    body = encode(HELPSCOUT.body({"status": "spam"}))
    headers = {"X-HelpScout-Event": "convo.status"}
    assert isinstance(HELPSCOUT.adapter().parse(headers=headers, body=body), Ignored)


def test_chatwoot_telegram_contact_comes_with_its_telegram_id() -> None:
    event = closed("chatwoot", CHATWOOT.body())
    assert event.customer.telegram_user_id == 123456789 and event.customer.language == "ru"
    assert (event.agent, event.team, event.channel) == ("Ivan", "support", "telegram")
    assert event.tags == ("billing", "vip")


def test_chatwoot_telegram_id_is_not_trusted_from_other_inboxes() -> None:
    event = closed("chatwoot", CHATWOOT.body({"channel": "Channel::WebWidget"}))
    assert event.customer.telegram_user_id is None


def test_chatwoot_without_signature_accepts_the_shared_secret_header() -> None:
    adapter = CHATWOOT.adapter()
    adapter.verify(headers={"X-Npsbot-Secret": CHATWOOT.secret}, body=b"{}", now=NOW)
    with pytest.raises(SignatureError):
        adapter.verify(headers={"X-Npsbot-Secret": "guess"}, body=b"{}", now=NOW)


def test_chatwoot_snoozed_is_ignored() -> None:
    body = encode(CHATWOOT.body({"status": "snoozed"}))
    assert isinstance(CHATWOOT.adapter().parse(headers={}, body=body), Ignored)


def test_jira_maps_reporter_assignee_project_and_labels() -> None:
    event = closed("jira", JIRA.body())
    assert (event.agent, event.team, event.tags) == (
        "Ivan Petrov",
        "Customer Support",
        ("login", "vip"),
    )
    assert event.customer.name == "Anna Smirnova"


def test_jira_resolved_then_closed_keeps_the_same_closing_time() -> None:
    data = JIRA.body({"timestamp": 1795000000000})
    data["changelog"]["items"] = [
        {"field": "status", "fieldId": "status", "fromString": "Resolved", "toString": "Closed"}
    ]
    assert closed("jira", data).closed_at == closed("jira", JIRA.body()).closed_at


def test_jira_resolution_cleared_without_status_category_is_a_reopening() -> None:
    data = JIRA.body({"issue.fields.status": {"name": "Open"}, "issue.fields.resolution": None})
    data["changelog"]["items"] = [{"field": "resolution", "from": "10000", "to": None}]
    body = encode(data)
    assert JIRA.adapter().parse(headers={}, body=body) == TicketReopened("jira:SUP-42")


def test_jira_edit_without_transition_is_ignored() -> None:
    data = JIRA.body()
    data["changelog"]["items"] = [{"field": "summary", "fromString": "a", "toString": "b"}]
    assert isinstance(JIRA.adapter().parse(headers={}, body=encode(data)), Ignored)


def test_closing_without_any_time_falls_back_to_the_clock() -> None:
    data = JIRA.body({"issue.fields.resolutiondate": None, "timestamp": ...})
    assert closed("jira", data).closed_at == NOW
