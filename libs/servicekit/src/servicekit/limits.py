"""Limits applied before routing: request body size, text that cannot be stored, and writes per client.

`RequestLimits` is asked by the one edge middleware (`servicekit.edge.EdgeMiddleware`), outside routing,
authentication and body parsing, so a client that sends too much is turned away before any of them spends
memory or CPU on it:
- a body larger than the route's cap answers 413 (a declared `Content-Length` at once, without reading a
  byte; a streamed body as soon as the running count passes the cap). The cap is `max_body_bytes` (1 MB by
  default); a route that takes larger uploads says so with FastAPI's own `max_body_size=` argument.
- a path or query string carrying a NUL (`%00`) answers 400: Postgres text cannot hold it, so the service
  would accept what it can never read back (JSON bodies are checked by `StrictInput`).
- writes (POST, PUT, PATCH, DELETE) are counted per client, with uploads (routes with their own body cap)
  counted separately; over the limit answers 429 with `Retry-After`.

Counting is a moving window in process memory (`RateLimits`): each process counts on its own, so with N
replicas a client may make N times the configured rate. A deployment that needs one count across replicas
needs a shared counter (Redis, say) behind the same `hit()`.

Route-specific limits that need the verified caller (webhook redelivery) use `per_client_rate_limit`, a
dependency that counts per token subject after authentication.
"""

from __future__ import annotations

import hashlib
import math
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.routing import iter_route_contexts
from limits import parse_many
from starlette.exceptions import HTTPException
from starlette.types import Message, Receive, Scope, Send

from servicekit.auth.dependencies import CurrentPrincipal
from servicekit.auth.principal import Principal
from servicekit.errors import PROBLEM_BASE, Problem, problem_response

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class BodyTooLarge(HTTPException):
    """Raised from `receive` when a streamed body passes its cap.

    An `HTTPException`, so FastAPI's body parsing passes it through unchanged (it turns other errors into
    400) and the problem handlers answer 413 with problem details.
    """

    def __init__(self, limit: int) -> None:
        super().__init__(status_code=413, detail=_too_large_detail(limit))


class TooManyRequests(Problem):
    status = 429
    slug = "too-many-requests"


def _too_large_detail(limit: int) -> str:
    return f"The request body is larger than this operation accepts ({limit} bytes)."


class RateLimits:
    """Moving-window counters per client and kind of request, kept in this process's memory.

    A window is the times of the hits it still holds (a deque of at most `amount` entries per limit, client and
    kind), so a hit is a few list operations and no thread: the `limits` library's memory storage starts a timer
    thread every 10 ms while writes flow, which cost a registration under load more than the count itself.
    Windows whose last hit has expired are dropped every `sweep_every` hits, so idle clients use no memory.
    `limits` still parses the limit strings (`10/second;300/minute`).
    """

    def __init__(self, *, clock: Callable[[], float] = time.monotonic, sweep_every: int = 10_000) -> None:
        self._clock = clock
        self._parsed: dict[str, list[tuple[int, float]]] = {}
        self._windows: dict[tuple[int, float, str, str], deque[float]] = {}
        self._sweep_every = sweep_every
        self._hits_since_sweep = 0

    def _items(self, limit: str) -> list[tuple[int, float]]:
        items = self._parsed.get(limit)
        if items is None:
            items = self._parsed[limit] = [(item.amount, float(item.get_expiry())) for item in parse_many(limit)]
        return items

    def hit(self, limit: str, kind: str, client: str) -> float | None:
        """Count one request; None if it is within `limit`, else the seconds until the window allows one.

        `limit` is a `limits` string, several separated by `;` (`10/second;300/minute`): all must allow it, and a
        refused request is counted in none of them.
        """
        now = self._clock()
        windows = []
        for amount, seconds in self._items(limit):
            key = (amount, seconds, kind, client)
            window = self._windows.get(key)
            if window is None:
                window = self._windows[key] = deque(maxlen=amount)
            while window and window[0] <= now - seconds:
                window.popleft()
            if len(window) >= amount:
                return max(1.0, window[0] + seconds - now)
            windows.append(window)
        for window in windows:
            window.append(now)
        self._hits_since_sweep += 1
        if self._hits_since_sweep >= self._sweep_every:
            self._sweep(now)
        return None

    def _sweep(self, now: float) -> None:
        self._hits_since_sweep = 0
        expired = [key for key, window in self._windows.items() if not window or window[-1] <= now - key[1]]
        for key in expired:
            del self._windows[key]

    def __len__(self) -> int:
        """How many windows are held (clients times limits), for tests of the sweep."""
        return len(self._windows)


@dataclass(frozen=True)
class _RouteCap:
    path: re.Pattern[str]
    methods: frozenset[str]
    max_bytes: int


