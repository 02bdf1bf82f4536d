"""The reference for the edge benchmark: the least a service could do to serve the same rows as each hot read.

A bare FastAPI app (uvloop, httptools, one worker, no authentication, no middleware) that reads the rows the
services serve through one asyncpg pool and returns them as JSON. `bench/edge_ratio.py` starts it beside the
platform and loads both with the same generator; each service's share of this one's throughput is the figure.

- `GET /v1/factories/{id}`: the registry's factory row.
- `GET /v1/assessments/{id}/report`: the assessment's row and its findings (what the report is built from).
- `GET /v1/report-access?buyer_id=&factory_id=`: partnerships' published decisions for the pair.

    BARE_DSN=postgresql://... .venv/bin/python bench/bare_handler.py <port>
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import uvicorn
from fastapi import FastAPI, HTTPException
from fastapi.responses import Response


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    app.state.pool = await asyncpg.create_pool(os.environ["BARE_DSN"], min_size=4, max_size=10)
    try:
        yield
    finally:
        await app.state.pool.close()


app = FastAPI(lifespan=lifespan, openapi_url=None)


def _default(value: Any) -> Any:
    return str(value)


def _json(value: Any) -> Response:
    return Response(json.dumps(value, default=_default), media_type="application/json")


@app.get("/v1/factories/{factory_id}")
async def factory(factory_id: uuid.UUID) -> Response:
    row = await app.state.pool.fetchrow("SELECT * FROM registry.factory WHERE id = $1", factory_id)
    if row is None:
        raise HTTPException(404)
    return _json(dict(row))


@app.get("/v1/assessments/{assessment_id}/report")
async def report(assessment_id: uuid.UUID) -> Response:
    async with app.state.pool.acquire() as conn:
        row = await conn.fetchrow("SELECT * FROM assessments.assessment WHERE id = $1", assessment_id)
        if row is None:
            raise HTTPException(404)
        findings = await conn.fetch("SELECT * FROM assessments.finding WHERE assessment_id = $1", assessment_id)
    return _json({"assessment": dict(row), "findings": [dict(f) for f in findings]})


@app.get("/v1/report-access")
async def report_access(buyer_id: uuid.UUID, factory_id: uuid.UUID) -> Response:
    rows = await app.state.pool.fetch(
        "SELECT * FROM partnerships.report_access WHERE buyer_id = $1 AND factory_id = $2 ORDER BY cycle",
        buyer_id,
        factory_id,
    )
    return _json([dict(r) for r in rows])


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), loop="uvloop", http="httptools", log_level="warning")
