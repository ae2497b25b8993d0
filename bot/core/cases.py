"""A detractor's case as managers work it: its states, the follow-up checklist, who may act."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta


class CaseStatus(enum.StrEnum):
    """Open until a manager takes it; resolved when the manager says the loop is closed."""

    OPEN = "open"
    TAKEN = "taken"
    RESOLVED = "resolved"


class Step(enum.StrEnum):
    """The follow-up our service standard asks for, in the order it is usually done."""

    ACKNOWLEDGE = "acknowledge"
    APOLOGISE = "apologise"
    FIX = "fix"
    TELL = "tell"  # told the client what was done
    THANK = "thank"


CHECKLIST: tuple[Step, ...] = tuple(Step)


def toggled(done: list[str], step: Step) -> list[str]:
    """The checklist with ``step`` flipped, kept in CHECKLIST order whatever the press order."""
    chosen = set(done) ^ {step.value}
    return [item.value for item in CHECKLIST if item.value in chosen]


class PromptKind(enum.StrEnum):
    """What a manager's next message in the bot's private chat is for."""

    REPLY = "reply"  # relayed to the client
    NOTE = "note"  # the resolved case's note


@dataclass(frozen=True, slots=True)
class ManagerAccess:
    """Who may act as a manager: configured chats, and configured users when there are any.

    With no user list, membership of a managers' chat is the credential (Telegram only lets
    members press its buttons or write in it); with one, only those users count, anywhere.
    """

    chats: frozenset[int]
    users: frozenset[int]

    def may_act_in(self, *, chat_id: int, user_id: int) -> bool:
        """A press or command in ``chat_id`` by ``user_id``."""
        if chat_id == user_id:  # a private chat with the bot
            return user_id in self.users or chat_id in self.chats
        if chat_id not in self.chats:
            return False
        return not self.users or user_id in self.users

    def is_manager(self, user_id: int, *, member_of_managers_chat: bool = False) -> bool:
        """A user writing to the bot privately: listed, or (no list) known from the chat."""
        if self.users:
            return user_id in self.users
        return member_of_managers_chat


def reannounce_due(
    *,
    alerted_at: datetime,
    last_announced_at: datetime | None,
    count: int,
    every: timedelta | None,
    most: int,
    now: datetime,
) -> bool:
    """Whether an unclaimed alert should be announced again: every ``every``, ``most`` times."""
    if every is None or count >= most:
        return False
    return now - (last_announced_at or alerted_at) >= every


def score_history(scores: list[int]) -> str:
    """The client's scores oldest first, as "9 → 8 → 3"."""
    return " → ".join(str(score) for score in scores)
