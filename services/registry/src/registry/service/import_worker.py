"""The import worker: runs uploaded factory lists in batches, each batch one transaction.

A row's outcome is written in the same transaction as the factory, review item and events it causes, so
a crash loses at most the batch in flight, which the next run redoes from scratch: no factory is ever
created twice. The worker holds a Postgres advisory lock per job on a connection of its own
(`adapters.imports.claim_job`); if the process dies the lock goes with the connection and any instance
resumes the job at once. `workers.py` starts it with the app.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from registry.adapters import imports as jobs
from registry.adapters import repository as repo
from registry.adapters.tables import SCHEMA, blocking_keys_of
from registry.domain import factory as rules
from registry.domain.factory import Factory, FactoryRuleError
from registry.domain.matching import EXACT_KEYS, GLOBAL_KEYS, Candidate, Decision, match, search_keys
from registry.service.factories import open_review, thresholds
from registry.service.import_csv import ImportRowIn, rejection_reason
from registry.settings import RegistrySettings
from servicekit.audit import record_audits
from servicekit.auth import Principal, Role
from servicekit.database import Database, UnitOfWork

_log = logging.getLogger("registry.imports")

OUTCOMES = ("created", "matched", "needs_review", "rejected")


@dataclass
class _Batch:
    """What one batch decided, written together at its end."""

    factories: list[Factory] = field(default_factory=list)
    events: list[Any] = field(default_factory=list)
    # Factories created in this batch, filed under (country, search key) as the database files them.
    candidates: dict[tuple[str, str], list[Candidate]] = field(default_factory=dict)
    external_ids: dict[tuple[str, str, str], uuid.UUID] = field(default_factory=dict)  # (country, field, value)
    results: list[dict[str, Any]] = field(default_factory=list)
    reviews: list[tuple[Factory, Any, int]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))


class ImportWorker:
    """Runs queued and interrupted import jobs, one at a time per process, until stopped."""

    def __init__(self, database: Database, settings: RegistrySettings) -> None:
        self.database = database
        self.settings = settings
        self.wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self.on_batch: Callable[[uuid.UUID, int], None] | None = None  # tests and benchmarks observe progress

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="registry-import-worker")

    async def stop(self) -> None:
        self._stopping.set()
        self.wakeup.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                worked = await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                _log.exception("import worker failed; retrying shortly")
                worked = False
            if not worked:
                self.wakeup.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wakeup.wait(), self.settings.import_poll_s)

    async def run_once(self) -> bool:
        """Claim one unfinished job and run it to the end; False when there was none to claim."""
        async with jobs.claim_job(self.database) as job_id:
            if job_id is None:
                return False
            await self._run_job(job_id)
            return True

    async def _run_job(self, job_id: uuid.UUID) -> None:
        async with self.database.unit_of_work() as uow:
            job = await jobs.load_job(uow.session, job_id)
            assert job is not None
            if job["status"] not in ("queued", "running"):
                return
            await jobs.mark_running(uow.session, job)
            await uow.commit()
        p = job["principal"]
        principal = Principal(
            subject=p["subject"],
            roles=frozenset(Role(r) for r in p["roles"]),
            organisation_id=p.get("organisation_id"),
            country=p.get("country"),
        )
        _log.info("import %s: %d rows, %d done before", job_id, job["total"], job["processed"])
        started = time.perf_counter()
        while await self._run_batch(job_id, principal):
            if self._stopping.is_set():
                return
        async with self.database.unit_of_work() as uow:
            await jobs.mark_completed(uow.session, job_id)
            await uow.commit()
        _log.info("import %s finished in %.1f s", job_id, time.perf_counter() - started)

    async def _run_batch(self, job_id: uuid.UUID, principal: Principal) -> bool:
        async with self.database.unit_of_work() as uow:
            rows = await jobs.pending_rows(uow.session, job_id, self.settings.import_batch_size)
            if not rows:
                return False
            batch = _Batch()
            for line, raw in rows:
                await self._decide_row(uow, batch, principal, line, raw)
            await self._write(uow, batch, job_id, principal)
            await uow.commit()
        if self.on_batch is not None:
            self.on_batch(job_id, len(rows))
        return True

    async def _decide_row(
        self, uow: UnitOfWork, batch: _Batch, principal: Principal, line: int, raw: dict[str, Any]
    ) -> None:
        result: dict[str, Any] = {"line": line, "factory_id": None, "review_id": None, "score": None, "reason": None}
        batch.results.append(result)
        try:
            if "_extra_cells" in raw:
                raise FactoryRuleError(f"the row has {raw['_extra_cells']} cell(s) more than the header")
            row = ImportRowIn.model_validate(raw)
            if principal.country and row.country.upper() != principal.country and not principal.is_admin:
                raise FactoryRuleError(f"staff of {principal.country} cannot register factories in {row.country}")
            factory, event = rules.register(country=row.country, values=row.values(), now=datetime.now(UTC))
        except ValidationError as exc:
            result.update(outcome="rejected", reason=rejection_reason(exc))
        except FactoryRuleError as exc:
            result.update(outcome="rejected", reason=f"{exc.field}: {exc}" if exc.field else str(exc))
        else:
            await self._match_row(uow, batch, factory, event, result)
        batch.counts[result["outcome"]] += 1

    async def _match_row(
        self, uow: UnitOfWork, batch: _Batch, factory: Factory, event: Any, result: dict[str, Any]
    ) -> None:
        for key in EXACT_KEYS:  # within the row's country, like every match
            value = getattr(factory, key)
            if not value:
                continue
            holder = batch.external_ids.get((factory.country, key, value)) or await repo.exact_key_holder(
                uow.session, key, value, factory.country
            )
            if holder is not None:
                result.update(outcome="matched", factory_id=holder, score=100.0, reason=f"same {key}")
                return
            if key in GLOBAL_KEYS and (
                any(k[1:] == (key, value) for k in batch.external_ids)  # created by this batch in another country
                or await repo.holder_of_external_id(uow.session, key, value, factory.country)
            ):
                result.update(outcome="rejected", reason=f"{key}: {value} belongs to a factory of another country")
                return
        found = await repo.candidates(
            uow.session,
            country=factory.country,
            name=factory.name,
            address=factory.address,
            limit=self.settings.match_candidates,
        )
        keys = search_keys(factory.name, factory.address)
        extra = list({c.id: c for key in keys for c in batch.candidates.get((factory.country, key), ())}.values())
        decision = match(factory.name, factory.address, factory.country, [*found, *extra], thresholds(self.settings))
        result["score"] = decision.score
        if decision.decision is Decision.LINK:
            assert decision.candidate_id is not None
            result.update(outcome="matched", factory_id=uuid.UUID(decision.candidate_id))
        elif decision.decision is Decision.REVIEW:
            result.update(outcome="needs_review")
            batch.reviews.append((factory, decision, result["line"]))
        else:
            result.update(outcome="created", factory_id=factory.id)
            batch.factories.append(factory)
            batch.events.append(event)
            candidate = repo.candidate_of(factory)
            for key in blocking_keys_of(factory):
                batch.candidates.setdefault((factory.country, key), []).append(candidate)
            for key in EXACT_KEYS:
                if getattr(factory, key):
                    batch.external_ids[(factory.country, key, getattr(factory, key))] = factory.id

    async def _write(self, uow: UnitOfWork, batch: _Batch, job_id: uuid.UUID, principal: Principal) -> None:
        await repo.insert_factories(uow.session, batch.factories)
        by_line = {r["line"]: r for r in batch.results}
        for factory, decision, line in batch.reviews:
            review_id = await open_review(uow, principal, factory, decision, source="import", job_id=job_id, line=line)
            by_line[line]["review_id"] = review_id
        for event, factory in zip(batch.events, batch.factories, strict=True):
            uow.emit(event, country=factory.country)
        await record_audits(
            uow.session,
            schema=SCHEMA,
            actor=principal,
            entries=[
                {
                    "action": "factory.registered",
                    "entity_type": "factory",
                    "entity_id": str(f.id),
                    "details": {"name": f.name, "import_id": str(job_id)},
                }
                for f in batch.factories
            ],
        )
        await jobs.record_outcomes(uow.session, job_id, batch.results, batch.counts)
