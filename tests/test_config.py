"""Settings from the environment, as an operator writes them."""

import pytest
from pydantic import ValidationError

from bot.config import load_settings
from bot.core.routing import AlertRoute, RouteField


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


def test_manager_user_ids_are_a_comma_list_of_ints(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NPSBOT_MANAGER_USER_IDS", "1, 2 ,,")
    assert load_settings(_env_file=None).manager_user_ids == [1, 2]
    monkeypatch.setenv("NPSBOT_MANAGER_USER_IDS", "")
    assert load_settings(_env_file=None).manager_user_ids == []


def test_a_bad_manager_user_id_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NPSBOT_MANAGER_USER_IDS", "1, x")
    with pytest.raises(ValidationError, match="manager_user_ids") as error:
        load_settings(_env_file=None)
    assert "'x' is not a Telegram user id" in str(error.value)


def test_alert_routes_are_read_from_the_environment_in_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NPSBOT_ALERT_ROUTES", "team:Billing=-100123; company:ACME=-100456")
    monkeypatch.setenv("NPSBOT_MANAGER_CHAT_ID", "-100999")
    settings = load_settings(_env_file=None)
    assert settings.alert_routes == [
        AlertRoute(RouteField.TEAM, "Billing", -100123),
        AlertRoute(RouteField.COMPANY, "ACME", -100456),
    ]
    assert settings.manager_chats == frozenset({-100123, -100456, -100999})


def test_a_bad_alert_route_is_refused_naming_the_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NPSBOT_ALERT_ROUTES", "team:Billing=-100123; agent:Ivan=-100456")
    with pytest.raises(ValidationError, match="alert_routes") as error:
        load_settings(_env_file=None)
    assert "route 'agent:Ivan=-100456'" in str(error.value)


def test_ticket_url_template_must_contain_the_id(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NPSBOT_TICKET_URL_TEMPLATE", "https://acme.zendesk.com/agent/tickets/")
    with pytest.raises(ValidationError, match=r"ticket_url_template[\s\S]*must contain \{id\}"):
        load_settings(_env_file=None)
    template = "https://acme.zendesk.com/agent/tickets/{id}"
    monkeypatch.setenv("NPSBOT_TICKET_URL_TEMPLATE", template)
    assert load_settings(_env_file=None).ticket_url_template == template


def test_no_chats_configured_means_no_manager_chats_and_no_digest_chat(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("MANAGER_CHAT_ID", "DIGEST_CHAT_ID", "ALERT_ROUTES", "MANAGER_USER_IDS"):
        monkeypatch.delenv(f"NPSBOT_{name}", raising=False)
    settings = load_settings(_env_file=None)
    assert settings.manager_chats == frozenset()
    assert settings.digest_chat is None
    assert (settings.alert_routes, settings.manager_user_ids) == ([], [])


def test_digest_chat_defaults_to_the_manager_chat_and_counts_as_a_managers_chat(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NPSBOT_MANAGER_CHAT_ID", "-100999")
    settings = load_settings(_env_file=None)
    assert settings.digest_chat == -100999
    assert settings.manager_chats == frozenset({-100999})
    monkeypatch.setenv("NPSBOT_DIGEST_CHAT_ID", "-100777")
    settings = load_settings(_env_file=None)
    assert settings.digest_chat == -100777
    assert settings.manager_chats == frozenset({-100999, -100777})
    monkeypatch.delenv("NPSBOT_MANAGER_CHAT_ID")
    settings = load_settings(_env_file=None)
    assert (settings.digest_chat, settings.manager_chats) == (-100777, frozenset({-100777}))
