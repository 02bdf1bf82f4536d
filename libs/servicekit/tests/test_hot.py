"""Hot reads refuse, when the app is built, any route the edge could answer differently from FastAPI."""

from __future__ import annotations

import uuid
from typing import Annotated

import pytest
from fastapi import APIRouter, Depends, FastAPI
from starlette.responses import Response

from servicekit.auth import Principal, Role, require
from servicekit.hot import HotCall, HotRead, HotReads

Reader = Annotated[Principal, Depends(require(Role.STAFF))]


async def _answer(call: HotCall) -> Response:
    return Response(b"{}")


async def tenant() -> str:
    return "kh"


def _app(*routers: APIRouter) -> FastAPI:
    app = FastAPI()
    for router in routers:
        app.include_router(router)
    return app


def test_a_hot_read_resolves_to_its_route_and_the_routes_principal_gate() -> None:
    router = APIRouter()

    @router.get("/v1/things/{thing_id}")
    async def get_thing(thing_id: uuid.UUID, reader: Reader) -> dict[str, str]:
        return {}

    app = _app(router)
    (entry,) = HotReads([HotRead("/v1/things/{thing_id}", _answer)], lambda: app.routes).resolve()
    assert entry.route.name == "get_thing" and entry.gate.roles == (Role.STAFF,)


def test_a_path_another_route_also_answers_is_refused() -> None:
    router = APIRouter()

    @router.get("/v1/things/{any_name}")
    async def by_name(any_name: str, reader: Reader) -> dict[str, str]:
        return {}

    @router.get("/v1/things/{thing_id}")
    async def get_thing(thing_id: uuid.UUID, reader: Reader) -> dict[str, str]:
        return {}

    app = _app(router)
    with pytest.raises(RuntimeError, match="answers the same paths"):
        HotReads([HotRead("/v1/things/{thing_id}", _answer)], lambda: app.routes).resolve()


def test_a_route_with_more_to_solve_than_its_principal_is_refused() -> None:
    router = APIRouter()

    @router.get("/v1/things/{thing_id}")
    async def get_thing(thing_id: uuid.UUID, reader: Reader, who: Annotated[str, Depends(tenant)]) -> dict[str, str]:
        return {}

    @router.get("/v1/open/{thing_id}")
    async def open_thing(thing_id: uuid.UUID) -> dict[str, str]:
        return {}

    app = _app(router)
    for path in ("/v1/things/{thing_id}", "/v1/open/{thing_id}"):
        with pytest.raises(RuntimeError, match="may take a principal and nothing else"):
            HotReads([HotRead(path, _answer)], lambda: app.routes).resolve()
    with pytest.raises(RuntimeError, match="no single GET route"):
        HotReads([HotRead("/v1/nowhere", _answer)], lambda: app.routes).resolve()
