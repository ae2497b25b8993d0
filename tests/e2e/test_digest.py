"""The digest end to end: text, chart and CSV reach the managers' chat in order, once a week.

Data set (week of Monday 16 November 2026 in Moscow, the harness's time zone):
- this week: Ivan 10, 9, 9, 7, 3 and Olga 0 answered -> 3 promoters, 1 passive, 2 detractors of 6,
  NPS (3 - 2) / 6 = 16.7, shown 17, 95% interval -44 to 66 (adjusted Wald, tests/core/test_nps.py);
  one more survey sent and never answered: 7 sent, 6 answered, 86%;
- the week before: one 10, NPS 100: the change of -83 has the interval -106 to +78, within noise
  (one answer the week before cannot show a change);
- alerts: the 3 was contacted after 2 hours, resolved and recovered; the 0 is still open.
"""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from openpyxl import load_workbook

from bot.core.periods import last_full_week
from bot.managers.digest import PostOutcome
from bot.sandbox.models import SentMessage
from storage.models import AlertCase, Customer, Survey, Ticket

from .conftest import MANAGERS, Harness

MONDAY_9_MSK = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
WEDNESDAY = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


async def seed(harness: Harness) -> None:
    assert harness.bot is not None
    created = datetime(2026, 11, 1, tzinfo=UTC)
    rows: list[dict[str, Any]] = [
        *[{"agent": "Ivan", "score": s} for s in (10, 9, 9, 7, 3)],
        {"agent": "Olga", "score": 0, "comment": "Никто не ответил <b>"},
        {"agent": "Olga"},  # sent, never answered
        {"agent": "Ivan", "score": 10, "week_before": True},
    ]
    rows[0]["comment"] = "Great & quick"
    async with harness.bot.services.session_factory() as session:
        customer = Customer(helpdesk_id="c-digest", created_at=created)
        session.add(customer)
        await session.flush()
        assert customer.id is not None
        for number, row in enumerate(rows, start=1):
            ticket = Ticket(external_id=f"D-{number}", customer_id=customer.id, created_at=created)
            session.add(ticket)
            await session.flush()
            assert ticket.id is not None
            moment = WEDNESDAY - (7 * 24 * HOUR if row.get("week_before") else 0 * HOUR)
            moment += number * timedelta(minutes=1)
            answered = "score" in row
            survey = Survey(
                ticket_id=ticket.id,
                customer_id=customer.id,
                status="completed" if answered else "expired",
                closed_at=moment - HOUR,
                due_at=moment - HOUR,
                created_at=moment - HOUR,
                sent_at=moment,
                agent=row["agent"],
                team="L2 support",
                company="ACME",
                channel="email",
                score=row.get("score"),
                answered_at=moment + HOUR if answered else None,
                comment=row.get("comment"),
                commented_at=moment + 2 * HOUR if "comment" in row else None,
            )
            session.add(survey)
            await session.flush()
            assert survey.id is not None
            if row.get("score") == 3:
                session.add(
                    AlertCase(
                        survey_id=survey.id, chat_id=MANAGERS, status="resolved",
                        created_at=moment + HOUR, taken_at=moment + 2 * HOUR,
                        first_contact_at=moment + 3 * HOUR, resolved_at=moment + 4 * HOUR,
                        recovery_answer=True, recovery_answered_at=moment + 5 * HOUR,
                    )
                )  # fmt: skip
            if row.get("score") == 0:
                session.add(
                    AlertCase(
                        survey_id=survey.id, chat_id=MANAGERS, status="open",
                        created_at=moment + HOUR, reannounce_count=1,
                        first_reannounced_at=moment + 5 * HOUR,
                        reannounced_at=moment + 5 * HOUR,
                    )
                )  # fmt: skip
        await session.commit()


def digest_parts(
    harness: Harness,
) -> tuple[list[SentMessage], list[SentMessage], list[SentMessage]]:
    messages = harness.fake.bot_messages(MANAGERS)
    texts = [m for m in messages if "NPS digest" in (m.text or "")]
    photos = [m for m in messages if m.has_photo]
    documents = [m for m in messages if m.document_name is not None]
    return texts, photos, documents


