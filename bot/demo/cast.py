"""Who takes part in the demo and what each client will do, decided up front from a seed.

Deciding everything before anything runs keeps a run reproducible even though the clients act
at once: the order in which the bot serves them may vary, what they press never does.
"""

# ruff: noqa: RUF001  (the Russian clients' names and comments are Cyrillic on purpose)

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta
from typing import Final

from bot.core.nps import Category, classify

MANAGERS_CHAT: Final = -1001000000001
MANAGERS_CHAT_TITLE: Final = "Support managers"
MANAGER_ID: Final = 7001
MANAGER_NAME: Final = "Dana"
FIRST_USER_ID: Final = 500001
COMPANY: Final = "ACME"

# A support team's NPS: mostly promoters, about one client in six a detractor.
DETRACTOR_SHARE: Final = 0.17
PASSIVE_SHARE: Final = 0.28
LINK_SHARE: Final = 0.3  # helpdesks that do not know the client's Telegram id send a deep link
RUSSIAN_SHARE: Final = 0.25
COMMENT_CHANCE: Final = {Category.DETRACTOR: 0.7, Category.PASSIVE: 0.5, Category.PROMOTER: 0.5}
DETRACTOR_SCORES: Final = (0, 1, 2, 3, 4, 5, 6)
DETRACTOR_WEIGHTS: Final = (1, 1, 1, 2, 2, 3, 4)  # angry zeros are rarer than lukewarm sixes

AGENTS: Final = ("Ivan Petrov", "Maria Garcia", "Tom Baker", "Aisha Khan", "Lena Vogel")
TEAMS: Final = ("L1 support", "L2 support", "Billing")
CHANNELS: Final = ("email", "chat", "phone", "telegram")
COMPANIES: Final = ("Globex", "Initech", "Umbrella", "Hooli", None)
NAMES: Final = {
    "en": (
        "Anna Lee", "Ben Carter", "Chloe Adams", "David Moore", "Emma Hughes", "Frank Wu",
        "Grace Kim", "Henry Ford", "Isla Brown", "Jack Wilson", "Kate Young", "Liam Scott",
        "Mia Turner", "Noah Price", "Olivia Hall", "Paul Reed",
    ),
    "ru": (
        "Алексей Смирнов", "Ольга Иванова", "Дмитрий Кузнецов", "Екатерина Попова",
        "Сергей Соколов", "Наталья Лебедева", "Андрей Козлов", "Мария Новикова",
    ),
}  # fmt: skip
COMMENTS: Final = {
    ("en", Category.DETRACTOR): (
        "Nobody answered for three days.",
        "The fix broke something else.",
        "I had to explain the problem four times.",
        "Closed the ticket without solving it.",
    ),
    ("en", Category.PASSIVE): (
        "Fine, but it took a while.",
        "OK in the end, the first answer was a template.",
        "Good, a bit slow on the phone.",
    ),
    ("en", Category.PROMOTER): (
        "Fast and friendly, thank you!",
        "Solved in ten minutes.",
        "Clear explanation, thanks.",
        "Great support, as always.",
    ),
    ("ru", Category.DETRACTOR): (
        "Ждал ответа три дня.",
        "Проблему так и не решили.",
        "Пришлось звонить несколько раз.",
    ),
    ("ru", Category.PASSIVE): ("В целом нормально, но долго.", "Решили, но со второго раза."),
    ("ru", Category.PROMOTER): ("Быстро и вежливо, спасибо!", "Всё решили за полчаса."),
}
RESOLUTION_NOTE: Final = "Called the client, apologised and fixed the account by hand."


@dataclass(frozen=True, slots=True)
class ClientPlan:
    """One client, their ticket, and what they will do with the survey."""

    number: int
    user_id: int
    name: str
    language: str
    ticket_id: str
    customer_id: str
    agent: str
    team: str
    channel: str
    company: str | None
    via_link: bool  # the helpdesk does not know their Telegram id: they open the deep link
    score: int
    comment: str | None  # None: they press Skip
    closed_ago: timedelta

    @property
    def category(self) -> Category:
        return classify(self.score)


def band_counts(count: int) -> dict[Category, int]:
    """How many clients of each band: fixed shares rather than dice, so a run of ``count``
    clients always has the same mix, and the managers' chat stays within Telegram's 20 messages
    a minute for the default size."""
    detractors = max(1, round(count * DETRACTOR_SHARE)) if count >= 2 else 0
    passives = round(count * PASSIVE_SHARE) if count >= 3 else 0
    return {
        Category.DETRACTOR: detractors,
        Category.PASSIVE: passives,
        Category.PROMOTER: count - detractors - passives,
    }


def _score(rng: random.Random, band: Category) -> int:
    if band is Category.DETRACTOR:
        return rng.choices(DETRACTOR_SCORES, DETRACTOR_WEIGHTS)[0]
    if band is Category.PASSIVE:
        return rng.choice((7, 8))
    return rng.choices((9, 10), (2, 3))[0]


def make_cast(count: int, seed: int) -> tuple[ClientPlan, ...]:
    """``count`` clients, the same ones for the same ``seed``."""
    if count < 1:
        raise ValueError("the demo needs at least one client")
    rng = random.Random(seed)  # noqa: S311  (a demo's dice, not a secret)
    bands = [band for band, n in band_counts(count).items() for _ in range(n)]
    rng.shuffle(bands)
    used: dict[str, int] = {}
    cast = []
    for number, band in enumerate(bands, start=1):
        language = "ru" if rng.random() < RUSSIAN_SHARE else "en"
        names = NAMES[language]
        first = names[used.get(language, 0) % len(names)]
        used[language] = used.get(language, 0) + 1
        comment = None
        if rng.random() < COMMENT_CHANCE[band]:
            comment = rng.choice(COMMENTS[language, band])
        cast.append(
            ClientPlan(
                number=number,
                user_id=FIRST_USER_ID + number,
                name=first,
                language=language,
                ticket_id=f"T-{1000 + number}",
                customer_id=f"c-{1000 + number}",
                agent=rng.choice(AGENTS),
                team=rng.choice(TEAMS),
                channel=rng.choice(CHANNELS),
                company=rng.choice(COMPANIES),
                via_link=rng.random() < LINK_SHARE,
                score=_score(rng, band),
                comment=comment,
                closed_ago=timedelta(minutes=rng.randint(5, 90)),
            )
        )
    return tuple(cast)
