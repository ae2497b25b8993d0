"""``POST /api/v1/webhooks/<helpdesk>``: verify, parse, then record through ``TicketIntake``.

The headers are checked first (``precheck``): a request without this helpdesk's credential is
refused before its body is read. Then the raw body is read once, through the size cap, and
handed to the adapter untouched: a signature is over the bytes the helpdesk sent. Every known
helpdesk has a route in /openapi.json whether configured or not; an unconfigured one answers
404 naming the variable to set.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from fastapi import APIRouter, FastAPI, HTTPException, Request, status

from bot.core.tickets import TicketClosed
from bot.intake.adapters import (
    HELPDESKS,
    Ignored,
    PayloadError,
    SignatureError,
    WebhookAdapter,
    WebhookEvent,
    bodies,
    secret_variable,
)
from bot.intake.outage import RETRY_AFTER_HEADER
from bot.intake.schemas import ErrorOut, IgnoredOut, ReopenedOut, SurveyOut, WebhookOut
from bot.intake.service import TicketIntake

logger = logging.getLogger(__name__)

ERRORS: dict[int | str, dict[str, object]] = {
    400: {"model": ErrorOut, "description": "Malformed JSON, or a field is missing (named)"},
    401: {"model": ErrorOut, "description": "Missing or wrong signature, or a stale timestamp"},
    404: {"model": ErrorOut, "description": "This helpdesk's secret is not configured"},
    413: {"model": ErrorOut, "description": "The body is over NPSBOT_HTTP_MAX_BODY_BYTES"},
    503: {
        "model": ErrorOut,
        "description": "The database is unavailable: retry after Retry-After seconds",
        "headers": RETRY_AFTER_HEADER,
    },
}
Endpoint = Callable[[Request], Awaitable[WebhookOut]]


async def apply_event(intake: TicketIntake, helpdesk: str, event: WebhookEvent) -> WebhookOut:
    """Record what the event means; ids only in the log, never personal data."""
    if isinstance(event, TicketClosed):
        result = await intake.close_ticket(event, source=helpdesk)
        logger.info("%s closed %s: survey %d", helpdesk, event.ticket_id, result.survey_id)
        return SurveyOut.of(result)
    if isinstance(event, Ignored):
        intake.ignored(helpdesk)
        logger.info("%s webhook ignored: %s", helpdesk, event.reason)
        return IgnoredOut(ignored=event.reason)
    cancelled = await intake.reopen_ticket(event.ticket_id, source=helpdesk)
    logger.info("%s reopened %s: %d survey(s) cancelled", helpdesk, event.ticket_id, cancelled)
    return ReopenedOut(ticket_id=event.ticket_id, cancelled=cancelled)


def _endpoint(
    intake: TicketIntake, helpdesk: str, adapter: WebhookAdapter | None, unset: str
) -> Endpoint:
    async def receive(request: Request) -> WebhookOut:
        if adapter is None:
            raise HTTPException(
                status.HTTP_404_NOT_FOUND, f"{helpdesk} is not configured: set {unset}"
            )
        try:
            adapter.precheck(headers=request.headers, now=intake.clock())
            body = await request.body()
            adapter.verify(headers=request.headers, body=body, now=intake.clock())
        except SignatureError as error:
            logger.warning("%s webhook refused: %s", helpdesk, error)
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, str(error)) from error
        try:
            event = adapter.parse(headers=request.headers, body=body)
        except PayloadError as error:
            logger.warning("%s webhook unreadable: %s", helpdesk, error)
            raise HTTPException(status.HTTP_400_BAD_REQUEST, str(error)) from error
        return await apply_event(intake, helpdesk, event)

    receive.__doc__ = (
        f"Verify the {helpdesk} webhook, then schedule a survey (closing), cancel unsent ones "
        "(reopening) or acknowledge it (other events). Setup: docs/integrations.md."
    )
    return receive


def _request_body(helpdesk: str, body: bodies.RequestBody) -> dict[str, object]:
    """The route's body as the adapter reads it (``bodies``), and any header it reads."""
    extra: dict[str, object] = {
        "requestBody": {
            "required": True,
            "description": (
                f"The JSON body as {helpdesk} sends it (docs/integrations.md), described as a "
                "closing: what is required is what a closing needs, and a field's type is "
                "checked when it is read. Other events need only the fields that say what they "
                "are, and are acknowledged. Anything else in the body is ignored."
            ),
            "content": {"application/json": {"schema": body.schema}},
        }
    }
    if body.headers:
        extra["parameters"] = list(body.headers)
    return extra


def document_bodies(app: FastAPI) -> None:
    """Add the webhook body models to ``app``'s OpenAPI components (they are no route's type)."""
    build = app.openapi
    # once: FastAPI caches the schema, but calls this every time
    models = bodies.components(helpdesk.body for helpdesk in HELPDESKS)

    def openapi() -> dict[str, Any]:
        schema = build()
        schema.setdefault("components", {}).setdefault("schemas", {}).update(models)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def webhook_router(intake: TicketIntake, adapters: Mapping[str, WebhookAdapter]) -> APIRouter:
    """One route per registered helpdesk (refusing with the variable to set while its secret is
    not), then a catch-all that names unknown helpdesks."""
    router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"])
    names = [helpdesk.name for helpdesk in HELPDESKS]
    for helpdesk in HELPDESKS:
        name, adapter, unset = helpdesk.name, adapters.get(helpdesk.name), secret_variable(helpdesk)
        router.add_api_route(
            f"/{name}",
            _endpoint(intake, name, adapter, unset),
            methods=["POST"],
            status_code=status.HTTP_202_ACCEPTED,
            response_model=WebhookOut,
            responses=ERRORS,
            summary=helpdesk.summary if adapter else f"{name} webhook ({unset})",
            operation_id=f"webhook_{name}",
            openapi_extra=_request_body(name, helpdesk.body),
        )

    @router.post("/{helpdesk}", include_in_schema=False)
    async def unknown(helpdesk: str) -> None:
        known = ", ".join(names)
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, f"unknown helpdesk {helpdesk[:40]!r}; known: {known}"
        )

    return router
