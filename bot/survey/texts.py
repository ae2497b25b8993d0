"""Everything the client reads, as Telegram payloads ready for the outbox (HTML, escaped)."""

from __future__ import annotations

from html import escape

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)

from bot.core.callback import encode_rating, encode_score, encode_skip
from bot.core.nps import Category, classify
from bot.delivery.payloads import EditMessageText, Markup, SendMessage
from bot.i18n import Translator
from bot.scale import scale_keyboard

HTML = "HTML"


def score_keyboard(tr: Translator, survey_id: int, *, chosen: int | None = None) -> Markup:
    """The survey's 0..10 keyboard.

    After a tap the chosen number is marked, so the client sees their answer and may still
    change it while the change window lasts.
    """
    return scale_keyboard(tr, lambda score: encode_score(survey_id, score), chosen=chosen)


def skip_keyboard(survey_id: int, tr: Translator) -> Markup:
    """A single Skip button under the comment question."""
    button = InlineKeyboardButton(tr.gettext("Skip"), callback_data=encode_skip(survey_id))
    return InlineKeyboardMarkup([[button]]).to_dict()


def question_text(tr: Translator, *, company: str, ticket: str) -> str:
    """The NPS question, naming the request it is about."""
    about = tr.gettext("About your request %(ticket)s.") % {"ticket": f"<b>{escape(ticket)}</b>"}
    question = tr.gettext(
        "How likely are you to recommend %(company)s to a friend or colleague?"
    ) % {"company": escape(company)}
    return f"{about}\n\n{question}"


def question_payload(tr: Translator, *, survey_id: int, company: str, ticket: str) -> SendMessage:
    """sendMessage parameters of the question."""
    return {
        "text": question_text(tr, company=company, ticket=ticket),
        "parse_mode": HTML,
        "reply_markup": score_keyboard(tr, survey_id),
    }


def answered_payload(
    tr: Translator,
    *,
    company: str,
    ticket: str,
    score: int,
    survey_id: int | None = None,
    change_minutes: int = 0,
) -> EditMessageText:
    """The question as it reads after the tap: the choice shown.

    While the change window is open (``survey_id`` given), the keyboard stays with the choice
    marked and a line says how long it may be changed; then the keyboard goes.
    """
    choice = tr.gettext("Your answer: %(score)s") % {"score": f"<b>{score}</b>"}
    payload: EditMessageText = {
        "text": f"{question_text(tr, company=company, ticket=ticket)}\n\n{choice}",
        "parse_mode": HTML,
    }
    if survey_id is not None:
        note = tr.ngettext(
            "You can change it within %(count)s minute.",
            "You can change it within %(count)s minutes.",
            change_minutes,
        ) % {"count": change_minutes}
        payload["text"] += f"\n<i>{note}</i>"
        payload["reply_markup"] = score_keyboard(tr, survey_id, chosen=score)
    return payload


def follow_up_text(tr: Translator, score: int) -> str:
    """The comment question, which depends on the score's band."""
    questions = {
        Category.DETRACTOR: tr.gettext("What went wrong?"),
        Category.PASSIVE: tr.gettext("What would make it a 10?"),
        Category.PROMOTER: tr.gettext("What did you like most?"),
    }
    hint = tr.gettext("Reply with a few words, or press Skip.")
    return f"{questions[classify(score)]}\n<i>{hint}</i>"


def follow_up_payload(tr: Translator, *, survey_id: int, score: int) -> SendMessage:
    """sendMessage parameters of the comment question with its Skip button."""
    return {
        "text": follow_up_text(tr, score),
        "parse_mode": HTML,
        "reply_markup": skip_keyboard(survey_id, tr),
    }


def follow_up_closed_payload(tr: Translator, *, score: int) -> EditMessageText:
    """The comment question without its button, once the comment has arrived."""
    return {"text": follow_up_text(tr, score), "parse_mode": HTML}


def thanks_payload(
    tr: Translator,
    *,
    score: int | None = None,
    review_url: str | None = None,
    managers_alerted: bool = False,
) -> SendMessage:
    """The last word of a completed survey, with what happens next for its band.

    A detractor hears that a manager will get in touch (only when alerts are on: no empty
    promises); a promoter may get the public review link the operator configured.
    """
    lines = [tr.gettext("Thank you for your feedback!")]
    band = classify(score) if score is not None else None
    if band is Category.DETRACTOR and managers_alerted:
        lines.append(tr.gettext("A manager will get in touch with you about it."))
    if band is not Category.PROMOTER or not review_url:
        return {"text": "\n".join(lines), "parse_mode": HTML}
    lines.append(tr.gettext("If you have a minute, a public review would help us a lot."))
    button = InlineKeyboardButton(tr.gettext("Leave a review"), url=review_url)
    return {
        "text": "\n".join(lines),
        "parse_mode": HTML,
        "reply_markup": InlineKeyboardMarkup([[button]]).to_dict(),
    }


