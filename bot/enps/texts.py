"""Everything a campaign member reads, as Telegram payloads ready for the outbox (HTML, escaped).

None of them carries the member's score: the outbox keeps what it sent, and a row addressed to
a member must not tie them to an answer. The toast after a press is not stored, but says no more.
"""

from __future__ import annotations

from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.core.callback import encode_enps
from bot.delivery.payloads import EditMessageText, Markup, SendMessage
from bot.i18n import Translator
from bot.scale import scale_keyboard

HTML = "HTML"


def _message(text: str, markup: Markup | None = None) -> SendMessage:
    payload: SendMessage = {"text": text, "parse_mode": HTML}
    if markup is not None:
        payload["reply_markup"] = markup
    return payload


def question_text(tr: Translator, *, campaign: str, company: str, min_group: int) -> str:
    """The employee question, under the campaign's name and the promise of anonymity."""
    head = tr.gettext("%(campaign)s · anonymous survey") % {"campaign": escape(campaign)}
    question = tr.gettext("How likely are you to recommend %(company)s as a place to work?") % {
        "company": escape(company)
    }
    promise = tr.ngettext(
        "Your answer is anonymous: managers see only totals of at least %(count)s person.",
        "Your answer is anonymous: managers see only totals of at least %(count)s people.",
        min_group,
    ) % {"count": min_group}
    return f"<b>{head}</b>\n\n{question}\n\n<i>{promise}</i>"


def score_keyboard(tr: Translator, invitation_id: int) -> Markup:
    """The same 0..10 scale as the client survey's, its presses naming the invitation."""
    return scale_keyboard(tr, lambda score: encode_enps(invitation_id, score))


def question_payload(
    tr: Translator, *, invitation_id: int, campaign: str, company: str, min_group: int
) -> SendMessage:
    """sendMessage parameters of the question."""
    text = question_text(tr, campaign=campaign, company=company, min_group=min_group)
    return _message(text, score_keyboard(tr, invitation_id))


def recorded_payload(
    tr: Translator, *, campaign: str, company: str, min_group: int
) -> EditMessageText:
    """The question once answered: the keyboard gone, and no score shown (see the module)."""
    text = question_text(tr, campaign=campaign, company=company, min_group=min_group)
    done = tr.gettext("Your answer is recorded anonymously.")
    return _message(f"{text}\n\n✓ {done}")


def comment_text(tr: Translator) -> str:
    """The one follow-up question; the same whatever the score, so it gives nothing away."""
    question = tr.gettext(
        "Anything you would like to add? What would make it a better place to work?"
    )
    hint = tr.gettext(
        "Reply with a few words, or press Skip. Your comment is shown without your name."
    )
    return f"{question}\n<i>{hint}</i>"


def comment_payload(tr: Translator, *, invitation_id: int) -> SendMessage:
    """The follow-up question with its Skip button."""
    button = InlineKeyboardButton(
        tr.gettext("Skip"), callback_data=encode_enps(invitation_id, None)
    )
    return _message(comment_text(tr), InlineKeyboardMarkup([[button]]).to_dict())


def comment_closed_payload(tr: Translator) -> EditMessageText:
    """The follow-up question without its button, once answered or skipped."""
    return _message(comment_text(tr))


def thanks_payload(tr: Translator) -> SendMessage:
    """The last word of a member's round: the same after a comment and after Skip, so the
    messages the outbox keeps do not tell who wrote one of the round's comments."""
    return _message(tr.gettext("Thank you! Your answers are recorded anonymously."))


def reminder_payload(tr: Translator, *, question_message_id: int, closes: str) -> SendMessage:
    """The round's one reminder, as a reply to the question so its buttons stay the place."""
    text = tr.gettext("A gentle reminder: the anonymous survey above is open until %(date)s.") % {
        "date": escape(closes)
    }
    payload = _message(text)
    payload["reply_to_message_id"] = question_message_id
    return payload


def joined_payload(tr: Translator, *, campaign: str, company: str, already: bool) -> SendMessage:
    """The answer to opening a campaign's link."""
    values = {"campaign": escape(campaign), "company": escape(company)}
    if already:
        text = tr.gettext(
            "You are already in the %(campaign)s survey of %(company)s. I will write when the "
            "next round starts."
        )
    else:
        text = tr.gettext(
            "You have joined the %(campaign)s survey of %(company)s. When a round starts, I will "
            "ask you one anonymous question here."
        )
    return _message(text % values)


def bad_link_payload(tr: Translator) -> SendMessage:
    """A campaign link that is forged, expired, or of a campaign that no longer runs."""
    return _message(
        tr.gettext(
            "This survey link is not valid any more. Please ask whoever sent it for a new one."
        )
    )


def press_answer(tr: Translator, rejection: str | None) -> str:
    """The toast a press gets (answerCallbackQuery); never the score."""
    answers = {
        None: tr.gettext("Thank you!"),
        "unknown": tr.gettext("This survey is no longer available."),
        "not_yours": tr.gettext("This question was sent to someone else."),
        "already_answered": tr.gettext("You have already answered. Thank you!"),
        "closed": tr.gettext("This round is closed. Thank you all the same!"),
    }
    return answers.get(rejection, answers["unknown"])
