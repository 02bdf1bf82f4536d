"""The one rule for read models kept from versioned events: next version applies, repeats skip, gaps wait."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID

from devstack.pytest_plugin import TestPlatform
from messaging.errors import NotYetKnown
from messaging.read_model import Apply, VersionedReadModel, decide
from servicekit.database import Database, UnitOfWork

_metadata = sa.MetaData()
COPY = sa.Table(
    "copy_under_test",
    _metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("name", sa.Text),
    sa.Column("version", sa.Integer, nullable=False),
    prefixes=["TEMPORARY"],
)
LOG = sa.Table(
    "copy_under_test_log",
    _metadata,
    sa.Column("seq", sa.Integer, sa.Identity(), primary_key=True),
    sa.Column("id", UUID(as_uuid=True)),
    sa.Column("version", sa.Integer),
    sa.Column("name", sa.Text),
    sa.Column("event_id", sa.Text),
    prefixes=["TEMPORARY"],
)
MODEL = VersionedReadModel(COPY, key="id", what="sample", changelog=LOG, copied=("name",))


@pytest.mark.parametrize(
    ("held", "event", "expected"),
    [(None, 1, Apply.APPLY), (1, 2, Apply.APPLY), (2, 2, Apply.REPEAT), (3, 1, Apply.REPEAT), (1, 3, Apply.GAP)],
)
def test_the_rule(held: int | None, event: int, expected: Apply) -> None:
    assert decide(held, event) is expected


@pytest.fixture
async def uow(test_platform: TestPlatform) -> AsyncIterator[UnitOfWork]:
    """One transaction on one connection, with the two tables as temporary ones (nothing outlives the test)."""
    database = Database(test_platform.settings("registry").service_database_url(), schema="registry", pool_size=1)
    try:
        async with database.unit_of_work() as work:
            connection = await work.session.connection()
            await connection.run_sync(lambda sync: _metadata.create_all(sync))
            yield work
    finally:
        await database.dispose()


async def logged(uow: UnitOfWork, aggregate_id: uuid.UUID) -> list[tuple[int, str, str]]:
    rows = await uow.session.execute(
        sa.select(LOG.c.version, LOG.c.name, LOG.c.event_id).where(LOG.c.id == aggregate_id).order_by(LOG.c.seq)
    )
    return [tuple(r) for r in rows]  # type: ignore[misc]


async def test_next_versions_apply_and_are_logged_once_repeats_change_nothing(uow: UnitOfWork) -> None:
    aggregate = uuid.uuid4()
    session = uow.session
    assert await MODEL.register(session, aggregate, 1, {"name": "A"}, log_values={"event_id": "e1"}) is Apply.APPLY
    assert await MODEL.register(session, aggregate, 1, {"name": "A"}, log_values={"event_id": "e1"}) is Apply.REPEAT
    assert await MODEL.apply(session, aggregate, 2, {"name": "B"}, log_values={"event_id": "e2"}) is Apply.APPLY
    assert await MODEL.apply(session, aggregate, 2, {"name": "X"}, log_values={"event_id": "e2"}) is Apply.REPEAT
    assert await MODEL.apply(session, aggregate, 1, {"name": "Y"}, log_values={"event_id": "e0"}) is Apply.REPEAT

    assert await MODEL.held_version(session, aggregate) == 2
    name = (await session.execute(sa.select(COPY.c.name).where(COPY.c.id == aggregate))).scalar_one()
    assert name == "B"
    assert await logged(uow, aggregate) == [(1, "A", "e1"), (2, "B", "e2")]


async def test_a_gap_or_an_unknown_aggregate_waits_instead_of_being_dropped(uow: UnitOfWork) -> None:
    aggregate = uuid.uuid4()
    await MODEL.register(uow.session, aggregate, 1, {"name": "A"}, log_values={"event_id": "e1"})
    with pytest.raises(NotYetKnown, match="jumps from version 1 to 3"):
        await MODEL.apply(uow.session, aggregate, 3, {"name": "C"}, log_values={"event_id": "e3"})
    assert await MODEL.held_version(uow.session, aggregate) == 1  # nothing applied out of order

    stranger = uuid.uuid4()
    with pytest.raises(NotYetKnown, match="never registered here"):
        await MODEL.apply(uow.session, stranger, 2, {"name": "Z"}, log_values={"event_id": "e9"})
    assert await MODEL.held_version(uow.session, stranger) is None
