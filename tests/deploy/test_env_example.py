"""deploy/.env.example lists every setting of bot/config.py, each with its default.

Settings are added in parallel by several people; this test is what keeps the file true: a
new field without a line here fails, as does a line for a setting that no longer exists or a
shown default that is not the code's.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.config import Settings, load_settings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
ENV_EXAMPLE = DEPLOY / ".env.example"
PREFIX = "NPSBOT_"
# Read by Docker Compose itself (deploy/compose.yaml), not by npsbot.
COMPOSE_VARIABLES = frozenset({"COMPOSE_PROJECT_NAME", "POSTGRES_PASSWORD", "HTTP_PUBLISH"})
LINE = re.compile(r"^(?P<commented>#\s*)?(?P<name>[A-Z][A-Z0-9_]*)=(?P<value>.*)$")


@dataclass(frozen=True)
class Entry:
    """One ``NAME=value`` line of the example, set or commented out."""

    name: str
    value: str
    commented: bool
    line: int
    comment_above: bool


def entries() -> list[Entry]:
    lines = ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
    found = []
    for number, text in enumerate(lines):
        match = LINE.match(text)
        if match is None:
            continue
        above = lines[number - 1] if number else ""
        found.append(
            Entry(
                name=match["name"],
                value=match["value"],
                commented=match["commented"] is not None,
                line=number + 1,
                comment_above=above.startswith("#") and LINE.match(above) is None,
            )
        )
    return found


def variable(field: str) -> str:
    return PREFIX + field.upper()


def test_every_setting_is_listed_once() -> None:
    names = [entry.name for entry in entries()]
    missing = sorted(
        variable(field) for field in Settings.model_fields if variable(field) not in names
    )
    duplicated = sorted({name for name in names if names.count(name) > 1})
    assert not missing, f"add these settings to deploy/.env.example: {missing}"
    assert not duplicated, f"listed more than once in deploy/.env.example: {duplicated}"


def test_every_listed_variable_is_a_setting_or_read_by_compose() -> None:
    settings = {variable(field) for field in Settings.model_fields}
    unknown = [
        f"{entry.name} (line {entry.line})"
        for entry in entries()
        if entry.name not in settings and entry.name not in COMPOSE_VARIABLES
    ]
    assert not unknown, f"not settings of bot/config.py: {unknown}"


def test_compose_variables_are_the_ones_compose_yaml_reads() -> None:
    listed = {entry.name for entry in entries() if not entry.name.startswith(PREFIX)}
    compose = (DEPLOY / "compose.yaml").read_text(encoding="utf-8")
    assert listed == COMPOSE_VARIABLES
    for name in COMPOSE_VARIABLES - {"COMPOSE_PROJECT_NAME"}:  # Compose reads that one itself
        assert "${" + name in compose, f"{name} is listed but compose.yaml does not use it"


def test_every_variable_has_a_comment_line_above_it() -> None:
    bare = [entry.name for entry in entries() if not entry.comment_above]
    assert not bare, f"give these a one-line comment in deploy/.env.example: {bare}"


def test_empty_values_are_settings_without_a_default() -> None:
    """An empty line shows "no default"; anything else must show the default itself."""
    for entry in entries():
        if entry.value or not entry.name.startswith(PREFIX):
            continue
        field = Settings.model_fields[entry.name.removeprefix(PREFIX).lower()]
        default = field.get_default(call_default_factory=True)
        assert default in (None, [], {}), f"{entry.name} shows no value but defaults to {default!r}"


def test_shown_defaults_are_the_code_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each shown value, read the way npsbot reads it, gives exactly the field's default."""
    for name in [name for name in os.environ if name.startswith(PREFIX)]:
        monkeypatch.delenv(name)
    shown = {
        entry.name: entry.value
        for entry in entries()
        if entry.value and entry.name.startswith(PREFIX)
    }
    env_file = tmp_path / "shown.env"
    env_file.write_text("".join(f"{name}={value}\n" for name, value in shown.items()))
    read = load_settings(_env_file=env_file)
    wrong = {}
    for name, value in shown.items():
        field = name.removeprefix(PREFIX).lower()
        default = Settings.model_fields[field].get_default(call_default_factory=True)
        if getattr(read, field) != default:
            wrong[name] = (value, default)
    assert not wrong, f"shown value -> code default: {wrong}"
    assert len(shown) > 20  # the check above must have had something to compare


def test_the_file_as_shipped_is_valid_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Copied unchanged, the example loads: no uncommented empty number to trip over."""
    for name in [name for name in os.environ if name.startswith(PREFIX)]:
        monkeypatch.delenv(name)
    settings = load_settings(_env_file=ENV_EXAMPLE)
    assert settings.telegram_token is not None
    assert settings.telegram_token.get_secret_value() == ""  # the one line to fill in
