"""Both erasures honour every personal column's mark, so a new column cannot be forgotten.

The marks are on storage.models (``storage.personal``). One person is given a value in every
marked column of every table; then ``/forget`` (``storage.clients.forget``) and, on a fresh
database, the age purge (``storage.retention.purge``) run, and each marked column must hold
what its mark says for that path. A column whose name looks personal must be marked, or listed
below as not personal with the reason.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel
from sqlmodel import select as select_models

from storage.clients import forget
from storage.db import SessionFactory
from storage.models import (
    AlertCase,
    CaseMessage,
    Customer,
    EnpsCampaign,
    EnpsInvitation,
    EnpsMember,
    EnpsRound,
    OutboxMessage,
    Survey,
    TelegramUser,
    Ticket,
)
from storage.personal import Erasure, Path, Personal, marks
from storage.retention import purge

OLD = datetime(2023, 3, 1, 12, 0, tzinfo=UTC)
CUTOFF = datetime(2025, 1, 1, tzinfo=UTC)
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
PERSON = 5301  # their Telegram id, and so their private chat's
MANAGER = 7001
MANAGERS_CHAT = -100500

# Names that usually hold something about a person.
LOOKS_PERSONAL = re.compile(
    r"phone|name|comment|text|username|email|file_id|note|chat_id|user_id|telegram|payload"
    r"|helpdesk|external_id|company|manager_id|_by\b|label|address|birth"
)
# Columns whose name looks personal and that are not: (table, column) -> why.
NOT_PERSONAL = {
    ("enps_campaign", "name"): "the operator's name for a campaign",
    ("enps_campaign", "company"): "the operator's own company, the employer",
    ("enps_campaign", "chat_id"): "the group that gets the round's digest",
    ("survey_rating", "label"): "the operator's extra question, as asked",
    ("alert_case", "chat_id"): "the managers' chat the routing chose",
    ("alert_case", "taken_by"): "staff attribution of the case, as survey.agent is",
    ("alert_case", "taken_by_name"): "staff attribution, shown as the owner (docs/managers.md)",
    ("alert_case", "resolved_by"): "staff attribution of the case",
    ("alert_case", "resolved_by_name"): "staff attribution of the case",
    ("digest", "chat_id"): "the group or channel a digest went to",
    ("case_message", "manager_id"): "the manager's side of the case; the row goes anyway",
    ("enps_comment", "text"): "anonymous by design: no member, no score, no time (models)",
    ("manager_prompt", "user_id"): "a manager's own chat while a prompt waits; purged when old",
}


def _marked_tables() -> list[Table]:
    return [table for table in SQLModel.metadata.sorted_tables if marks(table)]


async def _populate(sessions: SessionFactory) -> None:
    """One person with something in every personal column, all of it older than the cut-off."""
    async with sessions() as session:
        customer = Customer(
            helpdesk_id="c-anna",
            telegram_user_id=PERSON,
            chat_id=PERSON,
            phone="+79001234567",
            name="Anna",
            language="ru",
            company="Globex",
            unreachable=True,
            created_at=OLD,
        )
        session.add(customer)
        session.add(TelegramUser(id=PERSON, language="ru", created_at=OLD))
        await session.flush()
        assert customer.id is not None
        ticket = Ticket(external_id="T-1", customer_id=customer.id, created_at=OLD)
        session.add(ticket)
        await session.flush()
        assert ticket.id is not None
        survey = Survey(
            ticket_id=ticket.id,
            customer_id=customer.id,
            status="completed",
            closed_at=OLD,
            due_at=OLD,
            company="Globex",
            chat_id=PERSON,
            message_id=77,
            score=3,
            answered_at=OLD,
            comment="the words of Anna",
            voice_file_id="AwACAg",
            voice_seconds=4,
            commented_at=OLD,
            completed_at=OLD,
            created_at=OLD,
        )
        session.add(survey)
        await session.flush()
        session.add(
            OutboxMessage(
                method="sendMessage",
                chat_id=PERSON,
                payload={"text": "How likely are you to recommend Globex?"},
                status="sent",
                message_id=9,
                purpose="survey",
                survey_id=survey.id,
                not_before=OLD,
                created_at=OLD,
            )
        )
        session.add(  # the survey's alert in the managers' group: no private chat of anyone
            OutboxMessage(
                method="sendMessage",
                chat_id=MANAGERS_CHAT,
                payload={"text": "Detractor: 3/10"},
                status="sent",
                message_id=10,
                purpose="alert",
                survey_id=survey.id,
                not_before=OLD,
                created_at=OLD,
            )
        )
        case = AlertCase(
            survey_id=survey.id,
            chat_id=MANAGERS_CHAT,
            status="resolved",
            created_at=OLD,
            relay_manager_id=MANAGER,
            resolved_by=MANAGER,
            resolution_note="Called Anna back, refunded",
        )
        session.add(case)
        await session.flush()
        assert case.id is not None
        session.add(
            CaseMessage(case_id=case.id, direction="from_client", text="Thanks", created_at=OLD)
        )
        campaign = EnpsCampaign(
            name="team",
            company="Globex",
            chat_id=MANAGERS_CHAT,
            cron="0 9 * * 1",
            language="en",
            round_days=7,
            min_group_size=3,
            created_at=OLD,
        )
        session.add(campaign)
        await session.flush()
        assert campaign.id is not None
        session.add(
            EnpsMember(campaign_id=campaign.id, user_id=PERSON, status="active", created_at=OLD)
        )
        enps_round = EnpsRound(
            campaign_id=campaign.id,
            scheduled_for=OLD,
            opened_at=OLD,
            closes_at=OLD + timedelta(days=7),
            status="closed",
        )
        session.add(enps_round)
        await session.flush()
        assert enps_round.id is not None
        session.add(EnpsInvitation(round_id=enps_round.id, user_id=PERSON, status="answered"))
        await session.commit()


Snapshot = dict[str, dict[tuple[Any, ...], dict[str, Any]]]


async def _snapshot(engine: AsyncEngine) -> Snapshot:
    """Every marked table's rows by primary key: only the personal columns and ``chat_id``."""
    taken: Snapshot = {}
    async with engine.connect() as connection:
        for table in _marked_tables():
            names = {*marks(table), *(["chat_id"] if "chat_id" in table.c else [])}
            key = list(table.primary_key.columns)
            rows = (await connection.execute(select(*key, *(table.c[n] for n in names)))).all()
            taken[table.name] = {
                tuple(row[: len(key)]): {name: row._mapping[name] for name in names} for row in rows
            }
    return taken


