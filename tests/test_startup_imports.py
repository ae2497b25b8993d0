"""What a started, idle ``npsbot run`` has imported: none of what only a report or a comment needs.

pandas, numpy, matplotlib and openpyxl cost a bot about 90 MiB and most of a second at start,
and only the digest, ``/nps``, ``/themes`` and the export use them; Alembic is needed only when
the schema is behind; the theme dictionaries (pymorphy3, the Snowball stemmers) only once a
score or comment comes in; phonenumbers only for a number to read; SQLAlchemy's PostgreSQL
dialect (every PostgreSQL driver's, about 2 MiB) only on PostgreSQL. A fresh interpreter starts
the real ``NpsBot`` (as ``npsbot run`` does, through ``bot.cli``) against the fake Bot API, lets
its jobs run once, and lists its modules: an import added at the top of a module the bot loads
shows up here, not only in a benchmark.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from bot.sandbox.server import FakeBotApi
from tests.e2e.conftest import MANAGERS

ROOT = Path(__file__).resolve().parents[1]

REPORTS_ONLY = ("pandas", "numpy", "matplotlib", "openpyxl", "PIL")
COMMENTS_ONLY = ("pymorphy3", "snowballstemmer")
PHONES_ONLY = ("phonenumbers",)  # the first closing or contact with a number loads it
MIGRATIONS_ONLY = ("alembic",)
POSTGRESQL_ONLY = "sqlalchemy.dialects.postgresql"  # these bots run on SQLite

# Imports what the `npsbot` entry point imports, starts the bot, idles through the first run
# of its jobs (sweep, eNPS rounds, the missed digest's check), stops, and prints sys.modules.
SCRIPT = """
import asyncio, json, sys

from bot import cli  # noqa: F401  (the entry point's own imports)
from bot import eventloop
from bot.app import NpsBot
from bot.config import load_settings


async def main() -> None:
    bot = NpsBot(load_settings())
    await bot.start()
    try:
        await asyncio.sleep(1.0)
    finally:
        await bot.stop()


eventloop.run(main())
print(json.dumps(sorted(sys.modules)))
"""


def loaded(modules: list[str], packages: tuple[str, ...]) -> list[str]:
    return sorted({m.split(".")[0] for m in modules if m.split(".")[0] in packages})


async def started_bot_modules(fake: FakeBotApi, workdir: Path, port: int) -> list[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NPSBOT_")}
    env.update(
        NPSBOT_TELEGRAM_TOKEN=fake.token,
        NPSBOT_TELEGRAM_API_URL=fake.base_url,
        NPSBOT_HTTP_HOST="127.0.0.1",
        NPSBOT_HTTP_PORT=str(port),
        NPSBOT_MANAGER_CHAT_ID=str(MANAGERS),
        NPSBOT_DIGEST_CHAT_ID=str(MANAGERS),
        PYTHONPATH=str(ROOT),
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        SCRIPT,
        cwd=workdir,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 0, stderr.decode()[-3000:]
    modules: list[str] = json.loads(stdout.decode().strip().splitlines()[-1])
    return modules


async def test_a_started_idle_bot_has_not_imported_reports_themes_alembic_or_postgresql(
    tmp_path: Path, unused_tcp_port: int
) -> None:
    async with FakeBotApi() as fake:
        fake.add_group(MANAGERS)
        first = await started_bot_modules(fake, tmp_path, unused_tcp_port)
        again = await started_bot_modules(fake, tmp_path, unused_tcp_port)
    assert "bot.app" in first and "telegram.ext" in first  # it did start the bot
    assert loaded(first, REPORTS_ONLY + COMMENTS_ONLY + PHONES_ONLY) == []
    assert loaded(first, MIGRATIONS_ONLY) == ["alembic"]  # a new database: migrated
    # The same database, now at the newest revision: nothing to migrate, no Alembic.
    assert loaded(again, REPORTS_ONLY + COMMENTS_ONLY + PHONES_ONLY + MIGRATIONS_ONLY) == []
    assert POSTGRESQL_ONLY not in again  # Alembic's DDL imports it, so only once at head
