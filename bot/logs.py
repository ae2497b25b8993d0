"""Logging set-up for the CLI: one line per event, no personal data in our own messages."""

from __future__ import annotations

import logging


def configure_logging(level: str) -> None:
    """Log to stderr; keep httpx quiet, since it would log every Bot API URL with the token."""
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
