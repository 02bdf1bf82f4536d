"""Hot routes answered at the edge: a few GET and POST routes served without FastAPI's routing and dependency solving.

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
expects one. `HotRoutes` checks, when the app is built, that no other GET route matches the hot route's paths and
that the route solves no dependency but its principal (the app refuses to start otherwise).

A write on the path of every registration (`POST /v1/factories`) declares a `HotWrite` the same way: its JSON body
is one input model, and the route solves its principal and a unit of work and nothing else. The edge reads the
body (a declared `Content-Length` within the route's cap, `Content-Type: application/json`), validates it as
FastAPI would (`json.loads`, then the model in Python mode), opens the unit of work and calls the same function as
the route. A body that is not JSON or fails validation, a missing length or another content type hands the
request, with the body already read replayed, to FastAPI, which answers with its 422 or 415; an exception the use
case raises is answered by the handler the app registered for it (a `Problem` by its problem details, anything
else by the logged 500, raised again afterwards as Starlette's error middleware does).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel, ValidationError
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match
from starlette.types import Message, Receive, Scope, Send

from servicekit.auth.dependencies import BearerPrincipal
from servicekit.auth.principal import Principal
from servicekit.database import Database, UnitOfWork
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
    def connection(self) -> HTTPConnection:
        """The request as Starlette sees it (for `settings_of` and the like); its body is not read here."""
        return HTTPConnection(self.scope)

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
class HotWrite:
    """A POST route whose body is one `body` model, and how to answer it at the edge in a unit of work.

    `answer(call, body, uow)` is the function the route calls too; the unit of work rolls back unless it commits.
    """

    path: str
    body: type[BaseModel]
    answer: Callable[[HotCall, Any, UnitOfWork], Awaitable[Response]]


@dataclass(frozen=True)
class _Entry:
    route: APIRoute
    path_regex: re.Pattern[str]
    gate: BearerPrincipal
    read: Callable[[HotCall], Awaitable[Response]] | None = None
    write: HotWrite | None = None

    @property
    def method(self) -> str:
        return "GET" if self.write is None else "POST"


class HotRoutes:
    """The hot reads and writes of one app, matched by `EdgeMiddleware` before the request enters FastAPI.

    `served` and `fallen_back` count what happened, so a hot path that never answers is noticed; `enabled`
    off sends every request through FastAPI (the tests compare both answers).
    """

    def __init__(
        self,
        reads: Sequence[HotRead],
        routes: Callable[[], Sequence[BaseRoute]],
        writes: Sequence[HotWrite] = (),
        *,
        unit_of_work: Callable[..., Any] | None = None,
    ) -> None:
        self._reads = list(reads)
        self._writes = list(writes)
        self._routes = routes
        self._unit_of_work = unit_of_work
        self._entries: dict[str, list[_Entry]] | None = None
        self.served = 0
        self.fallen_back = 0
        self.enabled = True

    def __bool__(self) -> bool:
        return bool(self._reads or self._writes)

    def resolve(self) -> dict[str, list[_Entry]]:
        """Find each hot route and its gate; refuse one that the app could route elsewhere or solve differently."""
        if self._entries is None:
            routes = list(self._routes())
            entries = [_read_entry(read, routes) for read in self._reads]
            entries += [_write_entry(write, routes, self._unit_of_work) for write in self._writes]
            self._entries = {method: [e for e in entries if e.method == method] for method in ("GET", "POST")}
        return self._entries

    async def answer(self, scope: Scope, receive: Receive, send: Send, body_cap: int) -> Receive | None:
        """Answer a request on a hot route and return None; otherwise the `receive` the full stack is to read
        (the one given, or for a write whose body was read here, one that replays it first)."""
        if not self.enabled or scope.get("root_path"):
            return receive
        entries = self.resolve().get(scope["method"])
        if not entries:
            return receive
        path: str = scope["path"]
        for entry in entries:
            found = entry.path_regex.match(path)
            if found is not None:
                break
        else:
            return receive
        params = found.groupdict()
        if entry.write is not None:
            return await self._write(entry, entry.write, params, scope, receive, send, body_cap)
        assert entry.read is not None
        try:
            principal = await entry.gate(HTTPConnection(scope))
            response = await entry.read(HotCall(scope, principal, params, scope["app"].state.database))
        except Fallback:
            self.fallen_back += 1
            return receive
        except Problem as problem:
            response = await render_problem(Request(scope), problem)
        await self._send(entry, params, response, scope, receive, send)
        return None

    async def _write(
        self,
        entry: _Entry,
        write: HotWrite,
        params: dict[str, str],
        scope: Scope,
        receive: Receive,
        send: Send,
        body_cap: int,
    ) -> Receive | None:
        length = _json_length(scope)
        if length is None or length > body_cap:
            self.fallen_back += 1
            return receive
        # FastAPI's order: the body is parsed first (not JSON: 422), then the principal (401, 403), then the body
        # is validated (422). The edge keeps it, so each refusal is the one the route would give.
        messages, raw = await _read_body(receive, body_cap)
        document = _parsed(raw)
        if document is _NOT_JSON:
            self.fallen_back += 1
            return _replaying(messages, receive)
        try:
            principal = await entry.gate(HTTPConnection(scope))
        except Problem as problem:
            await self._send(entry, params, await render_problem(Request(scope), problem), scope, receive, send)
            return None
        try:
            body = write.body.model_validate(document, from_attributes=True)
        except ValidationError:
            self.fallen_back += 1
            return _replaying(messages, receive)
        call = HotCall(scope, principal, params, scope["app"].state.database)
        unhandled: Exception | None = None
        try:
            async with call.database.unit_of_work() as uow:
                response = await write.answer(call, body, uow)
        except Exception as exc:  # answered by the app's own handler for it, as FastAPI's stack would
            response, unhandled = await _handled(scope, exc)
        await self._send(entry, params, response, scope, receive, send)
        if unhandled is not None:
            raise unhandled
        return None

    async def _send(
        self, entry: _Entry, params: dict[str, str], response: Response, scope: Scope, receive: Receive, send: Send
    ) -> None:
        scope["route"] = entry.route  # the metrics and the access log label the request by its route
        scope["path_params"] = params
        self.served += 1
        await response(scope, receive, send)


def _json_length(scope: Scope) -> int | None:
    """The declared body length of a JSON request, or None when it is not one the edge reads itself."""
    length: int | None = None
    json_body = False
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            if length is not None or not value.isdigit():
                return None
            length = int(value)
        elif name == b"content-type":
            media = value.split(b";", 1)[0].strip().lower()
            json_body = media == b"application/json"
    return length if json_body and length else None


async def _read_body(receive: Receive, cap: int) -> tuple[list[Message], bytes | None]:
    """The messages read and the whole body (None if the client left or the body passed `cap`)."""
    messages: list[Message] = []
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages, None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > cap:
            return messages, None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return messages, b"".join(chunks)


_NOT_JSON = object()


def _parsed(raw: bytes | None) -> Any:
    """The body as FastAPI parses it (`json.loads`), or `_NOT_JSON`: FastAPI answers (its 422, or the 413 of a
    body that passed the cap)."""
    if raw is None:
        return _NOT_JSON
    try:
        return json.loads(raw)
    except ValueError:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        return _NOT_JSON


def _replaying(messages: list[Message], receive: Receive) -> Receive:
    """`receive` that hands out `messages` first (a body the edge already read), then reads on."""
    pending = list(messages)

    async def replay() -> Message:
        return pending.pop(0) if pending else await receive()

    return replay


async def _handled(scope: Scope, exc: Exception) -> tuple[Response, Exception | None]:
    """The app's answer to `exc` (its registered handler, nearest class first) and the exception to raise again
    afterwards: only the catch-all's, as Starlette's error middleware re-raises after its 500."""
    handlers: dict[Any, Any] = scope["app"].exception_handlers
    for kind in type(exc).__mro__:
        handler = handlers.get(kind)
        if handler is not None:
            response: Response = await handler(Request(scope), exc)
            return response, exc if kind is Exception else None
    raise exc


def _contexts(routes: list[BaseRoute], path: str, method: str) -> tuple[Any, list[Any]]:
    contexts = list(iter_route_contexts(routes))  # included routers are resolved lazily; this walks them all
    found = [c for c in contexts if c.path == path and method in (c.methods or ())]
    if len(found) != 1 or not isinstance(found[0].original_route, APIRoute):
        raise RuntimeError(f"hot route {path}: no single {method} route with that path")
    return found[0], contexts


def _refuse_overlaps(path: str, method: str, context: Any, contexts: list[Any]) -> None:
    sample = path
    for name in context.param_convertors:
        sample = sample.replace("{" + name + "}", str(uuid.uuid4()))
    probe: dict[str, Any] = {"type": "http", "method": method, "path": sample, "root_path": ""}
    for other in contexts:
        if other is not context and method in (other.methods or ()) and other.matches(probe)[0] is Match.FULL:
            raise RuntimeError(f"hot route {path}: {other.path} answers the same paths")


def _read_entry(read: HotRead, routes: list[BaseRoute]) -> _Entry:
    context, contexts = _contexts(routes, read.path, "GET")
    calls = [d.call for d in context.dependant.dependencies]
    if len(calls) != 1 or not isinstance(calls[0], BearerPrincipal):
        raise RuntimeError(f"hot route {read.path}: the route may take a principal and nothing else it would solve")
    _refuse_overlaps(read.path, "GET", context, contexts)
    return _Entry(context.original_route, context.path_regex, calls[0], read=read.answer)


def _write_entry(write: HotWrite, routes: list[BaseRoute], unit_of_work: Callable[..., Any] | None) -> _Entry:
    context, contexts = _contexts(routes, write.path, "POST")
    dependant = context.dependant
    gates = [d.call for d in dependant.dependencies if isinstance(d.call, BearerPrincipal)]
    others = [d.call for d in dependant.dependencies if not isinstance(d.call, BearerPrincipal)]
    if (
        len(gates) != 1
        or others != [unit_of_work]
        or any((dependant.path_params, dependant.query_params, dependant.header_params, dependant.cookie_params))
    ):
        raise RuntimeError(
            f"hot route {write.path}: the route may take a principal, a unit of work and its body, nothing else"
        )
    bodies = [f.field_info.annotation for f in dependant.body_params]
    if bodies != [write.body]:
        raise RuntimeError(f"hot route {write.path}: the route's body is not {write.body.__name__}")
    _refuse_overlaps(write.path, "POST", context, contexts)
    return _Entry(context.original_route, context.path_regex, gates[0], write=write)


__all__ = ["Fallback", "HotCall", "HotRead", "HotRoutes", "HotWrite"]
