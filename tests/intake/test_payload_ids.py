"""Ids as helpdesks send them: strings or integers, and integers that JSON wrote as floats.

Some helpdesks' JSON encoders write a large integer id as ``123.0``; it is the same id. A real
fraction or a boolean is no id at all and is refused, naming where it was.
"""

from __future__ import annotations

import pytest

from bot.intake.adapters.base import PayloadError
from bot.intake.adapters.payload import Obj


@pytest.mark.parametrize(("sent", "read"), [("T-1", "T-1"), (123, "123"), (123.0, "123")])
def test_an_id_is_a_string_or_an_integer_even_written_as_a_float(sent: object, read: str) -> None:
    ticket = Obj({"id": sent, "agent_id": sent}, "ticket")
    assert ticket.id("id") == read
    assert ticket.label_id("agent_id") == read


@pytest.mark.parametrize("sent", [1.5, True, ["T-1"], {"id": 1}])
def test_anything_else_is_refused_naming_where_it_was(sent: object) -> None:
    with pytest.raises(PayloadError, match=r"ticket\.id must be a string or an integer"):
        Obj({"id": sent}, "ticket").id("id")
