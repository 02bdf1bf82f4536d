"""Tests of hot routes (`servicekit.hot`): the edge's answer is the one FastAPI's route gives, byte for byte."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import httpx
from fastapi import FastAPI

# Headers that differ between any two answers (the date, the trace) or that only the transport sets.
_PER_ANSWER = {"date", "x-trace-id", "server"}


@dataclass(frozen=True)
class Asked:
    """One request of the comparison and the answer both paths gave."""

    path: str
    status: int
    body: bytes
    headers: dict[str, str]


async def both_paths_answer_alike(
    client: httpx.AsyncClient, app: FastAPI, asks: list[tuple[str, dict[str, str], dict[str, Any] | None]]
) -> tuple[list[Asked], int, int]:
    """Send each GET (path, headers, params) through the hot path and again through FastAPI alone; assert the same
    status, body and headers. Returns the answers and how many the hot path served and handed on."""
    return await _compare(
        app,
        [
            (path, partial(client.get, path, headers=headers, params=params, follow_redirects=False))
            for path, headers, params in asks
        ],
    )


async def both_paths_answer_posts_alike(
    client: httpx.AsyncClient, app: FastAPI, asks: list[tuple[str, dict[str, str], bytes]]
) -> tuple[list[Asked], int, int]:
    """The same for POSTs (path, headers, raw body) whose two answers are alike because neither changes anything
    the other would see: refusals, and a registration the registry already holds."""
    return await _compare(
        app, [(path, partial(client.post, path, headers=headers, content=body)) for path, headers, body in asks]
    )


async def _compare(
    app: FastAPI, sends: list[tuple[str, Callable[[], Awaitable[httpx.Response]]]]
) -> tuple[list[Asked], int, int]:
    hot = app.state.hot_routes
    served, fallen_back = hot.served, hot.fallen_back
    answers: list[Asked] = []
    for index, (path, send) in enumerate(sends):
        hot.enabled = True
        fast = await send()
        hot.enabled = False
        try:
            full = await send()
        finally:
            hot.enabled = True
        kept = {k: v for k, v in fast.headers.items() if k not in _PER_ANSWER}
        assert (fast.status_code, fast.content, kept) == (
            full.status_code,
            full.content,
            {k: v for k, v in full.headers.items() if k not in _PER_ANSWER},
        ), f"request {index} ({path}): the edge answered differently from the route"
        answers.append(Asked(path, fast.status_code, fast.content, kept))
    return answers, hot.served - served, hot.fallen_back - fallen_back
