"""The reference for the edge benchmark: the least a service could do to serve a factory by id.

A bare FastAPI app (uvloop, httptools, one worker, no authentication, no middleware) that reads the same row
the registry serves through an asyncpg pool and returns it as JSON. `bench/edge_ratio.py` starts it beside the
platform and loads both with the same generator; the registry's share of this one's throughput is the figure.

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


@app.get("/v1/factories/{factory_id}")
async def factory(factory_id: uuid.UUID) -> Response:
    row = await app.state.pool.fetchrow("SELECT * FROM registry.factory WHERE id = $1", factory_id)
    if row is None:
        raise HTTPException(404)
    return Response(json.dumps(dict(row), default=_default), media_type="application/json")


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), loop="uvloop", http="httptools", log_level="warning")
