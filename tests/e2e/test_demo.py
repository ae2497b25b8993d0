"""``npsbot demo`` end to end: the real product, the fake Telegram, simulated people.

What the demo claims to show is checked against what the fake Telegram received: every client
got a question, one alert per detractor, the digest's NPS is the NPS of the scores pressed, and
the chart and CSV on disk are the files the managers got.
"""

from __future__ import annotations

import csv
import io
import math
import re
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from bot.cli import app
from bot.core.callback import ScorePress, decode
from bot.demo import DemoError, DemoResult, demo
from bot.sandbox.formatting import plain_text

START = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)  # a Wednesday


def expected_nps(result: DemoResult) -> str:
    """NPS of the scores the clients pressed, worked out here rather than by the product."""
    scores = [
        int(run.pressed[question_id])
        for run in result.clients
        for question_id, message in run.seen.items()
        if any(isinstance(decode(b.get("callback_data")), ScorePress) for b in message.buttons())
    ]
    assert len(scores) == len(result.clients)
    promoters = sum(score >= 9 for score in scores)
    detractors = sum(score <= 6 for score in scores)
    exact = Fraction(100 * (promoters - detractors), len(scores))
    shown = math.floor(abs(exact) + Fraction(1, 2))  # whole, halves away from zero
    return str(shown if exact >= 0 else -shown)


def check_demo(result: DemoResult, printed: str) -> None:
    for run in result.clients:
        questions = [
            m
            for m in run.seen.values()
            if run.plan.ticket_id in m.content
            and any(isinstance(decode(b.get("callback_data")), ScorePress) for b in m.buttons())
        ]
        assert len(questions) == 1, run.plan
        assert run.plan.ticket_id in printed

    detractors = {run.plan.ticket_id for run in result.clients if run.plan.score <= 6}
    assert len(result.alerts) == len(detractors) >= 1
    assert {run.plan.ticket_id for run in result.clients if run.alert} == detractors
    resolved = result.manager.case_of.alert if result.manager is not None else None
    assert resolved is not None and "Resolved by" in resolved.content

    digest = plain_text(result.digest_text.content, result.digest_text.parse_mode)
    shown = re.search(r"^NPS: (-?[0-9]+), 95% interval", digest, re.MULTILINE)
    assert shown is not None and shown[1] == expected_nps(result)
    assert f"{len(result.clients)} responses" in digest
    # The imported earlier weeks give the digest a trend, and no one heard of them: no alert,
    # question or message names an imported ticket.
    assert "Change vs previous period" in digest
    assert re.search(r"\(previous period: [1-9][0-9]*\)", digest)
    assert not re.search(r"\bH-[0-9]{4}\b", printed)

    png = result.chart.read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    with Image.open(result.chart) as image:
        image.load()
        assert image.width > 100 and image.height > 100
    photo, document = result.digest[1], result.digest[2]
    assert photo.file_bytes == png  # the very file the managers were sent
    assert document.file_bytes == result.csv.read_bytes()
    rows = list(csv.DictReader(io.StringIO(result.csv.read_text(encoding="utf-8-sig"))))
    assert len(rows) == len(result.clients)
    assert sorted(row["ticket"] for row in rows) == sorted(r.plan.ticket_id for r in result.clients)

    assert str(result.folder.resolve()) in printed
    for path in (result.chart, result.csv, result.transcript):
        assert path is not None and path.parent == result.folder and path.name in printed
    assert (result.folder / "transcript.txt").read_text(encoding="utf-8") in printed


async def test_demo_plays_the_whole_product(database_url: str, tmp_path: Path) -> None:
    stream = io.StringIO()
    result = await demo(
        stream, clients=7, seed=3, out=tmp_path / "out", database_url=database_url, start=START
    )
    check_demo(result, stream.getvalue())
    assert "Nov 16, 2026 – Nov 22, 2026" in result.digest_text.content


async def test_a_used_folder_or_database_is_refused_and_kept(tmp_path: Path) -> None:
    used = tmp_path / "used"
    used.mkdir()
    (used / "keep.txt").write_text("mine")
    with pytest.raises(DemoError, match="not an empty folder"):
        await demo(io.StringIO(), clients=2, out=used)
    assert (used / "keep.txt").read_text() == "mine"

    url = f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}"
    await demo(io.StringIO(), clients=2, seed=1, out=tmp_path / "first", database_url=url)
    with pytest.raises(DemoError, match="already holds surveys"):
        await demo(io.StringIO(), clients=2, seed=1, out=tmp_path / "second", database_url=url)
    assert not (tmp_path / "second").exists()  # the folder it made for nothing is gone


def test_npsbot_demo_ignores_the_developers_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    real_db = tmp_path / "production.db"
    (tmp_path / ".env").write_text(f"NPSBOT_DATABASE_URL=sqlite+aiosqlite:///{real_db}\n")
    env = {
        "NPSBOT_TELEGRAM_TOKEN": "111111:REAL-TOKEN-NEVER-USED",
        "NPSBOT_TELEGRAM_API_URL": "http://127.0.0.1:9/bot",  # would fail if it were used
        "NPSBOT_MANAGER_CHAT_ID": "-100777",
        "NPSBOT_SURVEY_DELAY_MINUTES": "30",
    }
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app, ["demo", "--clients", "4", "--seed", "5", "--out", str(out)], env=env
    )
    assert result.exit_code == 0, result.output
    assert not real_db.exists()
    assert "@acme_nps_bot" in result.output
    assert "REAL-TOKEN" not in result.output
    assert sorted(p.suffix for p in out.iterdir()) == [".csv", ".png", ".txt"]


def test_npsbot_demo_says_what_is_wrong_with_its_folder_or_database(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    result = CliRunner().invoke(app, ["demo", "--out", str(tmp_path / "file")])
    assert result.exit_code == 2
    assert "not an empty folder" in result.output
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["demo", "--out", str(out), "--database-url", "nonsense"])
    assert result.exit_code == 2
    assert "'nonsense' is not a database URL" in result.output
    assert not out.exists()
    plain = "postgresql://npsbot:s3cret@127.0.0.1/npsbot"  # psycopg2's URL, not asyncpg's
    result = CliRunner().invoke(app, ["demo", "--out", str(out), "--database-url", plain])
    assert result.exit_code == 2
    assert "use postgresql+asyncpg://" in result.output
    assert "s3cret" not in result.output and "Traceback" not in result.output
    assert not out.exists()
    out.mkdir()  # a folder the user made for it, empty as asked: a failure does not remove it
    result = CliRunner().invoke(app, ["demo", "--out", str(out), "--database-url", "nonsense"])
    assert result.exit_code == 2
    assert out.is_dir()
