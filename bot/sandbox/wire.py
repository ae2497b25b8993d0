"""JSON as the fake puts it on the wire: raw UTF-8, or ``\\u`` escapes when it cannot be.

A test may press a button whose data holds a lone surrogate, as a forged update could carry it.
UTF-8 cannot encode one, so that body is sent with ASCII escapes, the only way it travels;
every other body stays raw UTF-8, as Telegram sends it.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import JSONResponse


def json_bytes(value: Any) -> bytes:
    """``value`` as compact JSON; escaped only if raw UTF-8 cannot hold it."""
    text = json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(value, allow_nan=False, separators=(",", ":")).encode("ascii")


class WireJSONResponse(JSONResponse):
    """Starlette's JSONResponse, which raises on a lone surrogate, rendered by ``json_bytes``."""

    def render(self, content: Any) -> bytes:
        """Render the body."""
        return json_bytes(content)
