"""Wake a waiting worker after a commit, never from inside the transaction.

Workers that wait for rows written by others (the outbox relay, the webhook delivery workers) LISTEN on a channel.
A NOTIFY sent inside the writer's transaction takes the Postgres server's one notification-queue lock at commit
and holds it while the commit is flushed to disk, so every such commit waits for the one before it, in every
service of the server (measured on registration under load: bench/registry_load.py). `CommitWaker` wakes after
the commit instead (`servicekit.database.after_commit`):

- when the worker waits in this process (`waiting_here`), its event is set: no round trip at all;
- otherwise one NOTIFY is sent on a pooled connection of the writer's engine, in a transaction of its own that
  does not wait for the disk (it carries nothing to keep): at most one in flight per channel and process, and one
  more when commits came while it was on its way, so a burst of commits shares its wake-ups.

A worker must still poll now and then: a NOTIFY that fails, or a process that stops between its commit and its
NOTIFY, leaves the rows for the next poll.
"""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from servicekit.settings import libpq_dsn

_log = logging.getLogger("servicekit.wake")

# The workers waiting in this process, by (database DSN, channel).
_WAITING: dict[tuple[str, str], asyncio.Event] = {}


def waiting_here(dsn: str, channel: str, wake: asyncio.Event | None) -> None:
    """A worker of this process waits on `channel` of the database at `dsn` (`wake`), or no longer (None)."""
    if wake is None:
        _WAITING.pop((dsn, channel), None)
    else:
        _WAITING[(dsn, channel)] = wake


class CommitWaker:
    """Wakes the worker waiting on `channel`; `wake` is an after-commit callback (`after_commit(session, wake)`).

    `woken_here` and `sent` count the two ways, for tests and benchmarks."""

    def __init__(self, channel: str) -> None:
        self.channel = channel
        self._notify = f"BEGIN; SET LOCAL synchronous_commit TO off; NOTIFY {channel}; COMMIT"
        self._dsn: dict[AsyncEngine, str] = {}
        self._pending = False
        self._task: asyncio.Task[None] | None = None
        self.sent = 0
        self.woken_here = 0

    def wake(self, session: AsyncSession) -> None:
        engine = session.bind
        if not isinstance(engine, AsyncEngine):
            return
        dsn = self._dsn.get(engine)
        if dsn is None:
            dsn = self._dsn[engine] = libpq_dsn(engine.url)
        here = _WAITING.get((dsn, self.channel))
        if here is not None:
            try:
                here.set()
                self.woken_here += 1
                return
            except RuntimeError:  # a worker whose event loop is gone: forget it and NOTIFY whoever waits now
                _WAITING.pop((dsn, self.channel), None)
        self._pending = True
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._send(engine))

    async def _send(self, engine: AsyncEngine) -> None:
        try:
            while self._pending:
                self._pending = False
                async with engine.connect() as connection:
                    driver = (await connection.get_raw_connection()).driver_connection
                    assert driver is not None
                    await driver.execute(self._notify)
                self.sent += 1
        except Exception as exc:  # the worker's poll finds the rows
            self._pending = False
            _log.warning(
                "could not NOTIFY %s (%s: %s); the next poll finds the rows", self.channel, type(exc).__name__, exc
            )
