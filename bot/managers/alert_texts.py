"""What managers read: the alert with its case's progress, its buttons, and the relay messages.

Every sentence is a literal msgid for ``pybabel extract``; client and helpdesk text is escaped.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from html import escape
from typing import NotRequired
from urllib.parse import quote
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.core.callback import encode_case, encode_recovery
from bot.core.cases import CHECKLIST, CaseStatus, Step, score_history
from bot.core.nps import Category, classify
from bot.delivery.payloads import EditMessageText, Markup, SendMessage
from bot.i18n import Translator
from storage.models import AlertCase
from storage.survey_queries import SurveyContext

TELEGRAM_LIMIT = 4096
ALERT_BUDGET = 4000  # the alert's HTML, an upper bound of what Telegram counts, stays under this
ALERT_COMMENT_LIMIT = 3000
NOTE_LIMIT = 1000  # a case note; longer ones are cut when saved, and the manager is told
RELAY_LIMIT = 3500
HTML = "HTML"


def step_label(tr: Translator, step: Step) -> str:
    """A checklist step as the manager reads it."""
    labels = {
        Step.ACKNOWLEDGE: tr.gettext("Acknowledged the problem"),
        Step.APOLOGISE: tr.gettext("Apologised"),
        Step.FIX: tr.gettext("Fixed it"),
        Step.TELL: tr.gettext("Told the client what was done"),
        Step.THANK: tr.gettext("Thanked the client"),
    }
    return labels[step]


def ticket_url(template: str | None, external_id: str, helpdesks: Collection[str]) -> str | None:
    """The ticket's page in the helpdesk; ``{id}`` is the helpdesk's own id (no ``zendesk:``).

    ``helpdesks`` are the prefixes the adapters put on their ids (``bot.intake.adapters``,
    passed in by the composition root: managers do not depend on the intake).
    """
    if not template or external_id.startswith("forgotten:"):
        return None
    prefix, colon, rest = external_id.partition(":")
    own_id = rest if colon and prefix in helpdesks else external_id
    return template.replace("{id}", quote(own_id, safe="")).replace(
        "{external_id}", quote(external_id, safe="")
    )


@dataclass(frozen=True, slots=True)
class AlertView:
    """Everything an alert shows: the survey, and its case once there is one."""

    context: SurveyContext
    case: AlertCase | None
    history: list[int]


@dataclass(frozen=True, slots=True)
class AlertTexts:
    """Renders alerts in the managers' language and time zone."""

    tr: Translator
    tz: ZoneInfo
    ticket_url_template: str | None = None
    helpdesks: frozenset[str] = frozenset()  # the id prefixes ``ticket_url`` strips

    def _time(self, moment: datetime) -> str:
        return moment.astimezone(self.tz).strftime("%d.%m %H:%M")

    def _header(self, score: int) -> str:
        if classify(score) == Category.DETRACTOR:
            header = self.tr.gettext("Detractor: %(score)s/10") % {"score": score}
        else:  # the client changed a low score within the change window
            header = self.tr.gettext("Score changed to %(score)s/10: no longer a detractor") % {
                "score": score
            }
        return f"🔴 <b>{escape(header)}</b>"

    def _ticket(self, external_id: str) -> str:
        label = escape(self.tr.gettext("Ticket"))
        url = ticket_url(self.ticket_url_template, external_id, self.helpdesks)
        shown = f"<code>{escape(external_id)}</code>"
        if url:
            shown = f'<a href="{escape(url)}">{escape(external_id)}</a>'
        return f"{label}: {shown}"

    def _facts(self, view: AlertView) -> list[str]:
        tr, survey, customer = self.tr, view.context.survey, view.context.customer
        facts = [
            (tr.gettext("Customer"), customer.name or customer.helpdesk_id),
            (tr.gettext("Company"), survey.company or customer.company),
            (tr.gettext("Agent"), survey.agent),
            (tr.gettext("Team"), survey.team),
            (tr.gettext("Channel"), survey.channel),
        ]
        lines = [f"{escape(label)}: {escape(value)}" for label, value in facts if value]
        if len(view.history) > 1:
            label = escape(tr.gettext("Scores so far"))
            lines.append(f"{label}: {escape(score_history(view.history))}")
        return lines

    def _comment(self, view: AlertView, limit: int = ALERT_COMMENT_LIMIT) -> str:
        tr, survey = self.tr, view.context.survey
        if survey.comment:
            comment = survey.comment
            if len(comment) > limit:
                comment = comment[: limit - 1] + "…"
            label = escape(tr.gettext("Comment"))
            return f"{label}:\n<blockquote>{escape(comment)}</blockquote>"
        if survey.voice_file_id:
            seconds = survey.voice_seconds or 0
            note = tr.ngettext(
                "Voice comment, %(count)s second: below.",
                "Voice comment, %(count)s seconds: below.",
                seconds,
            ) % {"count": seconds}
            return f"<i>{escape(note)}</i>"
        waiting = survey.completed_at is None
        note = tr.gettext("Waiting for a comment…") if waiting else tr.gettext("No comment.")
        return f"<i>{escape(note)}</i>"

    def _progress(self, case: AlertCase) -> list[str]:
        tr, lines = self.tr, []
        if case.taken_at and case.taken_by_name:
            lines.append(
                "🙋 "
                + escape(
                    tr.gettext("Taken by %(name)s at %(time)s")
                    % {"name": case.taken_by_name, "time": self._time(case.taken_at)}
                )
            )
        elif case.reannounce_count:
            lines.append("⏰ " + escape(tr.gettext("Nobody has taken this yet")))
        if case.first_contact_at:
            lines.append(
                "💬 "
                + escape(
                    tr.gettext("Client contacted at %(time)s")
                    % {"time": self._time(case.first_contact_at)}
                )
            )
        if case.status == CaseStatus.RESOLVED and case.resolved_at:
            lines.append(
                "✅ "
                + escape(
                    tr.gettext("Resolved by %(name)s at %(time)s")
                    % {"name": case.resolved_by_name or "?", "time": self._time(case.resolved_at)}
                )
            )
            done = [step_label(tr, Step(step)) for step in case.checklist if step in set(Step)]
            if done:
                lines.append(escape(tr.gettext("Done: %(steps)s") % {"steps": ", ".join(done)}))
            if case.resolution_note:
                label = escape(tr.gettext("Note"))
                lines.append(f"{label}:\n<blockquote>{escape(case.resolution_note)}</blockquote>")
        if case.recovery_answered_at is not None:
            answer = (
                tr.gettext("Client says we made it right")
                if case.recovery_answer
                else tr.gettext("Client says we did not make it right")
            )
            lines.append(("💚 " if case.recovery_answer else "💔 ") + escape(answer))
        elif case.recovery_asked_at is not None:
            lines.append("❔ " + escape(tr.gettext("Asked the client whether we made it right")))
        return lines

    def text(self, view: AlertView) -> str:
        """The alert body: who, what, the client's words, and how far the case has got."""
        survey = view.context.survey
        head = [
            self._header(survey.score if survey.score is not None else 0),
            self._ticket(view.context.ticket.external_id),
            *self._facts(view),
        ]
        progress = self._progress(view.case) if view.case is not None else []
        tail = ["", *progress] if progress else []
        # The comment gets what the rest leaves, so an edit never grows past Telegram's limit
        # (HTML length bounds the visible length Telegram counts).
        rest = len("\n".join([*head, *tail])) + 40
        limit = max(100, min(ALERT_COMMENT_LIMIT, ALERT_BUDGET - rest))
        return "\n".join([*head, self._comment(view, limit), *tail])

    def keyboard(self, case: AlertCase | None, *, checklist: bool = False) -> Markup | None:
        """The buttons for the case's state, or the checklist while it is being resolved."""
        if case is None or case.id is None:
            return None
        tr, case_id = self.tr, case.id
        if checklist:
            rows = [
                [
                    InlineKeyboardButton(
                        ("☑ " if step.value in case.checklist else "☐ ") + step_label(tr, step),
                        callback_data=encode_case(case_id, "step", index),
                    )
                ]
                for index, step in enumerate(CHECKLIST)
            ]
            rows.append(
                [
                    InlineKeyboardButton(
                        "✅ " + tr.gettext("Save as resolved"),
                        callback_data=encode_case(case_id, "done"),
                    ),
                    InlineKeyboardButton(
                        tr.gettext("Back"), callback_data=encode_case(case_id, "back")
                    ),
                ]
            )
            return InlineKeyboardMarkup(rows).to_dict()
        reply = InlineKeyboardButton(
            "💬 " + tr.gettext("Reply to client"), callback_data=encode_case(case_id, "reply")
        )
        if case.status == CaseStatus.RESOLVED:
            return InlineKeyboardMarkup([[reply]]).to_dict()
        first = [
            InlineKeyboardButton(
                "✅ " + tr.gettext("Resolved"), callback_data=encode_case(case_id, "resolve")
            )
        ]
        if case.status == CaseStatus.OPEN:
            first.insert(
                0,
                InlineKeyboardButton(
                    "🙋 " + tr.gettext("Take it"), callback_data=encode_case(case_id, "take")
                ),
            )
        return InlineKeyboardMarkup([first, [reply]]).to_dict()

    def payload(self, view: AlertView, *, checklist: bool = False) -> SendMessage:
        """sendMessage / editMessageText parameters for the alert."""
        payload: SendMessage = {"text": self.text(view), "parse_mode": HTML}
        markup = self.keyboard(view.case, checklist=checklist)
        if markup is not None:
            payload["reply_markup"] = markup
        return payload

    def reannounce_payload(self, *, alert_message_id: int, waited: timedelta) -> SendMessage:
        """The reminder under an alert nobody has taken: whole hours, or minutes under one."""
        hours = int(waited.total_seconds() // 3600)
        if hours >= 1:
            text = self.tr.ngettext(
                "Nobody has taken this detractor for %(count)s hour.",
                "Nobody has taken this detractor for %(count)s hours.",
                hours,
            ) % {"count": hours}
        else:
            minutes = int(waited.total_seconds() // 60)
            text = self.tr.ngettext(
                "Nobody has taken this detractor for %(count)s minute.",
                "Nobody has taken this detractor for %(count)s minutes.",
                minutes,
            ) % {"count": minutes}
        return {
            "text": f"⏰ {escape(text)}",
            "parse_mode": HTML,
            "reply_to_message_id": alert_message_id,
        }

    def prompt_payload(self, view: AlertView, *, note: bool) -> SendMessage:
        """Asks the manager, in the private chat, for a reply to the client or the case note."""
        ticket = view.context.ticket.external_id
        if note:
            text = self.tr.gettext(
                "Case of ticket %(ticket)s is resolved. Write a short note on what was done "
                "(your next message here), or /cancel."
            )
        else:
            text = self.tr.gettext(
                "Write your reply to the client of ticket %(ticket)s: your next message here "
                "goes to them from the bot. /cancel to stop."
            )
        return {"text": escape(text % {"ticket": ticket}), "parse_mode": HTML}

    def client_answered_payload(self, view: AlertView, case_id: int, text: str) -> SendMessage:
        """The client's answer, brought back to the manager who wrote to them."""
        heading = self.tr.gettext("The client of ticket %(ticket)s answered:") % {
            "ticket": view.context.ticket.external_id
        }
        shown = text if len(text) <= RELAY_LIMIT else text[: RELAY_LIMIT - 1] + "…"
        button = InlineKeyboardButton(
            "💬 " + self.tr.gettext("Reply to client"), callback_data=encode_case(case_id, "reply")
        )
        return {
            "text": f"{escape(heading)}\n<blockquote>{escape(shown)}</blockquote>",
            "parse_mode": HTML,
            "reply_markup": InlineKeyboardMarkup([[button]]).to_dict(),
        }

    def plain(self, text: str) -> SendMessage:
        """A short confirmation in the manager's private chat."""
        return {"text": escape(text), "parse_mode": HTML}

    def open_cases_text(self, views: list[AlertView], now: datetime) -> str:
        """/alerts: the cases not yet resolved, oldest first."""
        tr = self.tr
        if not views:
            return escape(tr.gettext("No open cases. Well done!"))
        title = tr.ngettext("%(count)s open case", "%(count)s open cases", len(views)) % {
            "count": len(views)
        }
        lines = [f"<b>{escape(title)}</b>"]
        shown = 0
        for view in views[:30]:
            case, survey = view.case, view.context.survey
            assert case is not None  # noqa: S101  (listed views are cases)
            hours = int((now - case.created_at).total_seconds() // 3600)
            age = tr.ngettext("%(count)s hour ago", "%(count)s hours ago", hours) % {"count": hours}
            owner = (
                tr.gettext("taken by %(name)s") % {"name": case.taken_by_name}
                if case.taken_by_name
                else tr.gettext("nobody has taken it")
            )
            line = (
                f"• {survey.score}/10 · <code>{escape(view.context.ticket.external_id)}</code>"
                f" · {escape(age)} · {escape(owner)}"
            )
            if len("\n".join([*lines, line])) > ALERT_BUDGET - 100:
                break
            lines.append(line)
            shown += 1
        if len(views) > shown:
            more = len(views) - shown
            lines.append(
                escape(
                    tr.ngettext("…and %(count)s more", "…and %(count)s more", more)
                    % {"count": more}
                )
            )
        return "\n".join(lines)


class RelayedMessage(SendMessage):
    """A manager's message to the client, as the outbox keeps it."""

    # Not a Bot API parameter (BotSender passes only Telegram's): tells the failure hook which
    # manager to warn if the client never gets it.
    relayed_by: NotRequired[int]


def relay_to_client_payload(tr: Translator, *, company: str, ticket: str, text: str) -> SendMessage:
    """A manager's message as the client reads it: who writes, about what, and the words."""
    heading = tr.gettext("A message from %(company)s about your request %(ticket)s:") % {
        "company": company,
        "ticket": ticket,
    }
    footer = tr.gettext("You can answer right here.")
    shown = text if len(text) <= RELAY_LIMIT else text[: RELAY_LIMIT - 1] + "…"
    return {
        "text": f"{escape(heading)}\n\n{escape(shown)}\n\n<i>{escape(footer)}</i>",
        "parse_mode": HTML,
    }


def recovery_payload(tr: Translator, *, case_id: int, ticket: str) -> SendMessage:
    """The short re-survey after a resolved case: did we make it right?"""
    text = tr.gettext(
        "We followed up on your feedback about request %(ticket)s. Did we make it right?"
    ) % {"ticket": ticket}
    buttons = [
        InlineKeyboardButton(
            "👍 " + tr.gettext("Yes"), callback_data=encode_recovery(case_id, answer=True)
        ),
        InlineKeyboardButton(
            "👎 " + tr.gettext("No"), callback_data=encode_recovery(case_id, answer=False)
        ),
    ]
    return {
        "text": escape(text),
        "parse_mode": HTML,
        "reply_markup": InlineKeyboardMarkup([buttons]).to_dict(),
    }


def recovery_answered_payload(tr: Translator, *, ticket: str, answer: bool) -> EditMessageText:
    """The recovery question once answered: the answer shown, the buttons gone."""
    question = tr.gettext(
        "We followed up on your feedback about request %(ticket)s. Did we make it right?"
    ) % {"ticket": ticket}
    reply = (
        tr.gettext("Yes. Thank you for telling us!")
        if answer
        else tr.gettext("No. Thank you for telling us; a manager will look into it again.")
    )
    return {"text": f"{escape(question)}\n\n<b>{escape(reply)}</b>", "parse_mode": HTML}
