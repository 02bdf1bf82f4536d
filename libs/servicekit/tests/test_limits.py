"""Limits before routing: body caps (413), text that cannot be stored (400/422), writes per client (429)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from devstack.pytest_plugin import TestPlatform, serve_in_process
from devstack.testkit.access import staff
from servicekit.limits import RateLimits

from .conftest import SampleAppFactory


async def _chunks(total: int, size: int = 16 * 1024) -> AsyncIterator[bytes]:
    sent = 0
    while sent < total:
        chunk = b"x" * min(size, total - sent)
        sent += len(chunk)
        yield chunk


async def test_a_body_over_the_cap_is_refused_before_authentication(make_sample_app: SampleAppFactory) -> None:
    async with serve_in_process(make_sample_app(max_body_bytes=4096)) as client:
        # No token at all: the size is judged first, so an anonymous client cannot make the service parse it.
        big = b'{"total": 1, "women": 0, "pad": "' + b"x" * 5000 + b'"}'
        answer = await client.post("/v1/sample/workforce", content=big, headers={"Content-Type": "application/json"})
        assert answer.status_code == 413
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["status"] == 413
        assert "4096" in answer.json()["detail"]


async def test_a_streamed_body_is_cut_off_at_the_cap(
    make_sample_app: SampleAppFactory, test_platform: TestPlatform
) -> None:
    async with serve_in_process(make_sample_app(max_body_bytes=4096)) as client:
        headers = {**staff(test_platform), "Content-Type": "application/json"}
        # No Content-Length (chunked): counted as it arrives.
        answer = await client.post("/v1/sample/workforce", content=_chunks(20_000), headers=headers)
        assert answer.status_code == 413
        assert answer.headers["content-type"] == "application/problem+json"
        fine = await client.post("/v1/sample/workforce", json={"total": 3, "women": 1}, headers=headers)
        assert fine.status_code == 201


async def test_a_route_with_its_own_cap_takes_more_and_no_more(
    make_sample_app: SampleAppFactory, test_platform: TestPlatform
) -> None:
    async with serve_in_process(make_sample_app(max_body_bytes=4096)) as client:
        headers = {**staff(test_platform), "Content-Type": "text/csv"}
        taken = await client.post("/v1/sample/uploads", content=_chunks(40_000), headers=headers)
        assert (taken.status_code, taken.json()) == (200, {"bytes": 40_000})
        streamed = await client.post("/v1/sample/uploads", content=_chunks(70_000), headers=headers)
        assert streamed.status_code == 413
        assert streamed.headers["content-type"] == "application/problem+json"
        declared = await client.post("/v1/sample/uploads", content=b"x" * 70_000, headers=headers)
        assert declared.status_code == 413


async def test_text_that_cannot_be_read_back_is_refused(
    sample_client: httpx.AsyncClient, test_platform: TestPlatform
) -> None:
    headers = {**staff(test_platform), "Content-Type": "application/json"}
    surrogate = await sample_client.post("/v1/sample/names", content=b'{"names": [{"a": "x\\ud800"}]}', headers=headers)
    assert surrogate.status_code == 422
    assert "surrogate" in surrogate.text
    nul = await sample_client.post("/v1/sample/names", content=b'{"names": [{"a": "x\\u0000"}]}', headers=headers)
    assert nul.status_code == 422
    assert "NUL" in nul.text
    fine = await sample_client.post("/v1/sample/names", json={"names": [{"a": "Nhà máy 🧵 ü"}]}, headers=headers)
    assert (fine.status_code, fine.json()) == (200, {"names": [{"a": "Nhà máy 🧵 ü"}]})
    query = await sample_client.get("/v1/sample/echo?q=a%00b")
    assert query.status_code == 400
    assert query.headers["content-type"] == "application/problem+json"


async def test_writes_per_client_are_limited_with_retry_after(
    make_sample_app: SampleAppFactory, test_platform: TestPlatform
) -> None:
    app = make_sample_app(rate_limit_writes="3/minute", rate_limit_uploads="1/minute")
    async with serve_in_process(app) as client:
        mine = staff(test_platform, subject="ea-one")
        other = staff(test_platform, subject="ea-two")
        body = {"total": 1, "women": 0}
        statuses = [(await client.post("/v1/sample/workforce", json=body, headers=mine)).status_code for _ in range(4)]
        assert statuses == [201, 201, 201, 429]
        refused = await client.post("/v1/sample/workforce", json=body, headers=mine)
        assert refused.headers["content-type"] == "application/problem+json"
        # the window frees up a minute after the first counted request, which was a few seconds ago
        assert 45 <= int(refused.headers["retry-after"]) <= 60
        # another client keeps its own count; reads are not counted
        assert (await client.post("/v1/sample/workforce", json=body, headers=other)).status_code == 201
        assert (await client.get("/v1/me", headers=mine)).status_code == 200
        # uploads are counted on their own
        csv = {**mine, "Content-Type": "text/csv"}
        assert (await client.post("/v1/sample/uploads", content=b"a,b\n", headers=csv)).status_code == 200
        assert (await client.post("/v1/sample/uploads", content=b"a,b\n", headers=csv)).status_code == 429


def test_several_limits_must_all_allow() -> None:
    counters = RateLimits()
    assert [counters.hit("5/second;2/minute", "w", "c") for _ in range(2)] == [None, None]
    wait = counters.hit("5/second;2/minute", "w", "c")
    assert wait is not None and 1 <= wait <= 60


def test_the_window_moves_and_a_refused_request_is_counted_nowhere() -> None:
    now = [100.0]
    counters = RateLimits(clock=lambda: now[0], sweep_every=1)
    assert [counters.hit("2/second;3/minute", "w", "c") for _ in range(2)] == [None, None]
    assert counters.hit("2/second;3/minute", "w", "c") == 1.0  # the second's window is full
    now[0] += 1.0
    assert counters.hit("2/second;3/minute", "w", "c") is None  # a second later: the minute holds 3 now
    now[0] += 1.0
    wait = counters.hit("2/second;3/minute", "w", "c")
    assert wait == pytest.approx(58.0)  # the minute is full until its first hit is a minute old
    assert counters.hit("2/second", "w", "someone else") is None  # clients and kinds count apart
    now[0] += 61.0
    assert counters.hit("2/second", "w", "c") is None  # the sweep dropped the expired windows
    assert len(counters) == 1
