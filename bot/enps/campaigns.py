"""What ``npsbot campaign ...`` does, as async functions the tests can call directly.

Campaigns live in the database, not in settings: members come and go, and the running bot
reads campaigns on every tick, so a campaign created or changed from the shell takes effect
without a restart. Output is for the operator's terminal (English, no personal data beyond
the Telegram ids the operator typed).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

from sqlalchemy.exc import IntegrityError
from telegram import Bot

from bot.config import Settings
from bot.core import deeplink
from bot.core.clock import Clock, utc_now
from bot.core.deeplink import MAX_PAYLOAD_LENGTH
from bot.core.enps import MIN_ANONYMOUS_GROUP, MemberStatus, RoundStatus, effective_min_group
from bot.enps.answers import join_payload
from bot.enps.rounds import EnpsRounds, OpenedRound
from bot.enps.schedule import next_fire, trigger
from bot.i18n import SUPPORTED_LANGUAGES, normalize_language
from storage import enps
from storage.db import Database, SessionFactory
from storage.models import EnpsCampaign

NAME = re.compile(r"^[\w.-]{1,100}$")
T = TypeVar("T")


class CampaignError(ValueError):
    """A campaign command that cannot be done; the message says why."""


@dataclass(frozen=True, slots=True)
class CampaignSpec:
    """What ``campaign create`` was given."""

    name: str
    chat_id: int
    cron: str
    company: str | None = None
    language: str | None = None
    round_days: float = 7.0
    remind_after_days: float | None = 3.0
    min_group_size: int | None = None
    members: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class CampaignLine:
    """One campaign as ``campaign list`` shows it."""

    name: str
    chat_id: int
    cron: str
    joined: int
    invited: int
    unreachable: int
    open_round: bool
    next_round: str

    def describe(self) -> str:
        """One line for the terminal."""
        state = "round open" if self.open_round else f"next round {self.next_round}"
        return (
            f"{self.name}: {self.joined} joined, {self.invited} added but not joined yet, "
            f"{self.unreachable} not reachable; schedule '{self.cron}', {state}; "
            f"digest to chat {self.chat_id}"
        )


async def _bot_username(settings: Settings) -> str:
    """NPSBOT_BOT_USERNAME, or what Telegram's getMe says."""
    if settings.bot_username:
        return settings.bot_username
    async with Bot(settings.require_token(), base_url=settings.telegram_api_url) as bot:
        return bot.username


