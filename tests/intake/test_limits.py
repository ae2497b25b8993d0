"""Every free-text field has a limit: the direct API refuses a longer value with a 422 naming the
field, a helpdesk webhook keeps the closing and stores the value cut or dropped.

Through the HTTP app and the database, as a helpdesk or an integrator meets it.
"""

from __future__ import annotations

import copy
import itertools
import json
from typing import Any

import httpx
import pytest
from sqlmodel import SQLModel, select

from bot.intake import limits
from storage.db import SessionFactory
from storage.models import Customer, Survey, Ticket
from storage.tables import table_of
from tests.intake.cases import BY_NAME, CASES, Case, encode, load
from tests.intake.conftest import API_TOKEN, stored

BEARER = {"Authorization": f"Bearer {API_TOKEN}"}
TICKET: dict[str, Any] = {
    "ticket_id": "T-1",
    "closed_at": "2026-11-18T09:45:00Z",
    "customer": {"id": "c-1"},
}
# (path in the body, limit): every text the direct API stores.
GENERIC_FIELDS = [
    (("ticket_id",), limits.ID),
    (("customer", "id"), limits.ID),
    (("customer", "name"), limits.TEXT),
    (("customer", "company"), limits.TEXT),
    (("customer", "phone"), limits.PHONE),
    (("customer", "language"), limits.LANGUAGE),
    (("agent",), limits.TEXT),
    (("team",), limits.TEXT),
    (("channel",), limits.TEXT),
    (("tags", 0), limits.TAG),
]
# Where each helpdesk's closing fixture keeps its tags.
TAG_PATHS = {
    "zendesk": ("detail", "tags"),
    "freshdesk": ("freshdesk_webhook", "ticket_tags"),
    "zammad": ("ticket", "tags"),
    "helpscout": ("tags",),
    "chatwoot": ("labels",),
    "jira": ("issue", "fields", "labels"),
}


def with_value(data: dict[str, Any], path: tuple[str | int, ...], value: object) -> dict[str, Any]:
    """A copy of ``data`` with ``value`` at ``path``; an index makes a one-item list."""
    data = copy.deepcopy(data)
    target: Any = data
    for key, then in itertools.pairwise(path):
        target = target.setdefault(key, [None] if isinstance(then, int) else {})
    target[path[-1]] = value
    return data


def field_name(path: tuple[str | int, ...]) -> str:
    return ".".join(str(part) for part in path)


@pytest.mark.parametrize(("path", "limit"), GENERIC_FIELDS, ids=str)
async def test_direct_api_takes_each_text_up_to_its_limit_and_names_it_beyond(
    client: httpx.AsyncClient, sessions: SessionFactory, path: tuple[str | int, ...], limit: int
) -> None:
    at_limit = with_value(TICKET, path, "é" * limit)  # characters, not bytes
    accepted = await client.post("/api/v1/tickets/closed", json=at_limit, headers=BEARER)
    assert accepted.status_code == 202, accepted.text
    before = await stored(sessions)
    over = with_value(TICKET | {"ticket_id": "T-2"}, path, "é" * (limit + 1))
    refused = await client.post("/api/v1/tickets/closed", json=over, headers=BEARER)
    assert refused.status_code == 422, refused.text
    problem = refused.json()
    assert [field["field"] for field in problem["fields"]] == [field_name(path)]
    assert str(limit) in problem["fields"][0]["problem"]
    assert await stored(sessions) == before


async def test_direct_api_refuses_more_tags_than_the_limit_naming_tags(
    client: httpx.AsyncClient, sessions: SessionFactory
) -> None:
    most = TICKET | {"tags": [f"t{n}" for n in range(limits.TAGS)]}
    assert (await client.post("/api/v1/tickets/closed", json=most, headers=BEARER)).is_success
    before = await stored(sessions)
    more = TICKET | {"ticket_id": "T-2", "tags": [f"t{n}" for n in range(limits.TAGS + 1)]}
    refused = await client.post("/api/v1/tickets/closed", json=more, headers=BEARER)
    assert refused.status_code == 422
    assert [field["field"] for field in refused.json()["fields"]] == ["tags"]
    assert await stored(sessions) == before


async def test_a_request_of_long_tags_stores_nothing(
    client: httpx.AsyncClient, sessions: SessionFactory
) -> None:
    """The black-box finding: one accepted request stored megabytes of tags in a survey row."""
    ticket = TICKET | {"tags": ["x" * 20_000 for _ in range(limits.TAGS)]}
    body = json.dumps(ticket).encode()
    assert len(body) > 900_000  # as much as the body cap lets through
    refused = await client.post(
        "/api/v1/tickets/closed",
        content=body,
        headers=BEARER | {"Content-Type": "application/json"},
    )
    assert refused.status_code == 422
    assert refused.json()["error"].startswith("invalid request: tags.0, tags.1")
    assert await stored(sessions) == (0, 0, 0)


async def closed_survey(sessions: SessionFactory, ticket_id: str) -> Survey:
    async with sessions() as session:
        query = select(Survey).join(Ticket).where(Ticket.external_id == ticket_id)
        return (await session.exec(query)).one()


async def customer_of(sessions: SessionFactory, survey: Survey) -> Customer:
    async with sessions() as session:
        found = await session.get(Customer, survey.customer_id)
        assert found is not None
        return found