def _check(before: Snapshot, after: Snapshot, path: Path) -> list[str]:
    """What is wrong with ``after`` for ``path``'s marks, one line each."""
    wrong = []
    for table in _marked_tables():
        for name, mark in marks(table).items():
            for key, old in before[table.name].items():
                row = after[table.name].get(key)
                wrong += _judge(
                    f"{table.name}.{name} {key}", mark, path=path, old=old, row=row, name=name
                )
    return wrong


def _judge(
    where: str,
    mark: Personal,
    *,
    path: Path,
    old: dict[str, Any],
    row: dict[str, Any] | None,
    name: str,
) -> list[str]:
    erasure = mark.by(path)
    value = None if row is None else row[name]
    if erasure is Erasure.KEPT:
        return [] if row is not None and value == old[name] else [f"{where}: kept, yet changed"]
    if erasure is Erasure.DELETED:
        gone = row is None or value is None
        return [] if gone else [f"{where}: row should be gone (or the column cleared)"]
    if row is None:
        return [f"{where}: the row went, but the mark says {erasure.value}"]
    if erasure is Erasure.REPLACED:
        return [] if value != old[name] else [f"{where}: still holds its value"]
    if mark.private_chats_only and not old["chat_id"] > 0:
        return [] if value == old[name] else [f"{where}: a group's row changed"]
    return [] if value == mark.erased else [f"{where}: {value!r}, not {mark.erased!r}"]


async def _filled(engine: AsyncEngine) -> Snapshot:
    before = await _snapshot(engine)
    for table in _marked_tables():
        assert before[table.name], f"give {table.name} a row"
        for name, mark in marks(table).items():
            for key, row in before[table.name].items():
                assert row[name] is not None, f"fill {table.name}.{name} {key}"
                assert row[name] != mark.erased, f"fill {table.name}.{name} {key}"
    return before


async def test_forget_clears_every_column_its_marks_name(
    engine: AsyncEngine, sessions: SessionFactory
) -> None:
    await _populate(sessions)
    before = await _filled(engine)

    async with sessions() as session:
        await forget(session, user_id=PERSON, now=NOW)
        await session.commit()

    assert _check(before, await _snapshot(engine), Path.FORGET) == []


async def test_the_purge_clears_every_column_its_marks_name(
    engine: AsyncEngine, sessions: SessionFactory
) -> None:
    await _populate(sessions)
    before = await _filled(engine)

    await purge(engine, cutoff=CUTOFF)

    assert _check(before, await _snapshot(engine), Path.PURGE) == []


def test_every_column_that_looks_personal_is_marked_or_said_not_to_be() -> None:
    unmarked = [
        (table.name, column.name)
        for table in SQLModel.metadata.sorted_tables
        for column in table.columns
        if LOOKS_PERSONAL.search(column.name) and column.name not in marks(table)
    ]

    assert sorted(set(unmarked) - set(NOT_PERSONAL)) == []
    # The list names only columns that exist, unmarked: a stale entry hides nothing.
    assert sorted(set(NOT_PERSONAL) - set(unmarked)) == []


def test_a_path_that_keeps_a_personal_column_says_why() -> None:
    with pytest.raises(ValueError, match="reason"):
        Personal(forget=Erasure.KEPT, purge=Erasure.CLEARED)


@pytest.mark.parametrize(
    "comment", ['It\'s slow & "rude" <b>', "  padded, with spaces around  ", "plain words"]
)
async def test_forget_empties_the_digests_that_quoted_the_comment_as_they_escape_it(
    sessions: SessionFactory, comment: str
) -> None:
    # The digest quotes a comment stripped and escaped with quote=False: ' and " stay as typed.
    await _populate(sessions)
    quoted = html.escape(comment.strip(), quote=False)
    async with sessions() as session:
        survey = (await session.exec(select_models(Survey))).one()
        survey.comment = comment
        session.add(survey)
        for text in (f"<b>NPS digest</b>\n<blockquote>{quoted}</blockquote>", "someone else's"):
            session.add(
                OutboxMessage(
                    method="sendMessage", chat_id=MANAGERS_CHAT, payload={"text": text},
                    status="sent", message_id=11, purpose="digest", not_before=OLD,
                    created_at=OLD,
                )
            )  # fmt: skip
        await session.commit()

    async with sessions() as session:
        await forget(session, user_id=PERSON, now=NOW)
        await session.commit()

    async with sessions() as session:
        digests = (
            await session.exec(
                select_models(OutboxMessage).where(OutboxMessage.purpose == "digest")
            )
        ).all()
    assert sorted(str(row.payload.get("text", "")) for row in digests) == ["", "someone else's"]
