"""The one exception type the fake Bot API raises inside request handlers.

Handlers raise :class:`ApiError` instead of building responses themselves so that every
error leaves the server in the exact envelope Telegram uses (``ok``/``error_code``/
``description``/``parameters``) -- PTB picks its exception class from that envelope, and the
tests of the bot rely on getting the same exception classes as in production.
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """A Bot API error answer: HTTP status, Telegram description and optional parameters."""

    def __init__(
        self, status: int, description: str, parameters: dict[str, Any] | None = None
    ) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def payload(self) -> dict[str, Any]:
        """The JSON body Telegram sends for this error."""
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.status,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(reason: str) -> ApiError:
    """400 with Telegram's ``Bad Request: `` prefix, which PTB turns into ``BadRequest``."""
    return ApiError(400, f"Bad Request: {reason}")


def forbidden(reason: str) -> ApiError:
    """403 with Telegram's ``Forbidden: `` prefix, which PTB turns into ``Forbidden``."""
    return ApiError(403, f"Forbidden: {reason}")


def too_many_requests(retry_after: int) -> ApiError:
    """429 carrying ``retry_after``, which PTB turns into ``RetryAfter``."""
    return ApiError(
        429,
        f"Too Many Requests: retry after {retry_after}",
        {"retry_after": retry_after},
    )
