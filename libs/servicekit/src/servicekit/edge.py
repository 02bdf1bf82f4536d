"""The HTTP edge every service shares: what a route may ask for, as `Annotated` dependencies.

`EdgeMiddleware` is the one middleware in front of every service: span, metrics and access log
(`servicekit.telemetry`) and the limits judged before routing (`servicekit.limits`), in one pure-ASGI layer.

A route reads like
`async def record_findings(assessment_id: UUID, body: FindingBatch, uow: UnitOfWorkDep, staff: StaffPrincipal)`:
the unit of work is open for the route and rolled back unless the use case commits; the principal has been
verified and holds the role (object-level checks stay in the use case). Input models derive from
`StrictInput`, so a field the client may not set is refused, not ignored.
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from datetime import date, datetime
from types import UnionType
from typing import Annotated, Any, ClassVar, TypeVar, Union, get_args, get_origin

from fastapi import Depends
from pydantic import BaseModel, ConfigDict, model_validator
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from servicekit.auth.dependencies import CurrentPrincipal, require
from servicekit.auth.principal import Principal, Role
from servicekit.database import Database, UnitOfWork, database_of
from servicekit.errors import Forbidden
from servicekit.hot import HotRoutes
from servicekit.limits import RequestLimits, counted_receive, refuse
from servicekit.settings import ServiceSettings
from servicekit.telemetry import RequestTelemetry, is_untraced, known_method, route_template

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def unstorable_text(value: str) -> str | None:
    """Why `value` cannot be stored and read back as UTF-8 text in Postgres, or None if it can.

    NUL is refused by Postgres text and jsonb; a lone surrogate (JSON `"\\ud800"`) cannot be encoded as
    UTF-8 at all. Either one accepted at the edge becomes a 500 later, for every reader of the record.
    """
    found = _UNSTORABLE.search(value)
    if found is None:
        return None
    if found.group() == "\x00":
        return "contains a NUL character"
    return "contains a lone UTF-16 surrogate, which is not text"


def _check_text(value: Any, where: str) -> None:
    if isinstance(value, str):
        reason = unstorable_text(value)
        if reason:
            raise ValueError(f"{where or 'the value'} {reason}")
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key, f"a key in {where}" if where else "a key")
            _check_text(item, f"{where}/{key}" if where else str(key))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _check_text(item, f"{where}/{index}")


def _plain_kinds(annotation: Any) -> set[type]:
    """The plain types a field accepts (`date | None` -> {date, NoneType}); empty for anything richer."""
    if annotation in (bool, date, datetime, int, float):
        return {annotation}
    if get_origin(annotation) in (Union, UnionType):
        kinds: set[type] = set()
        for arg in get_args(annotation):
            if arg is type(None):
                kinds.add(arg)
                continue
            plain = _plain_kinds(arg)
            if not plain:  # one arm is richer (text, a model, an enum): leave the field to pydantic
                return set()
            kinds |= plain
        return kinds if kinds - {type(None)} else set()
    if get_origin(annotation) is Annotated:
        return _plain_kinds(get_args(annotation)[0])
    return set()


class StrictInput(BaseModel):
    """Base of every request body: unknown fields are an error (no mass assignment by a typo or on purpose),
    text that could not be read back (NUL, lone surrogates) is refused anywhere in the body, and JSON that only
    lax parsing would read as the field's type is refused: a number where a date or a yes/no is expected
    (`0` is not 1970-01-01, nor false), a yes/no where a number is expected."""

    model_config = ConfigDict(extra="forbid")
    _json_types: ClassVar[dict[str, set[type]]] = {}

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        cls._json_types = {
            name: kinds for name, field in cls.model_fields.items() if (kinds := _plain_kinds(field.annotation))
        }

    @model_validator(mode="before")
    @classmethod
    def _only_storable_text(cls, data: Any) -> Any:
        _check_text(data, "")
        if isinstance(data, dict):
            for name, kinds in cls._json_types.items():
                value = data.get(name)
                if value is None:
                    continue
                if isinstance(value, bool) and bool not in kinds:
                    raise ValueError(f"{name}: true or false is not a {_kind_names(kinds)}")
                if isinstance(value, int | float) and not isinstance(value, bool) and kinds <= _NOT_NUMBERS:
                    raise ValueError(f"{name}: a number is not a {_kind_names(kinds)}")
                if isinstance(value, str) and kinds <= _NOT_TEXT:
                    raise ValueError(f"{name}: text is not a {_kind_names(kinds)}")
        return data


_NOT_NUMBERS: set[type] = {bool, date, datetime, type(None)}
_NOT_TEXT: set[type] = {bool, int, float, type(None)}


def _kind_names(kinds: set[type]) -> str:
    names = {
        bool: "yes/no (true or false)",
        date: "date (YYYY-MM-DD)",
        datetime: "date-time (ISO 8601)",
        int: "number",
        float: "number",
    }
    return " or ".join(names.get(k, k.__name__) for k in sorted(kinds - {type(None)}, key=str))


class PatchInput(StrictInput):
    """A partial update: a field left out keeps its value, and `null` clears a field only where `clearable`
    names it (a required value such as a name cannot be cleared by sending null)."""

    clearable: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="before")
    @classmethod
    def _null_only_where_clearable(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for name, value in data.items():
                if value is None and name in cls.model_fields and name not in cls.clearable:
                    raise ValueError(f"{name} cannot be cleared with null; leave it out to keep its value")
        return data


async def open_unit_of_work(connection: HTTPConnection) -> AsyncIterator[UnitOfWork]:
    async with database_of(connection).unit_of_work() as uow:
        yield uow


async def _database(connection: HTTPConnection) -> Database:  # async: a sync dependency runs in a thread
    return database_of(connection)


async def _settings(connection: HTTPConnection) -> ServiceSettings:
    settings: ServiceSettings = connection.app.state.settings
    return settings


# One transaction per request, closed as soon as the route returns (before the response is written), so the
# connection goes back to the pool while the body is serialised and sent.
UnitOfWorkDep = Annotated[UnitOfWork, Depends(open_unit_of_work, scope="function")]
# The database itself, for hot reads that need no transaction (`Database.read_one`) and for work that opens
# several units of work of its own.
DatabaseDep = Annotated[Database, Depends(_database)]
# The service's settings; a route that needs its own settings class narrows it with `settings_of`.
SettingsDep = Annotated[ServiceSettings, Depends(_settings)]


S = TypeVar("S", bound=ServiceSettings)


def settings_of(connection: HTTPConnection, kind: type[S]) -> S:
    """The running service's settings as its own class (`settings_of(request, RegistrySettings)`)."""
    settings = connection.app.state.settings
    if not isinstance(settings, kind):
        raise TypeError(f"app settings are {type(settings).__name__}, not {kind.__name__}")
    return settings


