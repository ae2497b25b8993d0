"""What the bot says about the client's rights and choices: /stop, /forget, /help, /language."""

from __future__ import annotations

from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.core.callback import encode_language, encode_rights
from bot.delivery.payloads import Markup, SendMessage
from bot.i18n import SUPPORTED_LANGUAGES, Translator

HTML = "HTML"
LANGUAGE_NAMES = {"en": "English", "ru": "Русский"}  # each in its own language, never translated


def _confirm(tr: Translator, action: str, yes: str) -> Markup:
    buttons = [
        InlineKeyboardButton(yes, callback_data=encode_rights(action, confirmed=True)),
        InlineKeyboardButton(
            tr.gettext("Cancel"), callback_data=encode_rights(action, confirmed=False)
        ),
    ]
    return InlineKeyboardMarkup([buttons]).to_dict()


def stop_question(tr: Translator) -> SendMessage:
    """/stop asks before it acts: a stray tap must not silence a client for good."""
    text = tr.gettext("Stop all surveys? You can turn them back on at any time with /start.")
    return {
        "text": text,
        "parse_mode": HTML,
        "reply_markup": _confirm(tr, "stop", tr.gettext("Yes, stop surveys")),
    }


def forget_question(tr: Translator) -> SendMessage:
    """/forget asks before it erases anything: it cannot be undone."""
    text = tr.gettext(
        "Erase your personal data? We delete the link to this chat, your name, phone number and "
        "comments. Your scores stay as anonymous numbers for statistics. This cannot be undone."
    )
    return {
        "text": text,
        "parse_mode": HTML,
        "reply_markup": _confirm(tr, "forget", tr.gettext("Yes, erase my data")),
    }


def stopped(tr: Translator) -> SendMessage:
    """The confirmation after /stop."""
    text = tr.gettext("Done: you will not get surveys any more. Send /start to turn them back on.")
    return {"text": text, "parse_mode": HTML}


def forgotten(tr: Translator) -> SendMessage:
    """The confirmation after /forget."""
    text = tr.gettext("Done: your personal data has been erased.")
    return {"text": text, "parse_mode": HTML}


def unchanged(tr: Translator) -> SendMessage:
    """Cancel on a confirmation."""
    return {"text": tr.gettext("Nothing was changed."), "parse_mode": HTML}


def resumed(tr: Translator) -> SendMessage:
    """/start after /stop."""
    return {"text": tr.gettext("Welcome back: surveys are on again."), "parse_mode": HTML}


def help_text(tr: Translator, *, company: str) -> SendMessage:
    """/help: what the bot does, the commands, and what is stored and why."""
    lines = [
        tr.gettext(
            "I ask one short question after your request to %(company)s support is closed, "
            "so that the team can see what works and what does not."
        )
        % {"company": escape(company)},
        "",
        tr.gettext("/language — change the language"),
        tr.gettext("/stop — no more surveys (/start turns them back on)"),
        tr.gettext("/forget — erase your personal data"),
        "",
        "<b>" + escape(tr.gettext("Privacy")) + "</b>",
        tr.gettext(
            "We store the link between this chat and your support account, your name and phone "
            "number as the support team knows them, your scores and your comments. They are used "
            "only to improve the service; managers see the comments of low scores to get in touch. "
            "Nothing is shared with third parties."
        ),
    ]
    return {"text": "\n".join(lines), "parse_mode": HTML}


def language_question(tr: Translator) -> SendMessage:
    """/language: one button per supported language, each named in itself."""
    buttons = [
        InlineKeyboardButton(LANGUAGE_NAMES.get(code, code), callback_data=encode_language(code))
        for code in SUPPORTED_LANGUAGES
    ]
    return {
        "text": tr.gettext("Choose your language:"),
        "parse_mode": HTML,
        "reply_markup": InlineKeyboardMarkup([buttons]).to_dict(),
    }


def language_chosen(tr: Translator) -> SendMessage:
    """Said in the language just chosen."""
    return {"text": tr.gettext("I will speak English from now on."), "parse_mode": HTML}
