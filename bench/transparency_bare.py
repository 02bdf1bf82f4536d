"""The reference for the transparency edge benchmark: a bare FastAPI app (uvloop, httptools, one worker, no
middleware) that answers the same paths with the same bytes, held in memory (read from a JSON file written by
`bench/transparency_edge.py`: path -> [media type, body as text]).

    .venv/bin/python bench/transparency_bare.py <port> <answers.json>
"""

from __future__ import annotations

import json
import sys

import uvicorn
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import Response

ANSWERS: dict[str, tuple[str, bytes]] = {}
app = FastAPI(openapi_url=None)


@app.get("/{path:path}")
async def answer(path: str, request: Request) -> Response:
    found = ANSWERS.get(request.url.path)
    if found is None:
        raise HTTPException(404)
    return Response(found[1], media_type=found[0])


if __name__ == "__main__":
    with open(sys.argv[2], encoding="utf-8") as f:
        ANSWERS.update({path: (media, body.encode()) for path, (media, body) in json.load(f).items()})
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), loop="uvloop", http="httptools", log_level="warning")
