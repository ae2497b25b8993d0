"""What happened in a demo run: each party's part, as tests and the report read it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bot.core.callback import CasePress, Press, decode
from bot.demo.cast import ClientPlan
from bot.sandbox import SentMessage


class DemoError(RuntimeError):
    """The demo cannot run as asked (a used folder or database) or the product misbehaved."""


@dataclass
class ClientRun:
    """One client's part: their survey, what they saw when it arrived and what they pressed."""

    plan: ClientPlan
    survey_id: int
    deep_link: str | None
    seen: dict[int, SentMessage] = field(default_factory=dict)  # as received, keyboard and all
    pressed: dict[int, str] = field(default_factory=dict)  # message id -> button label
    messages: list[SentMessage] = field(default_factory=list)  # the chat at the end
    alert: SentMessage | None = None  # the managers' alert about this client, at the end


@dataclass(frozen=True, slots=True)
class ManagerStep:
    """A button a manager pressed and the toast Telegram showed them."""

    button: str
    toast: str | None


@dataclass
class ManagerRun:
    """The manager who closed the loop on one detractor."""

    name: str
    case_of: ClientRun
    steps: list[ManagerStep] = field(default_factory=list)
    private_chat: list[SentMessage] = field(default_factory=list)


@dataclass
class DemoResult:
    """What happened, for the report and for tests."""

    folder: Path
    seed: int
    clients: list[ClientRun]
    managers_chat: list[SentMessage]
    manager: ManagerRun | None
    digest: list[SentMessage]  # text, chart, CSV, as the managers' chat shows them
    chart: Path
    csv: Path
    transcript: Path | None = None

    @property
    def alerts(self) -> list[SentMessage]:
        """Messages in the managers' chat that carry a case's buttons."""
        return [m for m in self.managers_chat if find_button(m, lambda p: isinstance(p, CasePress))]

    @property
    def digest_text(self) -> SentMessage:
        return self.digest[0]


def find_button(message: SentMessage, wanted: Callable[[Press], bool]) -> dict[str, str] | None:
    """The first inline button whose callback data decodes to a press ``wanted`` accepts."""
    for button in message.buttons():
        press = decode(button.get("callback_data"))
        if press is not None and wanted(press):
            return {"text": str(button["text"]), "data": str(button["callback_data"])}
    return None
