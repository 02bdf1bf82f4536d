"""Hot routes refuse, when the app is built, any route the edge could answer differently from FastAPI."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import pytest
from fastapi import APIRouter, Depends, FastAPI, Header
from pydantic import BaseModel
from starlette.responses import Response

from servicekit.auth import Principal, Role, require
from servicekit.database import UnitOfWork
from servicekit.edge import UnitOfWorkDep, open_unit_of_work
from servicekit.hot import HotCall, HotRead, HotRoutes, HotWrite

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
    (entry,) = HotRoutes([HotRead("/v1/things/{thing_id}", _answer)], lambda: app.routes).resolve()["GET"]
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
        HotRoutes([HotRead("/v1/things/{thing_id}", _answer)], lambda: app.routes).resolve()


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
            HotRoutes([HotRead(path, _answer)], lambda: app.routes).resolve()
    with pytest.raises(RuntimeError, match="no single GET route"):
        HotRoutes([HotRead("/v1/nowhere", _answer)], lambda: app.routes).resolve()


class Thing(BaseModel):
    name: str


class Other(BaseModel):
    name: str


async def _write(call: HotCall, body: Any, uow: UnitOfWork) -> Response:
    return Response(b"{}", status_code=201)


def _writes(app: FastAPI, body: type[BaseModel] = Thing) -> HotRoutes:
    return HotRoutes([], lambda: app.routes, [HotWrite("/v1/things", body, _write)], unit_of_work=open_unit_of_work)


def test_a_hot_write_resolves_to_its_post_route_with_its_principal_gate() -> None:
    router = APIRouter()

    @router.post("/v1/things", status_code=201)
    async def create_thing(body: Thing, uow: UnitOfWorkDep, reader: Reader) -> dict[str, str]:
        return {}

    app = _app(router)
    (entry,) = _writes(app).resolve()["POST"]
    assert entry.route.name == "create_thing" and entry.gate.roles == (Role.STAFF,)
    with pytest.raises(RuntimeError, match="body is not Other"):
        _writes(app, Other).resolve()


async def with_tenant(body: Thing, uow: UnitOfWorkDep, reader: Reader, who: Annotated[str, Depends(tenant)]) -> None:
    """A dependency the edge would not solve."""


async def with_query(body: Thing, uow: UnitOfWorkDep, reader: Reader, dry_run: bool = False) -> None:
    """A query parameter the edge would not read."""


async def with_header(
    body: Thing, uow: UnitOfWorkDep, reader: Reader, key: Annotated[str | None, Header()] = None
) -> None:
    """A header the edge would not read."""


async def without_unit_of_work(body: Thing, reader: Reader) -> None:
    """No transaction of its own: the edge would open one the route does not."""


@pytest.mark.parametrize("endpoint", [with_tenant, with_query, with_header, without_unit_of_work])
def test_a_hot_write_whose_route_solves_more_than_principal_unit_of_work_and_body_is_refused(endpoint: Any) -> None:
    router = APIRouter()
    router.add_api_route("/v1/things", endpoint, methods=["POST"])
    with pytest.raises(RuntimeError, match="hot route /v1/things: the route"):
        _writes(_app(router)).resolve()


def test_a_hot_write_on_a_path_two_post_routes_answer_is_refused() -> None:
    router = APIRouter()

    @router.post("/v1/things")
    async def create_thing(body: Thing, uow: UnitOfWorkDep, reader: Reader) -> None: ...

    @router.post("/v1/{collection}")
    async def create_any(collection: str, body: Thing, uow: UnitOfWorkDep, reader: Reader) -> None: ...

    with pytest.raises(RuntimeError, match="answers the same paths"):
        _writes(_app(router)).resolve()