def principal_with(*roles: Role) -> Any:
    """The dependency for a caller holding one of `roles` (admin always does): `Annotated[Principal, ...]`."""
    return Depends(require(*roles))


def principal_with_scope(*roles: Role, service_scope: str) -> Any:
    """Like `principal_with`, and a machine client (`service` role) acts only through a scope in its token.

    People act through their role (and the use case's object checks); a service client's token carries no
    person behind it, so the route names the scope it needs: `service_scope` exactly, or any scope starting
    with it when it ends in `*` (`zt:receive:*` for `zt:receive:<party>:<country>`). Admin passes.
    """

    async def check(principal: Principal = Depends(require(*roles))) -> Principal:  # noqa: B008 (a local gate)
        acts_as_service = Role.SERVICE in principal.roles and not principal.is_admin
        person = principal.roles - {Role.SERVICE, Role.CONSTITUENT}
        if acts_as_service and not person.intersection(roles) and not principal.scopes_matching(service_scope):
            raise Forbidden(f"A service client needs the scope {service_scope} in its token for this operation.")
        return principal

    return Depends(check)


AnyPrincipal = CurrentPrincipal
StaffPrincipal = Annotated[Principal, Depends(require(Role.STAFF))]
FactoryPrincipal = Annotated[Principal, Depends(require(Role.FACTORY))]
BuyerPrincipal = Annotated[Principal, Depends(require(Role.BUYER))]
ServicePrincipal = Annotated[Principal, Depends(require(Role.SERVICE))]
AdminPrincipal = Annotated[Principal, Depends(require(Role.ADMIN))]
# Anyone who reads a programme's records through the API; what each may see is decided per object.
ReaderPrincipal = Annotated[Principal, Depends(require(Role.STAFF, Role.FACTORY, Role.BUYER, Role.SERVICE))]


