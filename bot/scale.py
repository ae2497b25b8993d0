"""The 0..10 scale keyboard, shared by the client survey and the employee question.

Both surveys must look the same, and eNPS must not depend on the client survey (the parts
table in docs/ARCHITECTURE.md), so the one keyboard lives here, beside them. It builds PTB
markup and reads translations, so it cannot live in the pure ``bot.core``.
"""

from __future__ import annotations

from collections.abc import Callable

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.core.callback import HINT
from bot.core.nps import MAX_SCORE
from bot.delivery.payloads import Markup
from bot.i18n import Translator

FIRST_ROW_END = 5  # 0..5 on the first row, 6..10 on the second: fits a phone without scrolling


def scale_keyboard(
    tr: Translator, data_for: Callable[[int], str], *, chosen: int | None = None
) -> Markup:
    """0..10 in two rows that fit a phone, the ends labelled below; ``data_for`` names a press."""
    buttons = [
        InlineKeyboardButton(
            f"· {score} ·" if score == chosen else str(score), callback_data=data_for(score)
        )
        for score in range(MAX_SCORE + 1)
    ]
    labels = [
        InlineKeyboardButton(tr.gettext("0 = not at all likely"), callback_data=HINT),
        InlineKeyboardButton(tr.gettext("10 = extremely likely"), callback_data=HINT),
    ]
    rows = [buttons[: FIRST_ROW_END + 1], buttons[FIRST_ROW_END + 1 :], labels]
    return InlineKeyboardMarkup(rows).to_dict()
