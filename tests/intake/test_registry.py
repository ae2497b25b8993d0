"""Every helpdesk in the registry is complete: a setting, its lines in the docs, a test case.

Adding a helpdesk is its module plus one line in ``bot.intake.adapters.HELPDESKS``; what must
still be written by hand elsewhere (the pydantic field, deploy/.env.example, README, the
integrations guide, the test case) is held to the registry here, so forgetting one fails.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.config import Settings
from bot.intake.adapters import HELPDESKS, HelpdeskClass, build_adapters, secret_variable
from tests.intake.cases import CASES, SECRETS
from tests.intake.conftest import settings

ROOT = Path(__file__).resolve().parents[2]
# Secrets of Settings that belong to no helpdesk.
OTHER_SECRETS = frozenset({"telegram_webhook_secret", "link_secret", "generic_webhook_secret"})
BY_NAME = pytest.mark.parametrize("helpdesk", HELPDESKS, ids=lambda helpdesk: helpdesk.name)


def test_names_are_unique_url_segments() -> None:
    names = [helpdesk.name for helpdesk in HELPDESKS]
    assert len(set(names)) == len(names)
    assert all(re.fullmatch(r"[a-z][a-z0-9]*", name) for name in names), names


def test_every_helpdesk_has_its_test_case_in_the_same_order() -> None:
    assert [case.helpdesk for case in CASES] == list(HELPDESKS)
    assert set(SECRETS) == {helpdesk.name for helpdesk in HELPDESKS}


@BY_NAME
def test_the_secret_is_an_optional_secret_setting(helpdesk: HelpdeskClass) -> None:
    field = Settings.model_fields.get(helpdesk.enabled_by)
    assert field is not None, f"add {helpdesk.enabled_by} to bot.config.Settings"
    assert field.annotation == SecretStr | None
    assert field.default is None  # unset: the endpoint answers 404 naming the variable


def test_every_secret_setting_belongs_to_a_helpdesk() -> None:
    """A helpdesk's secret added to Settings without its adapter in the registry fails here."""
    secrets = {name for name in Settings.model_fields if name.endswith("_secret")}
    assert secrets - OTHER_SECRETS == {helpdesk.enabled_by for helpdesk in HELPDESKS}


@BY_NAME
def test_the_variable_is_documented_everywhere_the_operator_looks(helpdesk: HelpdeskClass) -> None:
    variable = secret_variable(helpdesk)
    env_example = (ROOT / "deploy" / ".env.example").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    guide = (ROOT / "docs" / "integrations.md").read_text(encoding="utf-8")
    assert re.search(rf"^# {variable}=$", env_example, re.M), "deploy/.env.example"
    row = next(line for line in readme.splitlines() if "Each helpdesk's webhook secret" in line)
    assert f"`{variable}`" in row, "README's configuration table"
    assert re.search(rf"^\| [^|]+ \| `{helpdesk.name}` \| .* \| `{variable}` \|$", guide, re.M), (
        "the table of docs/integrations.md"
    )
    assert f"/api/v1/webhooks/{helpdesk.name}" in guide, "its setup in docs/integrations.md"
    routes = readme.split("POST /api/v1/webhooks/{", 1)[1].split("}", 1)[0].split(",")
    assert helpdesk.name in routes, "README's list of webhook routes"


@BY_NAME
def test_a_set_secret_makes_the_adapter_and_only_it(helpdesk: HelpdeskClass) -> None:
    alone = settings(**{other.enabled_by: None for other in HELPDESKS if other is not helpdesk})
    adapters = build_adapters(alone)
    assert list(adapters) == [helpdesk.name]
    made = adapters[helpdesk.name]
    assert type(made) is helpdesk
    # configured() hands the adapter the stripped secret and the replay window of the settings.
    assert getattr(made, "secret") == SECRETS[helpdesk.name].encode()  # noqa: B009
    assert getattr(made, "max_skew") == timedelta(seconds=alone.webhook_max_skew_seconds)  # noqa: B009


@BY_NAME
def test_the_body_is_documented(helpdesk: HelpdeskClass) -> None:
    assert helpdesk.body.forms
    assert helpdesk.summary
