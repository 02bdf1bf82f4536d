"""Hot reads answered at the edge: a few GET routes served without FastAPI's routing and dependency solving.

Issue "Performance at the edge and at rest": a read by id costs a fraction of a millisecond in the database, and
on such a read FastAPI's per-request machinery (routing, exception and exit-stack middleware, dependency
solving, the endpoint wrappers) was a quarter of the service's time. A route on the read path of every caller
(a factory by id, a report-access decision) declares a `HotRead` beside its FastAPI route:

    @router.get("/{factory_id}", ...)
    async def get_factory(factory_id: uuid.UUID, request: Request, reader: ReaderPrincipal) -> Response:
        return await factory_answer(database_of(request), reader, factory_id, request.url.query)

    HOT_READS = [HotRead("/v1/factories/{factory_id}", lambda call: factory_answer(
        call.database, call.principal, call.path_uuid("factory_id"), call.query_string))]

Both paths call the same function, so they answer the same. The FastAPI route stays the declaration (OpenAPI,
the operation id) and the answer to anything unusual:

- the caller is checked by the route's own principal gate (`BearerPrincipal`, found on the route, so the roles
  cannot drift apart); its 401 and 403 answers are the problem details the route would give;
- a parameter that is missing, repeated or not a UUID raises `Fallback`, and the full stack answers the request
  (with its 422), as it does for HEAD, for a mounted app (`root_path`) and for every other route;
- a `Problem` raised by the use case is answered by the same handler FastAPI would call.

Only GET routes whose path parameters are UUIDs qualify: no earlier route can match a UUID where the hot route
expects one. `HotReads` checks, when the app is built, that no other GET route matches the hot route's paths and
that the route solves no dependency but its principal (the app refuses to start otherwise).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from fastapi.routing import APIRoute, iter_route_contexts
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match
from starlette.types import Receive, Scope, Send

from servicekit.auth.dependencies import BearerPrincipal
from servicekit.auth.principal import Principal
from servicekit.database import Database
from servicekit.errors import Problem, render_problem


class Fallback(Exception):
    """The hot path does not answer this request; FastAPI's route does (with its validation errors)."""


@dataclass
class HotCall:
    """One request on a hot route: the verified caller, the path's parameters, the query and the database."""

    scope: Scope
    principal: Principal
    path_params: dict[str, str]
    database: Database
    _query: dict[str, str] | None = field(default=None, repr=False)

    @property
    def query_string(self) -> str:
        raw: bytes = self.scope.get("query_string", b"")
        return raw.decode("latin-1")

    def path_uuid(self, name: str) -> uuid.UUID:
        return _as_uuid(self.path_params.get(name))

    def query_uuid(self, name: str) -> uuid.UUID:
        """A required query parameter holding a UUID, given once (else `Fallback`: the route answers 422)."""
        if self._query is None:
            pairs = parse_qsl(self.query_string, keep_blank_values=True)
            names = [key for key, _ in pairs]
            if len(names) != len(set(names)):
                raise Fallback
            self._query = dict(pairs)
        return _as_uuid(self._query.get(name))


def _as_uuid(text: str | None) -> uuid.UUID:
    # FastAPI's UUID parsing (pydantic) accepts more spellings than these (URNs, braces): those fall back.
    if text is None or len(text) not in (32, 36):
        raise Fallback
    try:
        return uuid.UUID(text)
    except ValueError:
        raise Fallback from None


@dataclass(frozen=True)
class HotRead:
    """A GET route (its template as the app knows it, prefix included) and how to answer it at the edge."""

    path: str
    answer: Callable[[HotCall], Awaitable[Response]]


@dataclass(frozen=True)
class _Entry:
    route: APIRoute
    path_regex: re.Pattern[str]
    gate: BearerPrincipal
    answer: Callable[[HotCall], Awaitable[Response]]


class HotReads:
    """The hot reads of one app, matched by `EdgeMiddleware` before the request enters FastAPI.

    `served` and `fallen_back` count what happened, so a hot path that never answers is noticed; `enabled`
    off sends every request through FastAPI (the tests compare both answers).
    """

    def __init__(self, reads: Sequence[HotRead], routes: Callable[[], Sequence[BaseRoute]]) -> None:
        self._reads = list(reads)
        self._routes = routes
        self._entries: list[_Entry] | None = None
        self.served = 0
        self.fallen_back = 0
        self.enabled = True

    def __bool__(self) -> bool:
        return bool(self._reads)

    def resolve(self) -> list[_Entry]:
        """Find each hot read's route and gate; refuse a hot read that the app could route elsewhere."""
        if self._entries is None:
            routes = list(self._routes())
            self._entries = [_entry(read, routes) for read in self._reads]
        return self._entries

    async def answer(self, scope: Scope, receive: Receive, send: Send) -> bool:
        """Answer a GET on a hot route and return True; False when the full stack is to answer the request."""
        if not self.enabled or scope.get("root_path"):
            return False
        path: str = scope["path"]
        for entry in self.resolve():
            found = entry.path_regex.match(path)
            if found is not None:
                break
        else:
            return False
        params = found.groupdict()
        try:
            principal = await entry.gate(HTTPConnection(scope))
            response = await entry.answer(HotCall(scope, principal, params, scope["app"].state.database))
        except Fallback:
            self.fallen_back += 1
            return False
        except Problem as problem:
            response = await render_problem(Request(scope), problem)
        scope["route"] = entry.route  # the metrics and the access log label the request by its route
        scope["path_params"] = params
        self.served += 1
        await response(scope, receive, send)
        return True


def _entry(read: HotRead, routes: list[BaseRoute]) -> _Entry:
    contexts = list(iter_route_contexts(routes))  # included routers are resolved lazily; this walks them all
    found = [c for c in contexts if c.path == read.path and "GET" in (c.methods or ())]
    route = found[0].original_route if len(found) == 1 else None
    if not isinstance(route, APIRoute):
        raise RuntimeError(f"hot read {read.path}: no single GET route with that path")
    context = found[0]
    calls = [d.call for d in context.dependant.dependencies]
    if len(calls) != 1 or not isinstance(calls[0], BearerPrincipal):
        raise RuntimeError(f"hot read {read.path}: the route may take a principal and nothing else it would solve")
    sample = read.path
    for name in context.param_convertors:
        sample = sample.replace("{" + name + "}", str(uuid.uuid4()))
    probe: dict[str, Any] = {"type": "http", "method": "GET", "path": sample, "root_path": ""}
    for other in contexts:
        if other is not context and "GET" in (other.methods or ()) and other.matches(probe)[0] is Match.FULL:
            raise RuntimeError(f"hot read {read.path}: {other.path} answers the same paths")
    return _Entry(route, context.path_regex, calls[0], read.answer)


__all__ = ["Fallback", "HotCall", "HotRead", "HotReads"]
