"""Reply-markup validation with Telegram's error texts.

Keyboards are where bots most often break at runtime: callback data over 64 bytes, a button
without an action, a malformed URL. The fake rejects those exactly as Telegram would, so
such bugs fail the test suite rather than the production chat.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from bot.sandbox.errors import bad_request

_BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
_MAX_CALLBACK_DATA_BYTES = 64


def _decode(value: object) -> object:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            raise bad_request("can't parse reply keyboard markup JSON object") from None
    return value


def _check_button(button: object) -> dict[str, Any]:
    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
        raise bad_request("can't parse inline keyboard button: Text must be a String")
    actions = [name for name in _BUTTON_ACTIONS if name in button]
    if not actions:
        raise bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    if len(actions) > 1:
        raise bad_request("can't parse inline keyboard button: more than one action specified")
    if "callback_data" in button:
        data = button["callback_data"]
        if not isinstance(data, str) or not 1 <= len(data.encode()) <= _MAX_CALLBACK_DATA_BYTES:
            raise bad_request("BUTTON_DATA_INVALID")
    if "url" in button:
        url = str(button["url"])
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https", "tg") or not (parts.netloc or parts.path):
            raise bad_request(f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL")
    return dict(button)


def parse_inline_keyboard(value: object) -> dict[str, Any] | None:
    """A validated ``InlineKeyboardMarkup`` as Telegram JSON, ``None`` if it has no buttons."""
    markup = _decode(value)
    if not isinstance(markup, dict) or "inline_keyboard" not in markup:
        raise bad_request("can't parse inline keyboard markup JSON object")
    rows = markup["inline_keyboard"]
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request(
            'field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays'
        )
    checked = [[_check_button(button) for button in row] for row in rows]
    checked = [row for row in checked if row]
    if not checked:
        return None
    return {"inline_keyboard": checked}


def parse_reply_markup(value: object) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """Split a ``reply_markup`` parameter into (inline keyboard, other keyboard).

    Only inline keyboards stay attached to a message; reply keyboards, ``remove_keyboard``
    and ``force_reply`` act on the user's client and are returned separately.
    """
    if value is None:
        return None, None
    markup = _decode(value)
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        return parse_inline_keyboard(markup), None
    if "keyboard" in markup:
        if not isinstance(markup["keyboard"], list) or not all(
            isinstance(row, list) for row in markup["keyboard"]
        ):
            raise bad_request('field "keyboard" of the ReplyKeyboardMarkup must be an Array')
        return None, dict(markup)
    if markup.get("remove_keyboard") is True or markup.get("force_reply") is True:
        return None, dict(markup)
    raise bad_request("can't parse reply keyboard markup JSON object")


def edit_markup(value: object) -> dict[str, Any] | None:
    """The keyboard an ``edit*`` call leaves on the message: absent means removed."""
    if value is None:
        return None
    return parse_inline_keyboard(value)
