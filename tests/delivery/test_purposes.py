"""The outbox purposes are one registry: every purpose the code stores is a member of it.

A purpose written as a string somewhere would be a name nobody else can find (the metrics'
labels, the hooks, ``/stop``'s withdrawals); these tests make that a failure, not a habit.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import inspect

from bot.config import Settings
from bot.delivery.purposes import PRIORITY, Purpose, hooks_of
from bot.delivery.results import PurposeHooks
from bot.services import build_services
from storage.models import OutboxMessage
from storage.outbox import Priority, priority_of

ROOT = Path(__file__).resolve().parents[2]


def _literal_purposes(package: str) -> Iterator[tuple[str, int, str]]:
    """``purpose="..."`` arguments and ``.purpose == "..."`` comparisons, with where they are."""
    for path in sorted((ROOT / package).rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.keyword) and node.arg == "purpose":
                value = node.value
            elif (
                isinstance(node, ast.Compare)
                and isinstance(node.left, ast.Attribute)
                and node.left.attr == "purpose"
            ):
                value = node.comparators[0]
            else:
                continue
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                yield str(path.relative_to(ROOT)), value.lineno, value.value


def test_the_bot_names_every_purpose_by_its_member() -> None:
    literal = [f"{path}:{line} {value!r}" for path, line, value in _literal_purposes("bot")]
    assert not literal, f"use bot.delivery.purposes.Purpose instead of: {literal}"


def test_every_purpose_storage_reads_is_registered() -> None:
    """storage must not import bot.delivery, so it may spell one; it must still be a member."""
    spelled = {value for _path, _line, value in _literal_purposes("storage")}
    assert spelled <= {purpose.value for purpose in Purpose}


def test_every_purpose_fits_the_column() -> None:
    length = getattr(inspect(OutboxMessage).columns["purpose"].type, "length", None)
    assert isinstance(length, int)
    assert all(len(purpose.value) <= length for purpose in Purpose)


async def test_the_purposes_whose_results_change_state_are_hooked(tmp_path: Path) -> None:
    """A survey becomes "sent", a refused digest may be posted again, a relay the client never
    got is reported, an invitation moves: only if the wiring hooks these purposes."""
    settings = Settings(
        telegram_token="123456:TEST",  # type: ignore[arg-type]
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'npsbot.db'}",
        _env_file=None,  # type: ignore[call-arg]
    )
    services = build_services(settings)
    hooked = set(services.dispatcher.hooks)
    stored_row_finds = services.dispatcher.hooks.get("survey")  # a row read back holds a str
    await services.close()
    assert stored_row_finds is not None
    assert hooked == {
        Purpose.SURVEY,
        Purpose.DIGEST,
        Purpose.LOOP,
        Purpose.ENPS_QUESTION,
        Purpose.ENPS_DIGEST,
    }


class _Owner:
    def __init__(self, purpose: Purpose) -> None:
        self.purpose = purpose

    def delivery_hooks(self) -> dict[Purpose, PurposeHooks]:
        return {self.purpose: PurposeHooks()}


def test_a_purpose_has_one_owner() -> None:
    assert set(hooks_of(_Owner(Purpose.SURVEY), _Owner(Purpose.LOOP))) == {"survey", "loop"}
    with pytest.raises(ValueError, match="'survey'"):
        hooks_of(_Owner(Purpose.SURVEY), _Owner(Purpose.SURVEY))


def test_every_purpose_declares_whether_it_goes_before_bulk_sends() -> None:
    assert set(PRIORITY) == set(Purpose)
    assert {purpose for purpose in Purpose if purpose.priority is Priority.INTERACTIVE} == {
        Purpose.CLIENT,
        Purpose.ALERT,
        Purpose.LOOP,
        Purpose.COMMAND,
        Purpose.EXPORT,
        Purpose.ENPS_MEMBER,
    }
    assert priority_of(Purpose.SURVEY) is Priority.BULK
    assert priority_of(Purpose.COMMAND) is Priority.INTERACTIVE
    assert priority_of("command") is Priority.BULK  # a string read back names no priority