def route_body_caps(routes: Sequence[Any]) -> list[_RouteCap]:
    """The routes that declare their own body cap (FastAPI's `max_body_size=`), for matching before routing."""
    caps = []
    for route in iter_route_contexts(routes):  # included routers are resolved lazily; this walks them all
        max_bytes = getattr(route, "max_body_size", None)
        if max_bytes is not None:
            caps.append(_RouteCap(route.path_regex, frozenset(route.methods or ()), max_bytes))
    return caps


def client_key(scope: Scope) -> str:
    """Who is asking, for counting: a digest of the bearer token, else the peer address.

    The token is not verified here (that happens after routing); a forged token only spreads a flood over
    keys whose requests all end in 401 without touching the database.
    """
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            return "token:" + hashlib.sha256(value).hexdigest()[:32]
    client = scope.get("client")
    return f"peer:{client[0]}" if client else "peer:unknown"


@dataclass(frozen=True)
class Refusal:
    """A request turned away before routing: its status, problem type and detail."""

    status: int
    slug: str
    detail: str
    headers: dict[str, str] | None = None


class RequestLimits:
    """The limits of one service, judged from the request line and headers before anything reads the body.

    Plain checks, no middleware of its own: `servicekit.edge.EdgeMiddleware` asks `refusal()` first and reads the
    body through `counted_receive()`. A read costs a few substring and set tests; only writes touch a counter.
    """

    def __init__(
        self,
        *,
        max_body_bytes: int,
        write_rate: str | None,
        upload_rate: str | None,
        route_caps: Callable[[], list[_RouteCap]],
        rate_limits: RateLimits,
    ) -> None:
        self.max_body_bytes = max_body_bytes
        self.write_rate = write_rate
        self.upload_rate = upload_rate
        self._route_caps = route_caps
        self._caps: list[_RouteCap] | None = None
        self.rate_limits = rate_limits

    def _cap_for(self, method: str, path: str) -> tuple[int, bool]:
        """The body cap of the route this request will reach, and whether that route declared its own."""
        if self._caps is None:
            self._caps = self._route_caps()
        for cap in self._caps:  # the few routes that declare a cap of their own (uploads); a set test each
            if method in cap.methods and cap.path.match(path):
                return cap.max_bytes, True
        return self.max_body_bytes, False

    def refusal(self, scope: Scope) -> tuple[Refusal | None, int]:
        """Why this request is refused before routing (None if it is not), and the body cap it is held to."""
        path: str = scope["path"]
        if "\x00" in path or b"%00" in scope.get("query_string", b"") or b"%00" in scope.get("raw_path", b""):
            return Refusal(400, "bad-request", "A NUL character cannot be part of a request."), self.max_body_bytes
        method: str = scope["method"]
        limit, declared = self._cap_for(method, path)
        if method in WRITE_METHODS:
            rate = self.upload_rate if declared else self.write_rate
            if rate:
                kind = "upload" if declared else "write"
                wait = self.rate_limits.hit(rate, kind, client_key(scope))
                if wait is not None:
                    detail = f"Too many {kind}s from this client (limit {rate}); try again later."
                    return Refusal(429, "too-many-requests", detail, {"Retry-After": str(math.ceil(wait))}), limit
        declared_length = _content_length(scope)
        if declared_length is not None and declared_length > limit:
            return Refusal(413, "content-too-large", _too_large_detail(limit)), limit
        return None, limit


def counted_receive(receive: Receive, limit: int) -> Receive:
    """`receive` that raises `BodyTooLarge` once the body read so far passes `limit` bytes."""
    received = 0

    async def counted() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise BodyTooLarge(limit)
        return message

    return counted


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def refuse(scope: Scope, receive: Receive, send: Send, refusal: Refusal) -> None:
    """Answer `refusal` as problem details (RFC 9457)."""
    response = problem_response(
        refusal.status,
        detail=refusal.detail,
        type_=PROBLEM_BASE + refusal.slug,
        instance=scope.get("path"),
        headers=refusal.headers,
    )
    if refusal.status == 413:
        response.headers["Connection"] = "close"  # the unread rest of the body is not worth reading
    await response(scope, receive, send)


def per_client_rate_limit(kind: str, setting: str) -> Callable[..., Awaitable[Principal]]:
    """A route dependency: the verified caller, counted per subject against the service setting `setting`.

    `Depends(per_client_rate_limit("webhook-redelivery", "redelivery_rate_limit"))` answers 429 with
    `Retry-After` once the caller passes the limit the setting names (a `limits` string such as "30/minute").
    """

    async def check(request: Request, principal: CurrentPrincipal) -> Principal:
        limit = getattr(request.app.state.settings, setting, None)
        if limit:
            counters: RateLimits = request.app.state.rate_limits
            wait = counters.hit(limit, kind, principal.subject)
            if wait is not None:
                raise TooManyRequests(
                    f"Too many {kind} requests from {principal.subject} (limit {limit}); try again later.",
                    headers={"Retry-After": str(math.ceil(wait))},
                )
        return principal

    return check
