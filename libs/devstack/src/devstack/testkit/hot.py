"""Tests of hot reads (`servicekit.hot`): the edge's answer is the one FastAPI's route gives, byte for byte."""

from __future__ import annotations

from dataclasses import dataclass
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
    """Send each (path, headers, params) through the hot path and again through FastAPI alone; assert the same
    status, body and headers. Returns the answers and how many the hot path served and handed on."""
    hot = app.state.hot_reads
    served, fallen_back = hot.served, hot.fallen_back
    answers: list[Asked] = []
    for path, headers, params in asks:
        hot.enabled = True
        fast = await client.get(path, headers=headers, params=params, follow_redirects=False)
        hot.enabled = False
        try:
            full = await client.get(path, headers=headers, params=params, follow_redirects=False)
        finally:
            hot.enabled = True
        kept = {k: v for k, v in fast.headers.items() if k not in _PER_ANSWER}
        assert (fast.status_code, fast.content, kept) == (
            full.status_code,
            full.content,
            {k: v for k, v in full.headers.items() if k not in _PER_ANSWER},
        ), f"{path} {params}: the edge answered differently from the route"
        answers.append(Asked(path, fast.status_code, fast.content, kept))
    return answers, hot.served - served, hot.fallen_back - fallen_back
