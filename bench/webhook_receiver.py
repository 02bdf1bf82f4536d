"""A webhook receiver for the benchmarks: verifies every delivery (Standard Webhooks) and notes when it came.

    python webhook_receiver.py --port 9999 --secrets secrets.json

`secrets.json` maps a path ("/hook/7") to the endpoint's secret ("whsec_..."). `GET /stats` answers the
deliveries received so far ({"received": [[path, webhook-id, data.case_id, unix time], ...], "rejected": n}).
Runs as its own process so the benchmark measures the service, not the receiver.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import uvicorn
from standardwebhooks import Webhook
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


def build(secrets: dict[str, str]) -> Starlette:
    verifiers = {path: Webhook(secret) for path, secret in secrets.items()}
    received: list[list[Any]] = []
    rejected = [0]

    async def hook(request: Request) -> Response:
        body = await request.body()
        at = time.time()
        verifier = verifiers.get(request.url.path)
        try:
            if verifier is None:
                raise ValueError("unknown endpoint")
            payload = verifier.verify(body, dict(request.headers))
        except Exception:
            rejected[0] += 1
            return Response(status_code=400)
        received.append([request.url.path, request.headers.get("webhook-id"), payload["data"].get("case_id"), at])
        return Response(status_code=204)

    async def stats(request: Request) -> Response:
        return JSONResponse({"received": received, "rejected": rejected[0]})

    return Starlette(routes=[Route("/hook/{n}", hook, methods=["POST"]), Route("/stats", stats)])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--secrets", type=Path, required=True)
    args = parser.parse_args()
    secrets = json.loads(args.secrets.read_text())
    uvicorn.run(build(secrets), host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
