"""Reaching the client: tie a Telegram chat to a helpdesk customer.

Three ways in: a signed deep link (one survey's, or a customer's "connect Telegram" link), a plain
/start from a Telegram user the helpdesk already named, or a shared contact whose phone number
matches the customer's. Whichever way, the customer's waiting surveys go out at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from bot.core import deeplink
from bot.core.clock import Clock
from bot.core.deeplink import LinkKind
from bot.core.survey import SurveyStatus
from bot.delivery.payloads import SendMessage
from bot.i18n import Translator, normalize_language, translator
from bot.phones import normalize_shared_contact
from bot.survey import client_command_texts, texts
from bot.survey.outbound import client_translator, queue_message
from bot.survey.sweep import SurveySweep
from storage import clients, survey_queries
from storage.db import SessionFactory
from storage.models import Customer, Survey

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ClientLinking:
    """Links chats to customers and hands their due surveys to the sweep."""

    session_factory: SessionFactory
    sweep: SurveySweep
    link_secret: bytes
    company: str
    default_language: str
    wake: Callable[[], None]
    clock: Clock

    def _tr(self, language: str | None) -> Translator:
        return client_translator(None, telegram_language=language, default=self.default_language)

    async def _reply(self, chat_id: int, payload: SendMessage) -> None:
        async with self.session_factory() as session:
            await queue_message(session, chat_id, payload, now=self.clock())
            await session.commit()
        self.wake()

    async def greet(self, *, user_id: int, chat_id: int, language: str | None) -> None:
        """A plain /start: greet; a client the helpdesk named gets their surveys, others may
        share their phone number to be found."""
        tr, now = self._tr(language), self.clock()
        async with self.session_factory() as session:
            if await clients.opt_in(session, user_id=user_id):
                await queue_message(session, chat_id, client_command_texts.resumed(tr), now=now)
            greeting = texts.greeting_payload(tr, company=self.company)
            await queue_message(session, chat_id, greeting, now=now)
            customer_ids = await survey_queries.link_known_user(
                session, user_id=user_id, chat_id=chat_id
            )
            if not customer_ids:
                offer = texts.contact_request_payload(tr, company=self.company)
                await queue_message(session, chat_id, offer, now=now)
            await session.commit()
        self.wake()
        for customer_id in customer_ids:
            await self.sweep.queue_due(customer_id=customer_id)

    async def open_link(
        self, *, payload: str, user_id: int, chat_id: int, language: str | None
    ) -> bool:
        """Follow a signed /start payload: link the chat and send the waiting survey at once.

        The client is here now, so a survey link sends its survey even before its scheduled
        time, and even if an earlier attempt found the bot blocked.
        """
        now = self.clock()
        claim = deeplink.read_payload(self.link_secret, payload)
        # A campaign's join link is handled by bot.enps; here its id would name a customer.
        if claim is None or claim.kind is LinkKind.CAMPAIGN:
            logger.info("rejected a forged or malformed /start payload")
            await self._reply(chat_id, texts.bad_link_payload(self._tr(language)))
            return False
        if claim.expired(now):
            await self._reply(chat_id, texts.link_expired_payload(self._tr(language)))
            return False
        async with self.session_factory() as session:
            await clients.opt_in(session, user_id=user_id)  # opening a link is asking to be asked
            survey_id = claim.target_id if claim.kind is LinkKind.SURVEY else None
            if survey_id is not None:
                context = await survey_queries.load_context(session, survey_id=survey_id)
                customer_id = context.customer.id if context else None
            else:
                customer_id = claim.target_id
            if customer_id is None or not await survey_queries.link_customer_chat(
                session,
                customer_id=customer_id,
                user_id=user_id,
                chat_id=chat_id,
                language=language,
            ):
                await session.rollback()
                logger.info("refused a /start payload of another user's customer")
                await self._reply(chat_id, texts.bad_link_payload(self._tr(language)))
                return False
            customer = await session.get(Customer, customer_id)
            known_language = customer.language if customer else None
            tr = translator(normalize_language(known_language or language, self.default_language))
            linked = texts.linked_payload(tr, company=self.company)
            await queue_message(session, chat_id, linked, now=now)
            survey = None if survey_id is None else await session.get(Survey, survey_id)
            fresh = survey is not None and survey.due_at > self.sweep.rules.expiry_cutoff(now)
            if (
                survey_id is not None
                and fresh
                and await survey_queries.change_status(
                    session,
                    survey_id=survey_id,
                    expected=(SurveyStatus.UNREACHABLE, SurveyStatus.PENDING),
                    values={"status": SurveyStatus.PENDING, "completed_at": None},
                )
            ):
                # The client asked for this survey: it goes now, whatever its schedule.
                await self.sweep.queue_one(session, survey_id=survey_id, now=now, throttle=False)
            await session.commit()
        self.wake()
        await self.sweep.queue_due(customer_id=customer_id)
        return True

    async def share_contact(
        self,
        *,
        user_id: int,
        chat_id: int,
        contact_user_id: int | None,
        phone: str,
        language: str | None,
    ) -> bool:
        """Match a shared contact to helpdesk customers by phone number (only one's own)."""
        tr = self._tr(language)
        if contact_user_id != user_id:
            await self._reply(
                chat_id, texts.contact_result_payload(tr, "not_own", company=self.company)
            )
            return False
        normalized = normalize_shared_contact(phone)
        linked: list[int] = []
        async with self.session_factory() as session:
            matches = (
                []
                if normalized is None
                else await survey_queries.customers_with_phone(session, phone=normalized)
            )
            for customer in matches:
                if customer.id is not None and await survey_queries.link_customer_chat(
                    session,
                    customer_id=customer.id,
                    user_id=user_id,
                    chat_id=chat_id,
                    language=language,
                ):
                    linked.append(customer.id)
            outcome = "linked" if linked else "unknown"
            result = texts.contact_result_payload(tr, outcome, company=self.company)
            await queue_message(session, chat_id, result, now=self.clock())
            await session.commit()
        self.wake()
        for customer_id in linked:
            await self.sweep.queue_due(customer_id=customer_id)
        return bool(linked)
