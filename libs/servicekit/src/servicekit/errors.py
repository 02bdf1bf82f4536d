"""RFC 9457 problem details for every 4xx and 5xx answer.

https://www.rfc-editor.org/rfc/rfc9457 : `type`, `title`, `status`, `detail`,
`instance`, plus extension members (`errors` for validation failures, as in the
RFC's own example).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://betterwork.dev/problems/"

_log = logging.getLogger("servicekit.errors")


class Problem(Exception):
    """An error with a status the client is told about; raise it from any layer above the domain."""

    status: int = 500
    slug: str | None = None

    def __init__(
        self,
        detail: str | None = None,
        *,
        status: int | None = None,
        title: str | None = None,
        slug: str | None = None,
        headers: Mapping[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail or title or "")
        if status is not None:
            self.status = status
        if slug is not None:
            self.slug = slug
        self.title = title or HTTPStatus(self.status).phrase
        self.detail = detail
        self.headers = dict(headers or {})
        self.extensions = extensions

    @property
    def type(self) -> str:
        return PROBLEM_BASE + self.slug if self.slug else "about:blank"


class BadRequest(Problem):
    status = 400
    slug = "bad-request"


class Unauthorized(Problem):
    status = 401
    slug = "unauthorized"

    def __init__(self, detail: str, *, error: str = "invalid_token") -> None:
        # RFC 6750 section 3: tell the client how to authenticate.
        header = 'Bearer realm="betterwork"' if error == "missing" else f'Bearer realm="betterwork", error="{error}"'
        super().__init__(detail, headers={"WWW-Authenticate": header})


class Forbidden(Problem):
    status = 403
    slug = "forbidden"


class NotFound(Problem):
    status = 404
    slug = "not-found"


class Conflict(Problem):
    status = 409
    slug = "conflict"


def merged_factory(factory_id: object, survivor_id: object) -> Conflict:
    """A write naming a factory id the registry merged into another (409): every service answers it the same
    way, with the survivor's id as the `survivor_id` extension member so a client can retry there."""
    return Conflict(f"Factory {factory_id} was merged into {survivor_id}; use that id.", survivor_id=str(survivor_id))


class Unprocessable(Problem):
    """A well-formed request that breaks a rule of the data (422, shaped like request validation errors)."""

    status = 422
    slug = "validation-error"


class ServiceUnavailable(Problem):
    status = 503
    slug = "service-unavailable"


def problem_response(
    status: int,
    *,
    title: str | None = None,
    detail: str | None = None,
    type_: str = "about:blank",
    instance: str | None = None,
    headers: Mapping[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    body: dict[str, Any] = {"type": type_, "title": title or HTTPStatus(status).phrase, "status": status}
    if detail:
        body["detail"] = detail
    if instance:
        body["instance"] = instance
    body.update(extensions)
    return JSONResponse(body, status_code=status, headers=dict(headers or {}), media_type=PROBLEM_JSON)


def _pointer(loc: tuple[Any, ...]) -> str:
    """JSON pointer (RFC 6901) into the request part that failed, e.g. `#/body/workers/total`."""
    parts = [str(p).replace("~", "~0").replace("/", "~1") for p in loc]
    return "#/" + "/".join(parts)


async def render_problem(request: Request, exc: Exception) -> JSONResponse:
    """The answer to a `Problem` (the handler FastAPI calls, and the hot reads of `servicekit.hot`)."""
    assert isinstance(exc, Problem)
    return problem_response(
        exc.status,
        title=exc.title,
        detail=exc.detail,
        type_=exc.type,
        instance=request.url.path,
        headers=exc.headers,
        **exc.extensions,
    )


async def _on_http_exception(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else None
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"No resource at {request.method} {request.url.path}."
    elif exc.status_code == 405:
        detail = f"{request.method} is not allowed on {request.url.path}."
    return problem_response(exc.status_code, detail=detail, instance=request.url.path, headers=exc.headers)


async def _on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"pointer": _pointer(tuple(err.get("loc", ()))), "detail": err.get("msg", "invalid"), "code": err.get("type")}
        for err in exc.errors()
    ]
    return problem_response(
        422,
        title="Request validation failed",
        detail=f"{len(errors)} field(s) failed validation; see `errors`.",
        type_=PROBLEM_BASE + "validation-error",
        instance=request.url.path,
        errors=errors,
    )


async def _on_unhandled(request: Request, exc: Exception) -> JSONResponse:
    _log.exception("unhandled error on %s %s", request.method, request.url.path)
    return problem_response(500, detail="An unexpected error occurred; it has been logged.", instance=request.url.path)


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(Problem, render_problem)
    app.add_exception_handler(StarletteHTTPException, _on_http_exception)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(Exception, _on_unhandled)


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {
        "description": HTTPStatus(status).phrase + " (RFC 9457 problem details)",
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    for status in (400, 401, 403, 404, 409, 422)
}