def greeting_payload(tr: Translator, *, company: str) -> SendMessage:
    """The answer to a plain /start: who we are and what will happen."""
    text = tr.gettext(
        "Hello! This is the feedback bot of %(company)s. After your support request is closed, "
        "I will ask you one short question about it here. Nothing else, no advertising."
    ) % {"company": escape(company)}
    return {"text": text, "parse_mode": HTML}


def linked_payload(tr: Translator, *, company: str) -> SendMessage:
    """Confirmation after a deep link tied this chat to the client's helpdesk account."""
    text = tr.gettext(
        "Thank you! This chat is now connected to your %(company)s support account."
    ) % {"company": escape(company)}
    return {"text": text, "parse_mode": HTML}


def bad_link_payload(tr: Translator) -> SendMessage:
    """A /start payload that is not ours, or belongs to someone else."""
    text = tr.gettext(
        "This link is not valid for your account. Please use the link from your own support "
        "conversation."
    )
    return {"text": text, "parse_mode": HTML}


def press_answer(tr: Translator, rejection: str | None) -> str:
    """The short toast a button press gets (answerCallbackQuery)."""
    answers = {
        None: tr.gettext("Thank you!"),
        "unknown": tr.gettext("This survey is no longer available."),
        "not_yours": tr.gettext("This survey belongs to someone else."),
        "already_answered": tr.gettext("You have already answered. Thank you!"),
        "expired": tr.gettext("This survey has expired. Thank you all the same!"),
        "hint": tr.gettext("Tap a number from 0 to 10."),
    }
    return answers.get(rejection, answers["unknown"])


def reminder_payload(tr: Translator, *, question_message_id: int) -> SendMessage:
    """The one reminder: a reply to the question, so its buttons stay the place to answer."""
    text = tr.gettext("A gentle reminder: one tap on the question above helps us a lot.")
    return {"text": text, "parse_mode": HTML, "reply_to_message_id": question_message_id}


def link_expired_payload(tr: Translator) -> SendMessage:
    """A genuine link that is too old."""
    text = tr.gettext("This link has expired. Please ask our support team for a new one.")
    return {"text": text, "parse_mode": HTML}


def contact_request_payload(tr: Translator, *, company: str) -> SendMessage:
    """A plain /start from someone we cannot place: offer to match them by phone number."""
    text = tr.gettext(
        "If you have contacted %(company)s support before, share your phone number and I will "
        "find your requests."
    ) % {"company": escape(company)}
    button = KeyboardButton(tr.gettext("Share my phone number"), request_contact=True)
    markup = ReplyKeyboardMarkup([[button]], resize_keyboard=True, one_time_keyboard=True)
    return {"text": text, "parse_mode": HTML, "reply_markup": markup.to_dict()}


def contact_result_payload(tr: Translator, outcome: str, *, company: str) -> SendMessage:
    """The answer to a shared contact; the phone keyboard goes away."""
    texts = {
        "linked": tr.gettext(
            "Thank you! This chat is now connected to your %(company)s support account."
        ),
        "unknown": tr.gettext(
            "I could not find this number in %(company)s support records. If you used another "
            "number, please ask support for a link."
        ),
        "not_own": tr.gettext("Please share your own contact with the button below."),
    }
    payload: SendMessage = {
        "text": texts[outcome] % {"company": escape(company)},
        "parse_mode": HTML,
    }
    if outcome != "not_own":  # keep the button for a second try
        payload["reply_markup"] = ReplyKeyboardRemove().to_dict()
    return payload


def words_please_payload(tr: Translator) -> SendMessage:
    """A sticker, photo or the like where a comment is awaited: ask for words, store nothing."""
    return {"text": tr.gettext("Please type a few words, or press Skip."), "parse_mode": HTML}


def rating_payload(tr: Translator, *, survey_id: int, question: int, label: str) -> SendMessage:
    """One of the operator's extra questions, answered 1..5 in one row."""
    buttons = [
        InlineKeyboardButton(str(value), callback_data=encode_rating(survey_id, question, value))
        for value in range(1, 6)
    ]
    scale = tr.gettext("1 = poor, 5 = excellent")
    return {
        "text": f"<b>{escape(label)}</b>\n<i>{escape(scale)}</i>",
        "parse_mode": HTML,
        "reply_markup": InlineKeyboardMarkup([buttons]).to_dict(),
    }


def rated_payload(*, label: str, value: int) -> EditMessageText:
    """The extra question once answered: the choice shown, the buttons gone."""
    return {"text": f"<b>{escape(label)}</b>: {value}/5", "parse_mode": HTML}