class CampaignDesk:
    """The campaign commands on one database."""

    def __init__(self, settings: Settings, sessions: SessionFactory, clock: Clock = utc_now):
        self.settings = settings
        self.sessions = sessions
        self.clock = clock

    async def _campaign(self, name: str) -> EnpsCampaign:
        async with self.sessions() as session:
            campaign = await enps.campaign_by_name(session, name)
        if campaign is None or campaign.id is None:
            raise CampaignError(f"no campaign is called {name!r} (see `npsbot campaign list`)")
        return campaign

    async def create(self, spec: CampaignSpec) -> EnpsCampaign:
        """Store a new campaign and its first members."""
        if not NAME.fullmatch(spec.name):
            raise CampaignError("a campaign name is 1-100 letters, digits, '.', '_' or '-'")
        trigger(spec.cron, self.settings.tz)  # ScheduleError says what is wrong
        language = normalize_language(spec.language or self.settings.language)
        if spec.language and spec.language not in SUPPORTED_LANGUAGES:
            raise CampaignError(
                f"unsupported language {spec.language!r}: use {SUPPORTED_LANGUAGES}"
            )
        if spec.round_days <= 0:
            raise CampaignError("--round-days must be above 0")
        if spec.remind_after_days is not None and spec.remind_after_days < 0:
            raise CampaignError("--remind-after-days must not be negative")
        # The customer digest's setting may be 1 or 2; a campaign's default never goes below 3.
        min_group = (
            effective_min_group(self.settings.digest_min_group_size)
            if spec.min_group_size is None
            else spec.min_group_size
        )
        if min_group < MIN_ANONYMOUS_GROUP:
            raise CampaignError(
                f"--min-group-size must be at least {MIN_ANONYMOUS_GROUP}: below it a total "
                "points at a person"
            )
        now = self.clock()
        campaign = EnpsCampaign(
            name=spec.name,
            company=spec.company or self.settings.company_name,
            chat_id=spec.chat_id,
            cron=spec.cron,
            language=language,
            round_days=spec.round_days,
            remind_after_days=spec.remind_after_days or None,
            min_group_size=min_group,
            created_at=now,
        )
        async with self.sessions() as session:
            session.add(campaign)
            try:
                await session.flush()
            except IntegrityError:
                raise CampaignError(f"a campaign called {spec.name!r} exists already") from None
            assert campaign.id is not None  # noqa: S101  (flushed)
            if spec.members:
                await enps.add_members(
                    session, campaign_id=campaign.id, user_ids=spec.members, now=now
                )
            await session.commit()
        return campaign

    async def add_members(self, name: str, user_ids: Collection[int]) -> int:
        """Add members by Telegram id; they join (or are tried once) at the next round."""
        campaign = await self._campaign(name)
        assert campaign.id is not None  # noqa: S101
        async with self.sessions() as session:
            added = await enps.add_members(
                session, campaign_id=campaign.id, user_ids=user_ids, now=self.clock()
            )
            await session.commit()
        return added

    async def remove_members(self, name: str, user_ids: Collection[int]) -> int:
        """Take members out of the next rounds (an open round keeps what they answered)."""
        campaign = await self._campaign(name)
        assert campaign.id is not None  # noqa: S101
        async with self.sessions() as session:
            removed = await enps.remove_members(session, campaign_id=campaign.id, user_ids=user_ids)
            await session.commit()
        return removed

    async def link(self, name: str) -> str:
        """The campaign's join link, valid for NPSBOT_ENPS_LINK_TTL_DAYS."""
        campaign = await self._campaign(name)
        assert campaign.id is not None  # noqa: S101
        payload = join_payload(
            self.settings.require_link_secret(),
            campaign.id,
            now=self.clock(),
            ttl=timedelta(days=self.settings.enps_link_ttl_days),
        )
        assert len(payload) <= MAX_PAYLOAD_LENGTH  # noqa: S101  (deeplink keeps it short)
        return deeplink.deep_link(await _bot_username(self.settings), payload)

    async def listing(self) -> list[CampaignLine]:
        """Every campaign with its members by status and its next round."""
        lines = []
        now = self.clock()
        async with self.sessions() as session:
            for campaign in await enps.all_campaigns(session):
                assert campaign.id is not None  # noqa: S101
                counts = await enps.member_counts(session, campaign_id=campaign.id)
                rounds = await enps.open_rounds(session, campaign_id=campaign.id)
                upcoming = next_fire(campaign.cron, self.settings.tz, now)
                lines.append(
                    CampaignLine(
                        name=campaign.name,
                        chat_id=campaign.chat_id,
                        cron=campaign.cron,
                        joined=counts.get(MemberStatus.JOINED, 0),
                        invited=counts.get(MemberStatus.INVITED, 0),
                        unreachable=counts.get(MemberStatus.UNREACHABLE, 0),
                        open_round=any(r.status == RoundStatus.OPEN for r in rounds),
                        next_round=upcoming.isoformat(timespec="minutes") if upcoming else "never",
                    )
                )
        return lines

    async def last_digest(self, name: str) -> str:
        """The digest of the campaign's last closed round, as plain text for the terminal."""
        campaign = await self._campaign(name)
        assert campaign.id is not None  # noqa: S101
        rounds = EnpsRounds(session_factory=self.sessions, tz=self.settings.tz, clock=self.clock)
        async with self.sessions() as session:
            last = await enps.last_closed_round(session, campaign_id=campaign.id)
            if last is None:
                raise CampaignError(f"{name!r} has no closed round yet")
            return await rounds.digest_text(session, campaign, last, html=False)

    async def start_round(self, name: str) -> OpenedRound:
        """Open a round now, outside the schedule; the running bot sends the questions."""
        campaign = await self._campaign(name)
        assert campaign.id is not None  # noqa: S101
        async with self.sessions() as session:
            if await enps.open_rounds(session, campaign_id=campaign.id):
                raise CampaignError(f"{name!r} has a round open already; it closes on its own")
        rounds = EnpsRounds(session_factory=self.sessions, tz=self.settings.tz, clock=self.clock)
        opened = await rounds.open_round(campaign, scheduled_for=self.clock())
        if opened is None:
            raise CampaignError(f"{name!r} has a round open already; it closes on its own")
        return opened


async def with_desk(settings: Settings, work: Callable[[CampaignDesk], Awaitable[T]]) -> T:
    """Run ``work`` on a migrated database, then release the connections (the database alone:
    a campaign needs the bot token only for a link, when no NPSBOT_LINK_SECRET is set)."""
    async with Database.open(settings.database_url) as database:
        await database.migrate()
        return await work(CampaignDesk(settings, database.sessions))
