"""deploy/npsbot.service: a unit systemd accepts as written, hardened, that drains on stop.

``systemd-analyze verify`` checks every directive, but also that ExecStart's program exists,
and /opt/npsbot/venv does not exist on a build machine. So the unit is verified as a
temporary copy whose ExecStart names an interpreter that exists, all else unchanged; and the
unchanged unit is checked to draw no complaint but that one. verify exits 0 even for an
unknown directive or a bad value (it only warns), so the tests read its output.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.app import WEBHOOK_PATIENCE
from bot.config import Settings

UNIT = Path(__file__).resolve().parents[2] / "deploy" / "npsbot.service"
EXEC_START = "ExecStart=/opt/npsbot/venv/bin/npsbot run"


def analyze() -> str:
    binary = shutil.which("systemd-analyze")
    if binary is None:
        pytest.skip("systemd-analyze is not installed (apt-get install systemd); .ci/run does")
    return binary


def complaints(unit: Path, *arguments: str) -> list[str]:
    """What ``systemd-analyze verify`` says about this unit (other units' noise left out)."""
    result = subprocess.run(  # noqa: S603
        [analyze(), "verify", *arguments, str(unit)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    return [line for line in (result.stdout + result.stderr).splitlines() if unit.name in line]


def runnable_copy(tmp_path: Path) -> Path:
    copy = tmp_path / UNIT.name
    text = UNIT.read_text(encoding="utf-8")
    assert text.count(EXEC_START) == 1
    copy.write_text(text.replace(EXEC_START, f"ExecStart={sys.executable} run"))
    return copy


def test_systemd_accepts_every_directive(tmp_path: Path) -> None:
    assert complaints(runnable_copy(tmp_path)) == []


def test_the_check_catches_a_bad_directive(tmp_path: Path) -> None:
    """The verify test above would pass on any output it could not see."""
    copy = runnable_copy(tmp_path)
    copy.write_text(copy.read_text().replace("ProtectClock=yes", "ProtectClok=yes"))
    assert any("ProtectClok" in line for line in complaints(copy))


def test_the_unit_as_shipped_lacks_only_the_installed_program(tmp_path: Path) -> None:
    copy = tmp_path / UNIT.name
    shutil.copy(UNIT, copy)
    found = complaints(copy)
    if Path("/opt/npsbot/venv/bin/npsbot").exists():
        assert found == []
    else:
        assert len(found) == 1
        assert "/opt/npsbot/venv/bin/npsbot is not executable" in found[0]


def test_sandboxing_rates_ok(tmp_path: Path) -> None:
    """``systemd-analyze security`` scores exposure from 0 (locked down) to 10; "OK" is < 2."""
    result = subprocess.run(  # noqa: S603
        [analyze(), "security", "--offline=true", "--no-pager", str(runnable_copy(tmp_path))],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    if "--offline" in result.stderr and "unrecognized" in result.stderr:
        pytest.skip("this systemd-analyze cannot score a unit offline (systemd < 250)")
    match = re.search(r"Overall exposure level for \S+: (\d+\.\d)", result.stdout)
    assert match, result.stdout + result.stderr
    assert float(match[1]) < 2.0


def directives() -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for line in UNIT.read_text(encoding="utf-8").splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, _, value = line.partition("=")
            values.setdefault(key.strip(), []).append(value.strip())
    return values


def drain_seconds() -> float:
    """The longest a graceful stop may take by design: a webhook request waiting out a
    database outage, then a Bot API call in flight (at the default time-out)."""
    bot_api = Settings.model_fields["telegram_timeout_seconds"].get_default()
    return WEBHOOK_PATIENCE.total_seconds() + float(bot_api)


def test_stops_with_sigterm_and_time_to_drain() -> None:
    unit = directives()
    assert unit["KillSignal"] == ["SIGTERM"]
    timeout = unit["TimeoutStopSec"][0]
    assert timeout.endswith("s")
    assert int(timeout.removesuffix("s")) >= drain_seconds()
    assert unit["Restart"] == ["on-failure"]


def test_runs_the_venv_install_unprivileged_with_its_env_file() -> None:
    unit = directives()
    assert unit["ExecStart"] == [EXEC_START.removeprefix("ExecStart=")]
    assert unit["EnvironmentFile"] == ["/etc/npsbot/npsbot.env"]
    assert unit["User"] not in (["root"], ["0"])
    assert unit["StateDirectory"] == ["npsbot"]
    assert unit["NoNewPrivileges"] == ["yes"]
    assert unit["ProtectSystem"] == ["strict"]