class EdgeMiddleware:
    """Every HTTP request of a service passes here first (outermost, so the span also covers the answer to an
    unhandled error and its log line carries the trace id):

    1. the request span (continuing `traceparent`) is made current; its trace id comes back as `x-trace-id`;
    2. the limits refuse what must not reach routing (400 NUL, 429 writes per client, 413 declared length) and
       the body is read through a counter (413 when a streamed body passes the route's cap, raised as an
       `HTTPException` where the route reads it and answered by the problem handlers);
    3. a request on one of the service's hot routes (`servicekit.hot`: a few GETs, a POST) is answered here,
       without FastAPI's routing and dependency solving; everything else, and anything unusual on a hot route,
       goes through FastAPI (with a body the edge already read replayed to it);
    4. afterwards the request is counted (`http_requests_total`, `http_request_duration_seconds`), written to
       the access log and its span ended. Probes and scrapes are counted but neither traced nor logged.

    One plain ASGI layer: a hot read pays one extra call and one wrapped `send`, not one per concern.
    """

    def __init__(
        self, app: ASGIApp, *, telemetry: RequestTelemetry, limits: RequestLimits, hot: HotRoutes | None = None
    ) -> None:
        self.app = app
        self.telemetry = telemetry
        self.limits = limits
        self.hot = hot if hot else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        method = known_method(scope)
        traced = not is_untraced(scope)
        span, token = self.telemetry.start(scope, method) if traced else (None, None)
        trace_id = format(span.get_span_context().trace_id, "032x").encode() if span is not None else None
        status = 500
        error: BaseException | None = None

        async def send_with_trace(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                if trace_id is not None:
                    message["headers"] = [*message.get("headers", ()), (b"x-trace-id", trace_id)]
            await send(message)

        try:
            refusal, body_cap = self.limits.refusal(scope)
            if refusal is not None:
                await refuse(scope, receive, send_with_trace, refusal)
            else:
                onward = (
                    receive if self.hot is None else await self.hot.answer(scope, receive, send_with_trace, body_cap)
                )
                if onward is not None:  # not answered at the edge
                    await self.app(scope, counted_receive(onward, body_cap), send_with_trace)
        except BaseException as exc:
            error = exc
            raise
        finally:
            elapsed_s = time.perf_counter() - started
            if span is None:
                self.telemetry.metrics.observe(method, route_template(scope), status, elapsed_s)
            else:
                self.telemetry.finish(
                    scope, span, token, method=method, status=status, elapsed_s=elapsed_s, error=error
                )


__all__ = [
    "AdminPrincipal",
    "AnyPrincipal",
    "BuyerPrincipal",
    "DatabaseDep",
    "EdgeMiddleware",
    "FactoryPrincipal",
    "PatchInput",
    "ReaderPrincipal",
    "ServicePrincipal",
    "SettingsDep",
    "StaffPrincipal",
    "StrictInput",
    "UnitOfWorkDep",
    "open_unit_of_work",
    "principal_with",
    "principal_with_scope",
    "settings_of",
    "unstorable_text",
]
