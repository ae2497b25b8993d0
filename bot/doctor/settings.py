"""Read the settings for the doctor: every bad variable reported, the rest still checked.

``npsbot run`` stops at invalid settings, which is right for a process; the doctor's job is to
list everything that is wrong, so an invalid value is replaced by its default for the other
checks and reported (with what was given) instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError

from bot.config import Settings, load_settings


@dataclass(frozen=True, slots=True)
class Problem:
    """An invalid setting: the variable, the value given and what is wrong with it."""

    variable: str
    value: object
    message: str


def read_settings(**overrides: object) -> tuple[Settings, dict[str, Problem]]:
    """The settings, with invalid fields at their defaults, and the problems keyed by field."""
    try:
        return load_settings(**overrides), {}
    except ValidationError as error:
        problems: dict[str, Problem] = {}
        for item in error.errors():
            field = str(item["loc"][0]) if item["loc"] else ""
            message = str(item["msg"]).removeprefix("Value error, ")
            problems.setdefault(
                field, Problem(f"NPSBOT_{field.upper()}", item.get("input"), message)
            )
    defaults = {
        name: Settings.model_fields[name].get_default(call_default_factory=True)
        for name in problems
        if name in Settings.model_fields
    }
    return load_settings(**overrides, **defaults), problems
