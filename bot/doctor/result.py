"""A check's verdict, and the list an operator reads."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TextIO

SHOWN_FROM = 12  # a shorter secret is too short to show any of it


class Status(enum.StrEnum):
    """PASS and WARN leave the exit code at 0; FAIL makes it 1; SKIP: could not be checked."""

    PASS = "pass"  # noqa: S105  (a verdict, not a password)
    WARN = "warn"
    FAIL = "fail"
    SKIP = "skip"


@dataclass(frozen=True, slots=True)
class Check:
    """One line of the doctor's list: what was checked, the verdict, and what to do."""

    name: str
    status: Status
    detail: str


def passed(checks: Iterable[Check]) -> bool:
    """Whether nothing failed or went unchecked (warnings are advice, not failures)."""
    return all(check.status in (Status.PASS, Status.WARN) for check in checks)


def mask_token(token: str) -> str:
    """A bot token fit to print: the bot id (public) and the secret's last 4 characters."""
    bot_id, _, secret = token.partition(":")
    if not secret or len(secret) < SHOWN_FROM:
        return "****"
    return f"{bot_id}:…{secret[-4:]}"


def render(checks: Iterable[Check], stream: TextIO) -> None:
    """``PASS  name  detail`` lines, then the verdict."""
    checks = list(checks)
    width = max((len(check.name) for check in checks), default=0)
    for check in checks:
        stream.write(f"{check.status.upper():<4}  {check.name:<{width}}  {check.detail}\n")
    counts = {status: sum(c.status is status for c in checks) for status in Status}
    summary = ", ".join(f"{n} {status}" for status, n in counts.items() if n)
    verdict = "ready" if passed(checks) else "not ready"
    stream.write(f"\n{verdict}: {summary}\n")
