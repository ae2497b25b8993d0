"""How a helpdesk's body appears in /openapi.json: its route's schema and the models behind it.

Each helpdesk's body module declares one ``RequestBody``; its adapter class carries it, so the
routes and the document's components are read from the registry of adapters, not from a list.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from bot.intake.adapters.bodies.fields import REF, ref


@dataclass(frozen=True, slots=True)
class RequestBody:
    """One helpdesk's body: the forms it may take, and any header it is read with.

    Signature headers are not parameters: they are checked before anything is read, and a
    generated client does not send them.
    """

    forms: tuple[type[BaseModel], ...]  # one model, or the forms a body may take (anyOf)
    headers: tuple[dict[str, Any], ...] = ()

    @property
    def schema(self) -> dict[str, Any]:
        """The route's request body schema: a reference, or any of the references."""
        refs = [ref(model) for model in self.forms]
        return refs[0] if len(refs) == 1 else {"anyOf": refs}


def components(bodies: Iterable[RequestBody]) -> dict[str, Any]:
    """Every body model (and the models inside them), by name, for the document's components."""
    models = [model for body in bodies for model in body.forms]
    _, schema = models_json_schema([(model, "validation") for model in models], ref_template=REF)
    defs: dict[str, Any] = schema["$defs"]
    return defs
