"""Alert routing: the setting's grammar, its error messages, and first-match-wins."""

from __future__ import annotations

import pytest

from bot.core.routing import AlertRoute, RouteField, parse_routes, route_alert

DEFAULT = -100999


def test_rules_parse_in_order_with_spaces_and_empty_rules_ignored() -> None:
    routes = parse_routes(" team: Billing = -100123 ;; Channel:email=-100456; COMPANY:ACME=42; ")
    assert routes == (
        AlertRoute(RouteField.TEAM, "Billing", -100123),
        AlertRoute(RouteField.CHANNEL, "email", -100456),
        AlertRoute(RouteField.COMPANY, "ACME", 42),
    )


def test_empty_setting_is_no_routes() -> None:
    assert parse_routes("") == ()
    assert parse_routes(" ; ") == ()


def test_a_value_may_contain_an_equals_sign_the_chat_is_after_the_last_one() -> None:
    assert parse_routes("company:A=B=-100") == (AlertRoute(RouteField.COMPANY, "A=B", -100),)


@pytest.mark.parametrize(
    "rule", ["team:Billing", "Billing=-100", "team:=-100", "team:   =-100", "=-100"]
)
def test_a_rule_without_field_value_or_chat_is_refused_naming_it(rule: str) -> None:
    with pytest.raises(ValueError, match="must look like 'team:Billing=-100123'") as error:
        parse_routes(f"channel:email=-1; {rule}")
    assert repr(rule.strip()) in str(error.value)


def test_an_unknown_field_is_refused_listing_the_known_ones() -> None:
    with pytest.raises(ValueError, match="is not one of team, channel, company") as error:
        parse_routes("agent:Ivan=-100")
    assert str(error.value).startswith("route 'agent:Ivan=-100': 'agent'")
    with pytest.raises(ValueError, match="route ':x=-1': '' is not one of"):
        parse_routes(":x=-1")


def test_a_chat_that_is_not_a_number_is_refused_naming_it() -> None:
    with pytest.raises(ValueError, match="'billing-chat' is not a chat id") as error:
        parse_routes("team:Billing=billing-chat")
    assert "route 'team:Billing=billing-chat'" in str(error.value)
    with pytest.raises(ValueError, match="route 'team:Billing=': '' is not a chat id"):
        parse_routes("team:Billing=")


ROUTES = parse_routes("team:Billing=-1; channel:email=-2; company:ACME=-3; team:billing=-4")


def test_first_matching_rule_wins() -> None:
    chat = route_alert(ROUTES, team="Billing", channel="email", company="ACME", default=DEFAULT)
    assert chat == -1
    assert route_alert(ROUTES, team="L2", channel="email", company="ACME", default=DEFAULT) == -2
    assert route_alert(ROUTES, team="L2", channel="chat", company="ACME", default=DEFAULT) == -3


def test_matching_ignores_case_and_surrounding_spaces() -> None:
    assert route_alert(ROUTES, team=" BILLING ", channel=None, company=None, default=None) == -1
    assert route_alert(ROUTES, team=None, channel="EMAIL", company=None, default=None) == -2
    assert route_alert(ROUTES, team=None, channel=None, company="acme", default=None) == -3


def test_a_partial_value_is_no_match() -> None:
    assert route_alert(ROUTES, team="Billing EU", channel=None, company="AC", default=None) is None


def test_no_match_goes_to_the_default_which_may_be_none() -> None:
    assert route_alert(ROUTES, team="L2", channel="chat", company="Globex", default=DEFAULT) == (
        DEFAULT
    )
    assert route_alert(ROUTES, team=None, channel=None, company=None, default=None) is None
    assert route_alert((), team="Billing", channel=None, company=None, default=DEFAULT) == DEFAULT
