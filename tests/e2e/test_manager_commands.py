"""Manager commands in the managers' chat, end to end: /nps, /digest, /export, and refusals."""

from __future__ import annotations

import html
import io
import re

from openpyxl import load_workbook

from tests.e2e.conftest import MANAGERS, Harness
from tests.e2e.test_digest import MONDAY_9_MSK, seed

BOSS = 7001
OUTSIDER = 7002
WEEK = "2026-11-16..2026-11-22"  # the seeded week (see tests/e2e/test_digest.py for the sums)


def words(text: str | None) -> str:
    return html.unescape(re.sub(r"</?\w+>", "", text or ""))


async def test_managers_ask_for_numbers_digest_and_files_in_their_chat(harness: Harness) -> None:
    harness.settings = harness.settings.model_copy(update={"manager_user_ids": [BOSS]})
    await harness.restart()
    await seed(harness)
    harness.clock.move_to(MONDAY_9_MSK)
    boss = harness.fake.client(BOSS, "Olga")

    await boss.send_text(f"/nps {WEEK}", chat_id=MANAGERS)
    summary = await harness.fake.wait_for(lambda m: "NPS:" in m.content, chat_id=MANAGERS)
    assert "NPS: 17, 95% interval -44 to 66" in words(summary.text)  # (3 - 2) / 6, by hand

    await boss.send_text("/nps yesterday-ish", chat_id=MANAGERS)
    error = await harness.fake.wait_for(
        lambda m: "Periods look like" in m.content, chat_id=MANAGERS
    )
    assert "yesterday-ish" in words(error.text)

    await boss.send_text("/digest week", chat_id=MANAGERS)
    chart = await harness.fake.wait_for(lambda m: m.has_photo, chat_id=MANAGERS)
    csv_file = await harness.fake.wait_for(
        lambda m: (m.document_name or "").endswith(".csv"), chat_id=MANAGERS
    )
    digest = next(m for m in harness.fake.bot_messages(MANAGERS) if "NPS digest" in m.content)
    assert digest.message_id < chart.message_id < csv_file.message_id
    assert "6 responses" in words(digest.text)

    await boss.send_text("/export xlsx 2026-11", chat_id=MANAGERS)
    xlsx = await harness.fake.wait_for(
        lambda m: (m.document_name or "").endswith(".xlsx"), chat_id=MANAGERS
    )
    assert xlsx.file_bytes is not None
    sheet = load_workbook(io.BytesIO(xlsx.file_bytes), read_only=True)["responses"]
    assert len(list(sheet.iter_rows(values_only=True))) == 1 + 7  # header and November's 7

    await boss.send_text("/alerts", chat_id=MANAGERS)
    listed = await harness.fake.wait_for(lambda m: "1 open case" in m.content, chat_id=MANAGERS)
    assert "D-6" in listed.content  # the 0 nobody took; the 3 is resolved

    # Not on the list: refused, and nothing is computed for them.
    outsider = harness.fake.client(OUTSIDER, "Mallory")
    before = len(harness.fake.bot_messages(MANAGERS))
    await outsider.send_text("/export 2026-11", chat_id=MANAGERS)
    await harness.fake.wait_for(lambda m: "for the support team" in m.content, chat_id=MANAGERS)
    assert len(harness.fake.bot_messages(MANAGERS)) == before + 1

    # A listed manager may use the commands in a private chat with the bot too.
    await boss.send_text(f"/nps {WEEK}")
    private = await boss.wait_for_bot_message(lambda m: "NPS:" in m.content)
    assert "NPS: 17, 95% interval -44 to 66" in words(private.text)
