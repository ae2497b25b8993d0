"""The JSON each reader of ``payload.Obj`` takes, as types for the webhook bodies in /openapi.json.

The body models are documentation: no request is validated with them, the adapters read the
raw body. So each type states exactly what its reader accepts, and tests/intake/test_contract.py
holds the models and the adapters together:

- a text (``Obj.text``): a string or a number; cut to 255 characters, and blank is absent;
- an id (``Obj.id``): a string of at most 200 characters or an integer; a longer one is refused;
- a label id (``Obj.label_id``): a string or an integer; one too long is dropped;
- an object (``Obj.obj``): an object, or null or "" (a blank placeholder) for none;
- "needed" (``require_*``): there, and not blank.

A field read only when another one is unusable (v1's names, ``requester_email``) is declared
as anything, with ``either`` on its model saying the rule: the first usable, or the second one
valid. A field whose reading depends on other values' meaning is described and left open.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, StringConstraints, TypeAdapter

from bot.intake import limits

# A character that neither NUL removal nor str.strip() takes away: a text holding one is not
# blank. Spelled out, as str.isspace() is neither JSON Schema's \s nor Unicode's White_Space
# (it takes U+001C-U+001F and U+0085, it leaves U+FEFF).
NON_BLANK = (
    r"[^\x00\t\n\x0b\x0c\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
)

Text = str | float | None
NeededText = Annotated[str, StringConstraints(pattern=NON_BLANK)] | float
Id = Annotated[str, StringConstraints(max_length=limits.HELPDESK_ID)] | int | None
NeededId = Annotated[str, StringConstraints(max_length=limits.HELPDESK_ID, pattern=NON_BLANK)] | int
LabelId = str | int | None
Open = Any  # read without a type of its own (tags, times): never a reason to refuse

REF = "#/components/schemas/{model}"
# The same types as JSON Schema, for fields declared by hand (``has``, ``either``).
TEXT: dict[str, Any] = TypeAdapter(Text).json_schema()
USABLE_TEXT: dict[str, Any] = TypeAdapter(NeededText).json_schema()
USABLE_ID: dict[str, Any] = TypeAdapter(NeededId).json_schema()
LABEL_ID: dict[str, Any] = TypeAdapter(LabelId).json_schema()
OBJECT: dict[str, Any] = {"type": "object"}


class Body(BaseModel):
    """A helpdesk's JSON object: the fields npsbot reads, and anything else the helpdesk sends."""

    model_config = ConfigDict(extra="allow")


def ref(model: type[BaseModel]) -> dict[str, Any]:
    """A reference to ``model`` among the document's components."""
    return {"$ref": REF.format(model=model.__name__)}


def nested(model: type[BaseModel]) -> dict[str, Any]:
    """An optional object of ``model``'s shape (``Obj.obj``)."""
    return {"anyOf": [ref(model), {"const": ""}, {"type": "null"}]}


def has(field: str, schema: dict[str, Any]) -> dict[str, Any]:
    """An object whose ``field`` is there and is a ``schema``."""
    return {"required": [field], "properties": {field: schema}}


def either(
    usable: dict[str, Any], then: str, schema: dict[str, Any], *, needed: bool = False
) -> dict[str, Any]:
    """Unless the object is ``usable``, its ``then`` is read and must be a ``schema``.

    ``needed``: and then it must be there, as nothing else can stand in for it.
    """
    fallback: dict[str, Any] = {"properties": {then: schema}}
    if needed:
        fallback["required"] = [then]
    return {"anyOf": [usable, fallback]}


def rules(*blocks: dict[str, Any]) -> ConfigDict:
    """A body model's config with rules between its fields (each an ``either``)."""
    return ConfigDict(extra="allow", json_schema_extra={"allOf": list(blocks)})
