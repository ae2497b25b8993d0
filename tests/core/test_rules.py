"""Survey rules with time passed in: delay, skip rules, throttle, reminder, expiry."""

from datetime import UTC, datetime, timedelta

from bot.core.rules import SurveyRules
from bot.core.tickets import CustomerInfo, TicketClosed

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
RULES = SurveyRules(skip_tags=frozenset({"spam"}), skip_channels=frozenset({"auto-close"}))


def closing(**changes: object) -> TicketClosed:
    base = {"ticket_id": "T-1", "closed_at": NOW, "customer": CustomerInfo(helpdesk_id="c")}
    return TicketClosed(**{**base, **changes})  # type: ignore[arg-type]


def test_defaults_match_the_issue() -> None:
    rules = SurveyRules()
    assert rules.due_at(NOW) == NOW + timedelta(minutes=30)
    assert rules.throttle_free_since(NOW) == NOW - timedelta(days=30)
    assert rules.reminder_due_before(NOW) == NOW - timedelta(hours=24)
    assert rules.expiry_cutoff(NOW) == NOW - timedelta(days=7)


def test_skip_rules_by_tag_or_channel_ignore_case() -> None:
    assert RULES.skip_reason(closing(tags=("VIP", "Spam"))) == "tag:spam"
    assert RULES.skip_reason(closing(channel="Auto-Close")) == "channel:auto-close"
    assert RULES.skip_reason(closing(tags=("vip",), channel="email")) is None


def test_reminders_can_be_turned_off() -> None:
    assert SurveyRules(reminder_after=None).reminder_due_before(NOW) is None
