"""``GET /readyz`` and ``GET /metrics`` on the process's FastAPI app.

``/metrics`` is open unless NPSBOT_METRICS_TOKEN is set; it names no person, but its counts are
the business's own, so keep it off the public proxy (README). The token is compared in
constant time.
"""

from __future__ import annotations

import hmac
from typing import Literal

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import BaseModel

from bot.intake.auth import bearer_token
from bot.intake.schemas import ErrorOut
from bot.observability.metrics import Metrics
from bot.observability.readiness import Readiness


class ReadinessOut(BaseModel):
    """Whether the instance is ready, and each check's "ok" or why not."""

    status: Literal["ready", "not ready"]
    checks: dict[str, str]


def ops_router(readiness: Readiness, metrics: Metrics, *, metrics_token: str | None) -> APIRouter:
    """Readiness for load balancers, metrics for Prometheus."""
    router = APIRouter(tags=["health"])
    expected = metrics_token.encode() if metrics_token else None

    @router.get(
        "/readyz",
        response_model=ReadinessOut,
        responses={503: {"model": ReadinessOut, "description": "Not ready: named in checks"}},
        summary="The database answers and Telegram is reachable",
    )
    async def readyz() -> JSONResponse:
        ready, checks = await readiness.report()
        body = ReadinessOut(status="ready" if ready else "not ready", checks=checks)
        return JSONResponse(
            body.model_dump(),
            status_code=status.HTTP_200_OK if ready else status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Cache-Control": "no-store"},
        )

    @router.get(
        "/metrics",
        response_class=Response,
        responses={
            200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text format"},
            401: {"model": ErrorOut, "description": "NPSBOT_METRICS_TOKEN is set: bearer needed"},
        },
        summary="Prometheus metrics (bearer NPSBOT_METRICS_TOKEN when set)",
    )
    async def prometheus_metrics(request: Request) -> Response:
        if expected is not None:
            token = bearer_token(request)
            if token is None or not hmac.compare_digest(token.encode("utf-8", "replace"), expected):
                raise HTTPException(
                    status.HTTP_401_UNAUTHORIZED,
                    "missing or wrong bearer token (NPSBOT_METRICS_TOKEN)",
                    headers={"WWW-Authenticate": "Bearer"},
                )
        return Response(await metrics.exposition(), media_type=CONTENT_TYPE_LATEST)

    return router
