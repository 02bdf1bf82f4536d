"""`/health/live` (depends on nothing external) and `/health/ready` (can this process serve requests?).

Ready means the required dependencies answer: the database. The broker is checked and reported (in the body
and as the `dependency_up` gauge) but does not make a service unready: writes go through the outbox and need no
broker, so taking every API out of service while Kafka is away would turn a delay into an outage.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiokafka.client import AIOKafkaClient
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from prometheus_client import Gauge

from servicekit.errors import problem_response
from servicekit.kafka_security import PLAINTEXT, KafkaSecurity

_log = logging.getLogger("servicekit.health")

Check = Callable[[], Awaitable[None]]


@dataclass
class ReadinessChecks:
    checks: dict[str, Check]
    timeout_s: float
    required: frozenset[str] = frozenset({"database"})
    gauge: Gauge | None = None

    def ready(self, results: dict[str, str]) -> bool:
        return all(results[name] == "ok" for name in self.required if name in results)

    async def run(self) -> dict[str, str]:
        async def one(check: Check) -> str:
            try:
                await asyncio.wait_for(check(), self.timeout_s)
                return "ok"
            except TimeoutError:
                return f"no answer within {self.timeout_s:g}s"
            except Exception as exc:  # reported to the caller; readiness never raises
                return f"{type(exc).__name__}: {exc}"[:300]

        results = dict(zip(self.checks, await asyncio.gather(*(one(c) for c in self.checks.values())), strict=True))
        if self.gauge is not None:
            for name, result in results.items():
                self.gauge.labels(name).set(1 if result == "ok" else 0)
        return results


def broker_check(bootstrap_servers: str, timeout_s: float, security: KafkaSecurity = PLAINTEXT) -> Check:
    """The broker answers a metadata request."""

    async def check() -> None:
        client = AIOKafkaClient(
            bootstrap_servers=bootstrap_servers,
            request_timeout_ms=int(timeout_s * 1000),
            client_id="betterwork-readiness",
            **security.client_options(),
        )
        try:
            await client.bootstrap()
        finally:
            await client.close()

    return check


health_router = APIRouter(prefix="/health", include_in_schema=False)


@health_router.get("/live")
async def live() -> dict[str, str]:
    return {"status": "live"}


@health_router.get("/ready")
async def ready(request: Request) -> JSONResponse:
    checks: ReadinessChecks = request.app.state.readiness
    results = await checks.run()
    if checks.ready(results):
        return JSONResponse({"status": "ready", "checks": results})
    failing = ", ".join(k for k, v in results.items() if v != "ok" and k in checks.required)
    _log.warning("not ready: %s", results)
    return problem_response(503, title="Not ready", detail=f"Unreachable: {failing}.", checks=results)