async def post_webhook(
    client: httpx.AsyncClient, case: Case, data: dict[str, Any]
) -> httpx.Response:
    body = encode(data)
    return await client.post(
        f"/api/v1/webhooks/{case.name}",
        content=body,
        headers=case.headers(body) | {"Content-Type": "application/json"},
    )


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
async def test_webhook_with_too_many_too_long_tags_keeps_the_closing_and_bounded_tags(
    client: httpx.AsyncClient, sessions: SessionFactory, case: Case
) -> None:
    many = [f"{n:03d}" + "x" * 2000 for n in range(400)]
    path = TAG_PATHS[case.name]
    value: object = ",".join(many) if case.name == "freshdesk" else many
    if case.name == "helpscout":
        value = [{"tag": tag} for tag in many]
    response = await post_webhook(client, case, with_value(case.body(), path, value))
    assert response.status_code == 202, response.text
    survey = await closed_survey(sessions, case.ticket_id)
    assert len(survey.tags) == limits.TAGS
    assert all(len(tag) == limits.TAG for tag in survey.tags)
    assert survey.tags[0] == many[0][: limits.TAG]


async def test_webhook_drops_an_agent_or_group_id_too_long_to_be_an_id(
    client: httpx.AsyncClient, sessions: SessionFactory
) -> None:
    case = BY_NAME["zendesk"]
    data = case.body({"detail.assignee_id": "9" * 300, "detail.group_id": "8" * 300})
    response = await post_webhook(client, case, data)
    assert response.status_code == 202, response.text
    survey = await closed_survey(sessions, case.ticket_id)
    assert (survey.agent, survey.team) == (None, None)


async def test_zammad_owner_id_too_long_still_closes(
    client: httpx.AsyncClient, sessions: SessionFactory
) -> None:
    case = BY_NAME["zammad"]
    response = await post_webhook(client, case, case.body({"ticket.owner.id": "5" * 300}))
    assert response.status_code == 202, response.text
    assert (await closed_survey(sessions, case.ticket_id)).agent == "Emma Taylor"


async def test_webhook_drops_a_phone_too_long_to_be_one_rather_than_cut_it(
    client: httpx.AsyncClient, sessions: SessionFactory
) -> None:
    """Cut to its first 64 characters, this one would read as a valid, different number."""
    case = BY_NAME["zendesk"]
    data = load("zendesk_trigger_solved.json")
    phone = "+7 900 123-45-67" + " " * 60 + "ext. 5, or ask for Ivan at reception"
    data["ticket"]["requester"]["phone"] = phone
    response = await post_webhook(client, case, data)
    assert response.status_code == 202, response.text
    customer = await customer_of(sessions, await closed_survey(sessions, case.ticket_id))
    assert customer.phone is None
    assert customer.name == "Anna Smirnova"


async def test_freshdesk_hashes_the_whole_address_so_long_ones_stay_apart(
    client: httpx.AsyncClient, sessions: SessionFactory
) -> None:
    case = BY_NAME["freshdesk"]
    shared = "a" * 300
    for n, address in enumerate([f"{shared}1@example.com", f"{shared}2@example.com"]):
        data = case.body(
            {
                "freshdesk_webhook.requester_id": ...,
                "freshdesk_webhook.requester_email": address,
                "freshdesk_webhook.ticket_id": f"20{n}",
            }
        )
        assert (await post_webhook(client, case, data)).status_code == 202
    async with sessions() as session:
        customers = (await session.exec(select(Customer.helpdesk_id))).all()
    assert len(set(customers)) == 2
    assert all(len(key) < 64 and shared not in key for key in customers)


def column_length(model: type[SQLModel], column: str) -> int:
    length = table_of(model).c[column].type.length
    assert isinstance(length, int), (model.__name__, column)
    return length


def test_every_limit_fits_the_column_it_is_stored_in() -> None:
    prefixed = limits.HELPDESK_ID + max(len(f"{name}:") for name in BY_NAME)
    stores: list[tuple[int, type[SQLModel], str]] = [
        (max(limits.ID, prefixed), Ticket, "external_id"),
        (max(limits.ID, prefixed), Customer, "helpdesk_id"),
        (limits.TEXT, Customer, "name"),
        (limits.TEXT, Customer, "company"),
        (limits.PHONE, Customer, "phone"),
        (limits.LANGUAGE, Customer, "language"),
        *((limits.TEXT, Survey, column) for column in ("agent", "team", "channel", "company")),
    ]
    for limit, model, column in stores:
        assert column_length(model, column) >= limit, (model.__name__, column)


@pytest.mark.parametrize("case", ["zendesk", "freshdesk"])
async def test_a_telegram_id_of_thousands_of_digits_is_not_one(
    client: httpx.AsyncClient, sessions: SessionFactory, case: str
) -> None:
    """Python refuses to convert more than 4300 digits: that was a 500, and a lost closing."""
    helpdesk = BY_NAME[case]
    if case == "zendesk":
        data = load("zendesk_trigger_solved.json")
        data["ticket"]["requester"]["telegram_user_id"] = "9" * 5000
    else:
        data = helpdesk.body({"freshdesk_webhook.requester_telegram_user_id": "9" * 5000})
    response = await post_webhook(client, helpdesk, data)
    assert response.status_code == 202, response.text
    customer = await customer_of(sessions, await closed_survey(sessions, helpdesk.ticket_id))
    assert customer.telegram_user_id is None
