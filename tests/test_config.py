"""Settings from the environment, as an operator writes them."""

import pytest

from bot.config import load_settings


def test_comma_lists_and_switching_reminders_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NPSBOT_SKIP_TAGS", "spam, Auto-Closed ,")
    monkeypatch.setenv("NPSBOT_SKIP_CHANNELS", "voice")
    monkeypatch.setenv("NPSBOT_REMINDER_HOURS", "0")
    settings = load_settings(_env_file=None)
    rules = settings.survey_rules
    assert rules.skip_tags == frozenset({"spam", "auto-closed"})
    assert rules.skip_channels == frozenset({"voice"})
    assert rules.reminder_after is None


def test_bad_time_zone_and_cron_are_refused_with_a_clear_message(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NPSBOT_TIMEZONE", "Mars/Olympus")
    with pytest.raises(ValueError, match="IANA name"):
        load_settings(_env_file=None)
    monkeypatch.setenv("NPSBOT_TIMEZONE", "UTC")
    monkeypatch.setenv("NPSBOT_DIGEST_CRON", "every monday")
    with pytest.raises(ValueError, match="digest_cron"):
        load_settings(_env_file=None)
