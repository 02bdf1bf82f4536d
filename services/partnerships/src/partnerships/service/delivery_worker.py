"""The webhook delivery worker: claims due messages, sends them, records how each attempt ended.

The worker claims due messages in batches from the delivery queue, signs and posts them concurrently over
pooled keep-alive connections (the sender), and records ended attempts many at a time, each group in one
transaction: every attempt (status, latency, response code), each message's next step (delivered, retry
later, failed), and each endpoint's run of failures, which disables it when it gets too long. Any number of
workers can run: claims never overlap. Round trips are per batch, never per message.

Delivery is at least once: a worker that dies after sending but before recording sends those messages
again once their lease ends. Receivers deduplicate on `webhook-id`, as Standard Webhooks asks them to.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import uuid
from datetime import UTC, datetime

from partnerships.adapters import delivery_queue
from partnerships.adapters.delivery_queue import Claimed
from partnerships.adapters.webhook_sender import DNS_TIMEOUT_S, WebhookSender
from partnerships.domain import webhooks as rules
from partnerships.domain.deliveries import Attempt, scheduled_attempt
from partnerships.domain.endpoints import ENABLED
from partnerships.service.attempts import record_attempts
from partnerships.settings import PartnershipsSettings
from servicekit.database import Database
from servicekit.settings import libpq_dsn

_log = logging.getLogger("partnerships.webhooks")

RECORD_LINGER_S = 0.02


class WebhookWorker:
    """Delivers due messages until stopped: woken by NOTIFY at each enqueue's commit, polling as a fallback.

    A pipeline rather than batch-after-batch: the claimer tops up the deliveries in flight whenever there
    is room, and the recorder writes whatever attempts have ended in one transaction, again and again.
    So a slow receiver holds only its own connections, never a whole batch, and under load each
    transaction records many attempts. An endpoint has at most `2 * webhook_connections_per_host`
    messages in this worker: claims pass over endpoints that have that many, and hand back any claimed
    beyond it, so one receiver with a large backlog cannot fill the worker.
    """

    def __init__(
        self, database: Database, settings: PartnershipsSettings, *, sender: WebhookSender | None = None
    ) -> None:
        self.database = database
        self.settings = settings
        self.sender = sender or WebhookSender(settings)
        self._owns_sender = sender is None
        self.wakeup = asyncio.Event()
        self.delivered_total = 0  # benchmarks and tests watch these
        self.attempted_total = 0
        self._stopping = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._in_flight: set[asyncio.Task[None]] = set()
        self._per_endpoint: dict[uuid.UUID, int] = {}
        self._ended: list[Attempt] = []
        self._attempts_ended = asyncio.Event()
        self._room = asyncio.Event()
        self.capacity = 2 * settings.webhook_batch_size
        self.endpoint_cap = 2 * settings.webhook_connections_per_host
        # A claimed message is this worker's until its attempt is recorded: long enough for it to wait behind
        # everything queued here for its origin (at worst all of `capacity`, a few connections at a time, each
        # timing out), short enough that a crashed worker's messages are tried again within minutes.
        rounds = math.ceil(self.capacity / settings.webhook_connections_per_host) + 1
        self.lease_s = rounds * (settings.webhook_timeout_s + DNS_TIMEOUT_S) + 30

    async def start(self) -> None:
        self._stopping.clear()
        self._tasks = [
            asyncio.create_task(self._listen(), name="partnerships-webhook-listener"),
            asyncio.create_task(self._claim_loop(), name="partnerships-webhook-claimer"),
            asyncio.create_task(self._record_loop(), name="partnerships-webhook-recorder"),
        ]

    async def stop(self) -> None:
        """Stop claiming, let the deliveries in flight end and record them, then stop."""
        self._stopping.set()
        self.wakeup.set()
        self._attempts_ended.set()
        if self._tasks:
            _done, pending = await asyncio.wait(self._tasks, timeout=self.settings.webhook_timeout_s + 10)
            for task in pending:
                task.cancel()
            for task in self._tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            self._tasks = []
        for task in list(self._in_flight):  # only if recording could not finish in time
            task.cancel()
        if self._owns_sender:
            await self.sender.aclose()

    # -- claiming -------------------------------------------------------------------------------------------------

    async def _claim_loop(self) -> None:
        """Claim a batch whenever at most one batch is in flight: claims stay large under load, prompt when idle."""
        batch = self.settings.webhook_batch_size
        while not self._stopping.is_set():
            if len(self._in_flight) > self.capacity - batch:
                self._room.clear()
                await _first_of(self._room, self._stopping, timeout=self.settings.webhook_poll_s)
                continue
            self.wakeup.clear()  # before the claim: a NOTIFY during it starts the next one at once
            try:
                claimed = await self._claim(batch)
            except asyncio.CancelledError:
                raise
            except Exception:
                _log.exception("webhook claim failed; retrying shortly")
                claimed = 0
            if claimed < batch:
                await _first_of(self.wakeup, self._stopping, timeout=self.settings.webhook_poll_s)

    async def _claim(self, limit: int) -> int:
        """Claim up to `limit` due messages and start delivering them; how many were claimed."""
        saturated = [e for e, n in self._per_endpoint.items() if n >= self.endpoint_cap]
        async with self.database.unit_of_work() as uow:
            rows = await delivery_queue.claim(uow.session, limit=limit, lease_s=self.lease_s, saturated=saturated)
            stale = [m.id for m in rows if m.endpoint_status != ENABLED]
            live, handed_back = [], []
            for message in (m for m in rows if m.endpoint_status == ENABLED):
                held = self._per_endpoint.get(message.endpoint_id, 0)
                if held >= self.endpoint_cap:
                    handed_back.append(message.id)
                else:
                    self._per_endpoint[message.endpoint_id] = held + 1
                    live.append(message)
            await delivery_queue.skip(uow.session, stale)
            # Due again at once; the next claims pass over their endpoint while it is full.
            await delivery_queue.hand_back(uow.session, handed_back)
            await uow.commit()
        now = datetime.now(UTC)
        signing: dict[uuid.UUID, list[str]] = {}
        dns: dict[tuple[str, int], asyncio.Task[list[str]]] = {}  # one lookup per name per claim
        for message in live:
            if message.endpoint_id not in signing:
                signing[message.endpoint_id] = rules.signing_secrets(
                    rules.secrets_of(message.secrets, self.sender.box), now
                )
            task = asyncio.create_task(self._attempt(message, signing[message.endpoint_id], dns))
            self._in_flight.add(task)
        return len(rows)

    async def _attempt(
        self,
        message: Claimed,
        signing: list[str],
        dns: dict[tuple[str, int], asyncio.Task[list[str]]],
    ) -> None:
        try:
            outcome = await self.sender.send(
                url=message.url, signing=signing, msg_id=str(message.id), body=message.body, dns=dns
            )
            attempt = scheduled_attempt(
                message.id, message.endpoint_id, message.attempts, outcome, scale=self.settings.webhook_backoff_scale
            )
            self._ended.append(attempt)
            self._attempts_ended.set()
        finally:
            self._per_endpoint[message.endpoint_id] -= 1
            if not self._per_endpoint[message.endpoint_id]:
                del self._per_endpoint[message.endpoint_id]
            current = asyncio.current_task()
            if current is not None:
                self._in_flight.discard(current)  # type: ignore[arg-type]
            if len(self._in_flight) <= self.capacity - self.settings.webhook_batch_size:
                self._room.set()

    # -- recording ------------------------------------------------------------------------------------------------

    async def _record_loop(self) -> None:
        """Record ended attempts, many per transaction under load; after a stop, until nothing is in flight."""
        while True:
            if not self._ended:
                if self._stopping.is_set() and not self._in_flight:
                    return
                self._attempts_ended.clear()
                await _first_of(self._attempts_ended, timeout=self.settings.webhook_poll_s)
                continue
            if self._in_flight and len(self._ended) < self.settings.webhook_batch_size:
                await asyncio.sleep(RECORD_LINGER_S)  # let a few more end: one transaction records them all
            ended, self._ended = self._ended, []
            try:
                async with self.database.unit_of_work() as uow:
                    await record_attempts(uow.session, ended, disable_after=self.settings.webhook_disable_after)
                    await uow.commit()
            except asyncio.CancelledError:
                raise
            except Exception:
                # The messages keep their lease and are tried again when it ends (receivers deduplicate).
                _log.exception("recording %d webhook attempts failed", len(ended))
                await asyncio.sleep(min(self.settings.webhook_poll_s, 1.0))
                continue
            self.attempted_total += len(ended)
            self.delivered_total += sum(1 for a in ended if a.outcome.ok)

    # -- listening ------------------------------------------------------------------------------------------------

    async def _listen(self) -> None:
        await delivery_queue.listen(libpq_dsn(self.settings.service_database_url()), self.wakeup, self._stopping)


async def _first_of(*events: asyncio.Event, timeout: float | None = None) -> None:
    """Wait until any of `events` is set, or `timeout` seconds."""
    waits = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()