async def test_weekly_digest_posts_text_chart_and_csv_in_order_once(harness: Harness) -> None:
    await seed(harness)
    assert harness.bot is not None
    harness.clock.move_to(MONDAY_9_MSK)
    job = harness.bot.services.application.job_queue.get_jobs_by_name("weekly-digest")[0]  # type: ignore[union-attr]
    await job.run(harness.bot.services.application)

    document = await harness.fake.wait_for(lambda m: m.document_name is not None, chat_id=MANAGERS)
    texts, photos, documents = digest_parts(harness)
    assert len(texts) == len(photos) == len(documents) == 1
    text, photo = texts[0], photos[0]
    assert text.message_id < photo.message_id < document.message_id  # text, chart, CSV

    assert "<blockquote>Никто не ответил &lt;b&gt;</blockquote>" in (text.text or "")
    body = html.unescape(re.sub(r"</?\w+>", "", text.text or ""))  # the words, without markup
    assert "Nov 16, 2026 – Nov 22, 2026" in body
    assert "NPS: 17, 95% interval -44 to 66" in body
    assert "Change vs previous period: -83 (95% interval -106 to +78), within noise" in body
    assert "6 responses (previous period: 1)" in body
    assert "3 promoters (50%)" in body and "2 detractors (33%)" in body
    assert "Scores 0 to 10: 1 · 0 · 0 · 1 · 0 · 0 · 0 · 1 · 0 · 2 · 1" in body
    assert "7 surveys sent" in body and "Response rate: 86% (6 of 7 answered)" in body
    # Ivan has 5 answers (3 P, 1 D: NPS 40, -30 to 80); Olga's single answer is folded into
    # "other": the rest Ivan is compared with, which six answers cannot tell apart from him.
    assert "By agent: no group differs from the rest beyond noise (1 group compared)" in body
    assert "Ivan" not in body and "1. " not in body
    assert "2 detractors alerted: 1 taken, 1 resolved" in body
    assert "Median time to first contact: 2 hours" in body
    assert "1 case still open at the end of the period" in body
    assert "Recovered: 1 of 1 client who answered" in body
    assert text.parse_mode == "HTML"

    assert photo.caption == "NPS by period"
    assert photo.file_bytes is not None and photo.file_bytes.startswith(b"\x89PNG")
    assert document.document_name == "nps-2026-11-16_2026-11-22.csv"
    assert document.file_bytes is not None
    rows = list(csv.reader(io.StringIO(document.file_bytes.decode("utf-8-sig"))))
    assert [row[1] for row in rows[1:]] == ["D-1", "D-2", "D-3", "D-4", "D-5", "D-6"]
    assert [row[9] for row in rows[1:]] == ["10", "9", "9", "7", "3", "0"]

    # Again, and after a restart: still one digest.
    again = await harness.bot.services.digest.post(as_of=MONDAY_9_MSK)
    assert again.outcome is PostOutcome.ALREADY_POSTED
    await harness.restart()
    again = await harness.bot.services.digest.post(as_of=MONDAY_9_MSK)
    assert again.outcome is PostOutcome.ALREADY_POSTED
    texts, photos, documents = digest_parts(harness)
    assert len(texts) == len(photos) == len(documents) == 1


async def test_on_demand_digest_summary_and_export(harness: Harness) -> None:
    await seed(harness)
    assert harness.bot is not None
    harness.clock.move_to(MONDAY_9_MSK)
    digest = harness.bot.services.digest
    week = digest.parse_period("week")
    assert week == last_full_week(MONDAY_9_MSK, harness.settings.tz)

    summary = await digest.summary(week)
    assert "NPS: <b>17</b>, 95% interval -44 to 66" in summary
    assert "within noise" in summary

    await digest.send_digest(MANAGERS, week)
    await digest.send_digest(MANAGERS, week)  # on demand: no once-per-period guard
    await digest.send_export(MANAGERS, digest.parse_period("2026-11"), "xlsx")
    xlsx = await harness.fake.wait_for(
        lambda m: (m.document_name or "").endswith(".xlsx"), chat_id=MANAGERS
    )
    assert xlsx.document_name == "nps-2026-11-01_2026-11-30.xlsx"
    assert xlsx.file_bytes is not None
    sheet = load_workbook(io.BytesIO(xlsx.file_bytes), read_only=True)["responses"]
    assert len(list(sheet.iter_rows(values_only=True))) == 1 + 7  # both weeks are in November
    texts, photos, documents = digest_parts(harness)
    assert (len(texts), len(photos), len(documents)) == (2, 2, 3)
