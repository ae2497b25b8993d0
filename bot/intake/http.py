"""The FastAPI application: intake routes, helpdesk webhooks, health, and clear errors."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from fastapi import APIRouter, FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from bot.intake.adapters import WebhookAdapter
from bot.intake.auth import SECURITY, Guard, document_security, guarded_route, intake_guard
from bot.intake.bodylimit import DEFAULT_MAX_BODY_BYTES, BodyLimit
from bot.intake.outage import RETRY_AFTER_HEADER, answer_outages_with_503
from bot.intake.schemas import (
    ConnectLinkOut,
    CustomerIn,
    ErrorOut,
    ReopenedOut,
    SurveyOut,
    TicketClosedIn,
    TicketReopenedIn,
)
from bot.intake.service import TicketIntake
from bot.intake.webhooks import document_bodies, webhook_router

DEFAULT_MAX_SKEW = timedelta(minutes=5)
JSON = "application/json"
ERRORS: dict[int | str, dict[str, object]] = {
    400: {"model": ErrorOut, "description": "Malformed JSON"},
    401: {"model": ErrorOut, "description": "Missing or wrong bearer token or signature"},
    413: {"model": ErrorOut, "description": "The body is over NPSBOT_HTTP_MAX_BODY_BYTES"},
    422: {"model": ErrorOut, "description": "A field is missing or invalid"},
    503: {
        "model": ErrorOut,
        "description": "Intake not configured, or the database is unavailable (retry)",
        "headers": RETRY_AFTER_HEADER,
    },
}


def _field_path(location: tuple[object, ...] | list[object]) -> str:
    parts = [str(part) for part in location]
    return ".".join(parts[1:] if parts and parts[0] == "body" else parts) or "body"


async def _validation_error(_request: Request, error: Exception) -> JSONResponse:
    """400 for a body that is not JSON at all, 422 naming each bad field otherwise."""
    assert isinstance(error, RequestValidationError)  # noqa: S101  (registered for this type)
    problems = error.errors()
    if any(problem.get("type") == "json_invalid" for problem in problems):
        detail = next(p for p in problems if p.get("type") == "json_invalid")
        context = detail.get("ctx", {}).get("error", "")
        body = ErrorOut(error=f"malformed JSON: {context}".strip().rstrip(":"))
        return JSONResponse(
            body.model_dump(exclude_defaults=True), status_code=status.HTTP_400_BAD_REQUEST
        )
    fields = [
        {"field": _field_path(problem.get("loc", ())), "problem": str(problem.get("msg", ""))}
        for problem in problems
    ]
    names = ", ".join(field["field"] for field in fields)
    body = ErrorOut(error=f"invalid request: {names}", fields=fields)
    return JSONResponse(body.model_dump(), status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)


async def _http_error(_request: Request, error: Exception) -> JSONResponse:
    """``{"error": ...}``; ``fields`` only where there are some.

    For Starlette's own errors too: FastAPI raises one for a body it cannot parse at all (JSON
    nested too deeply), and the router for an unknown path or a wrong method.
    """
    assert isinstance(error, StarletteHTTPException)  # noqa: S101  (registered for this type)
    return JSONResponse(
        ErrorOut(error=str(error.detail)).model_dump(exclude_defaults=True),
        status_code=error.status_code,
        headers=error.headers,
    )


def intake_router(intake: TicketIntake, guard: Guard) -> APIRouter:
    """Routes of the generic JSON intake and the connect link, behind one guard.

    The guard runs before the body is read (``guarded_route``), not as a dependency: FastAPI
    parses a body before it solves dependencies.
    """
    router = APIRouter(prefix="/api/v1", tags=["intake"], route_class=guarded_route(guard))

    @router.post(
        "/tickets/closed",
        status_code=status.HTTP_202_ACCEPTED,
        response_model=SurveyOut,
        responses=ERRORS,
        summary="A ticket was closed: schedule its NPS survey",
        openapi_extra={"security": SECURITY},
    )
    async def ticket_closed(ticket: TicketClosedIn) -> Response:
        """Record the ticket once; a repeat answers with the same survey."""
        answer = SurveyOut.of(await intake.close_ticket(ticket.to_event()))
        # Serialised here: FastAPI would validate the model it was just built from once more.
        return Response(answer.model_dump_json(), status_code=202, media_type=JSON)

    @router.post(
        "/tickets/reopened",
        status_code=status.HTTP_202_ACCEPTED,
        response_model=ReopenedOut,
        responses=ERRORS,
        summary="A ticket was reopened: cancel its surveys that have not gone out",
        openapi_extra={"security": SECURITY},
    )
    async def ticket_reopened(ticket: TicketReopenedIn) -> ReopenedOut:
        """A later closing of the ticket schedules a new survey."""
        cancelled = await intake.reopen_ticket(ticket.ticket_id)
        return ReopenedOut(ticket_id=ticket.ticket_id, cancelled=cancelled)

    @router.post(
        "/customers/connect-link",
        response_model=ConnectLinkOut,
        responses=ERRORS,
        summary="A customer's signed 'connect Telegram' deep link",
        openapi_extra={"security": SECURITY},
    )
    async def connect_link(customer: CustomerIn) -> ConnectLinkOut:
        """Record (or update) the customer and sign a link that ties their chat to them."""
        return ConnectLinkOut.of(await intake.connect_link(customer.to_info()))

    return router


def create_http_app(
    intake: TicketIntake,
    *,
    api_token: str | None,
    adapters: Mapping[str, WebhookAdapter] | None = None,
    generic_webhook_secret: str | None = None,
    webhook_max_skew: timedelta = DEFAULT_MAX_SKEW,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
) -> FastAPI:
    """The whole HTTP surface of one npsbot process.

    Every route, the Telegram webhook and the ops routes that ``NpsBot`` adds included, reads
    its body through ``BodyLimit``.
    """
    app = FastAPI(
        title="npsbot",
        summary="NPS surveys in Telegram after closed tickets",
        # No OpenTelemetry here: its per-request checks of the global providers (and of the
        # environment) cost about a tenth of the intake's CPU (docs/benchmarks.md).
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    answer_outages_with_503(app)
    guard = intake_guard(
        api_token,
        signing_secret=generic_webhook_secret,
        clock=intake.clock,
        max_skew=webhook_max_skew,
    )
    app.include_router(intake_router(intake, guard))
    document_security(app)
    app.include_router(webhook_router(intake, adapters or {}))
    document_bodies(app)

    @app.get("/healthz", tags=["health"], summary="The process is alive")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
