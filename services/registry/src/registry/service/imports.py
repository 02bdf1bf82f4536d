"""Bulk factory lists: a CSV becomes a job; a worker matches its rows in batches, each batch one transaction.

A row's outcome is written in the same transaction as the factory, review item and events it causes, so
a crash loses at most the batch in flight, which the next run redoes from scratch: no factory is ever
created twice. The worker holds a Postgres advisory lock per job on a connection of its own; if the
process dies the lock goes with the connection and any instance resumes the job at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from sqlalchemy import and_, bindparam, select, text

from registry.adapters import repository as repo
from registry.adapters.tables import IMPORT_JOBS, IMPORT_ROWS, REVIEWS, SCHEMA
from registry.domain import factory as rules
from registry.domain.factory import Factory, FactoryRuleError, Sector
from registry.domain.matching import Candidate, Decision, blocking_keys, match
from registry.service.access import check_staff
from registry.service.factories import open_review, thresholds
from registry.settings import RegistrySettings
from servicekit.audit import record_audits
from servicekit.auth import Principal, Role
from servicekit.database import Database, UnitOfWork
from servicekit.errors import BadRequest, NotFound
from servicekit.pagination import PageParams, paginate, resolve_sort

_log = logging.getLogger("registry.imports")


REQUIRED_COLUMNS = ("country", "name", "address")
OPTIONAL_COLUMNS = (
    "sector",
    "workers",
    "os_id",
    "external_reference",
    "local_name",
    "province",
    "slcp_facility_id",
    "national_registration",
    "customs_list_entry",
)
_COLUMN_ALIASES = {
    "factory_name": "name",
    "facility_name": "name",
    "number_of_workers": "workers",
    "workers_total": "workers",
    "os_hub_id": "os_id",
    "osid": "os_id",
    "reference": "external_reference",
    "external_id": "external_reference",
}
OUTCOMES = ("created", "matched", "needs_review", "rejected")


class ImportRowIn(BaseModel):
    """One list row, checked like a registration (blank cells are no value)."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    country: str = Field(min_length=2, max_length=2)
    name: str = Field(min_length=1, max_length=300)
    address: str = Field(min_length=1, max_length=1000)
    sector: Sector | None = None
    workers: int | None = Field(default=None, ge=0, le=1_000_000)
    os_id: str | None = Field(default=None, max_length=30)
    external_reference: str | None = Field(default=None, max_length=200)
    local_name: str | None = Field(default=None, max_length=300)
    province: str | None = Field(default=None, max_length=200)
    slcp_facility_id: str | None = Field(default=None, max_length=100)
    national_registration: str | None = Field(default=None, max_length=100)
    customs_list_entry: str | None = Field(default=None, max_length=100)

    @model_validator(mode="before")
    @classmethod
    def _blank_is_none(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if not (isinstance(v, str) and not v.strip()) or k == "name"}
        return data

    @field_validator("sector", mode="before")
    @classmethod
    def _sector(cls, value: Any) -> Any:
        return value.strip().lower().replace(" ", "_") if isinstance(value, str) else value

    @field_validator("workers", mode="before")
    @classmethod
    def _workers(cls, value: Any) -> Any:
        return value.replace(",", "").replace(" ", "") if isinstance(value, str) else value

    def values(self) -> dict[str, Any]:
        values = self.model_dump(exclude={"country", "workers", "external_reference"}, exclude_none=True)
        if self.workers is not None:
            values["workers_total"] = self.workers
        return values


@dataclass(frozen=True)
class ParsedList:
    rows: list[dict[str, str]]
    columns: list[str]
    ignored_columns: list[str]


def _column(name: str) -> str:
    key = "_".join(name.strip().lower().replace("-", " ").split())
    return _COLUMN_ALIASES.get(key, key)


def parse_csv(data: bytes, *, default_country: str | None, max_rows: int) -> ParsedList:
    """The list's rows as raw text cells; a file that is not a usable list is a 400 (and no job is made)."""
    try:
        content = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadRequest(f"The list is not UTF-8 text (byte {exc.start}); save it as CSV UTF-8.") from exc
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(content[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(content), dialect)
    header = next(reader, None)
    if not header or not any(cell.strip() for cell in header):
        raise BadRequest("The list is empty: the first line must name the columns.")
    columns = [_column(c) for c in header]
    repeated = sorted({c for c in columns if columns.count(c) > 1 and c})
    if repeated:
        raise BadRequest(f"Columns appear twice: {', '.join(repeated)}.")
    required = [c for c in REQUIRED_COLUMNS if not (c == "country" and default_country)]
    missing = [c for c in required if c not in columns]
    if missing:
        raise BadRequest(
            f"The list lacks the column(s) {', '.join(missing)}.",
            required=list(REQUIRED_COLUMNS),
            optional=list(OPTIONAL_COLUMNS),
            found=columns,
        )
    known = set(REQUIRED_COLUMNS) | set(OPTIONAL_COLUMNS)
    rows: list[dict[str, str]] = []
    for cells in reader:
        if not any(cell.strip() for cell in cells):
            continue
        row = {columns[i]: cell for i, cell in enumerate(cells[: len(columns)]) if columns[i] in known}
        if len(cells) > len(columns):
            row["_extra_cells"] = str(len(cells) - len(columns))
        if default_country and not row.get("country", "").strip():
            row["country"] = default_country
        rows.append(row)
        if len(rows) > max_rows:
            raise BadRequest(f"The list has more than {max_rows} rows; split it.")
    if not rows:
        raise BadRequest("The list has a header but no rows.")
    return ParsedList(rows, columns, sorted({c for c in columns if c not in known and c}))


async def create_job(
    uow: UnitOfWork,
    *,
    principal: Principal,
    settings: RegistrySettings,
    data: bytes,
    filename: str | None,
    default_country: str | None,
) -> dict[str, Any]:
    check_staff(principal, settings.country)
    country = default_country.strip().upper() if default_country else None
    parsed = parse_csv(data, default_country=country, max_rows=settings.import_max_rows)
    job_id, now = uuid.uuid4(), datetime.now(UTC)
    job = {
        "id": job_id,
        "status": "queued",
        "filename": filename,
        "default_country": country,
        "total": len(parsed.rows),
        "principal": principal.as_public_dict(),
        "created_by": principal.subject,
        "created_at": now,
    }
    await uow.session.execute(IMPORT_JOBS.insert().values(**job))
    await uow.session.execute(
        IMPORT_ROWS.insert(), [{"job_id": job_id, "line": i + 2, "raw": row} for i, row in enumerate(parsed.rows)]
    )
    await record_audits(
        uow.session,
        schema=SCHEMA,
        actor=principal,
        entries=[
            {
                "action": "factory_import.created",
                "entity_type": "factory_import",
                "entity_id": str(job_id),
                "details": {"filename": filename, "rows": len(parsed.rows), "ignored_columns": parsed.ignored_columns},
            }
        ],
    )
    await uow.commit()
    return await get_job(uow, principal=principal, job_id=job_id) | {"ignored_columns": parsed.ignored_columns}


async def get_job(uow: UnitOfWork, *, principal: Principal, job_id: uuid.UUID) -> dict[str, Any]:
    row = (await uow.session.execute(select(IMPORT_JOBS).where(IMPORT_JOBS.c.id == job_id))).first()
    if row is None or not _may_see(principal, dict(row._mapping)):
        raise NotFound(f"No import {job_id}.")
    return _with_progress(dict(row._mapping))


def _may_see(principal: Principal, job: dict[str, Any]) -> bool:
    if principal.is_admin:
        return True
    return Role.STAFF in principal.roles and job["principal"].get("country") == principal.country


def _with_progress(job: dict[str, Any]) -> dict[str, Any]:
    job = {k: v for k, v in job.items() if k != "principal"}
    total, processed = job["total"], job["processed"]
    job["percent"] = round(100 * processed / total, 1) if total else 100.0
    rate = None
    if job.get("started_at") and processed:
        end = job.get("finished_at") or datetime.now(UTC)
        elapsed = max((end - job["started_at"]).total_seconds(), 1e-3)
        rate = round(processed / elapsed, 1)
    job["rows_per_second"] = rate
    return job


async def list_jobs(
    uow: UnitOfWork, *, principal: Principal, settings: RegistrySettings, page: PageParams
) -> tuple[list[dict[str, Any]], str | None]:
    check_staff(principal, settings.country)
    order = resolve_sort(
        page.sort or "-created_at", {"created_at": (IMPORT_JOBS.c.created_at, IMPORT_JOBS.c.id)}, "-created_at"
    )
    stmt = select(IMPORT_JOBS)
    if not principal.is_admin:
        stmt = stmt.where(IMPORT_JOBS.c.principal["country"].astext == principal.country)
    rows, cursor = await paginate(uow.session, stmt, order, page)
    return [_with_progress(dict(r._mapping)) for r in rows], cursor


RESULT_COLUMNS = (
    "line",
    "outcome",
    "factory_id",
    "score",
    "review_id",
    "review_status",
    "reason",
    "country",
    "name",
    "address",
    "external_reference",
)


async def results_csv(uow: UnitOfWork, *, principal: Principal, job_id: uuid.UUID) -> str:
    """One line per row: created, matched to id, needs review (with the decision once made), rejected and why."""
    await get_job(uow, principal=principal, job_id=job_id)
    rows = await uow.session.execute(
        select(IMPORT_ROWS, REVIEWS.c.status.label("review_status"))
        .select_from(IMPORT_ROWS.outerjoin(REVIEWS, REVIEWS.c.id == IMPORT_ROWS.c.review_id))
        .where(IMPORT_ROWS.c.job_id == job_id)
        .order_by(IMPORT_ROWS.c.line)
    )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(RESULT_COLUMNS)
    for row in rows.mappings():
        raw = row["raw"]
        writer.writerow(
            [
                row["line"],
                row["outcome"] or "pending",
                row["factory_id"] or "",
                "" if row["score"] is None else f"{row['score']:.1f}",
                row["review_id"] or "",
                row["review_status"] or "",
                row["reason"] or "",
                raw.get("country", ""),
                raw.get("name", ""),
                raw.get("address", ""),
                raw.get("external_reference", ""),
            ]
        )
    return out.getvalue()


# ---- the worker ---------------------------------------------------------------------------------------------


@dataclass
class _Batch:
    """What one batch decided, written together at its end."""

    factories: list[Factory] = field(default_factory=list)
    events: list[Any] = field(default_factory=list)
    # Factories created in this batch, filed under (country, blocking key) as the database files them.
    candidates: dict[tuple[str, str], list[Candidate]] = field(default_factory=dict)
    external_ids: dict[tuple[str, str], uuid.UUID] = field(default_factory=dict)
    results: list[dict[str, Any]] = field(default_factory=list)
    reviews: list[tuple[Factory, Any, int]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))


def _reason(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:4]:
        where = ".".join(str(p) for p in err["loc"]) or "row"
        parts.append(f"{where}: {err['msg'].removeprefix('Value error, ')}")
    return "; ".join(parts)


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
        async with self._claim() as job_id:
            if job_id is None:
                return False
            await self._run_job(job_id)
            return True

    @contextlib.asynccontextmanager
    async def _claim(self) -> AsyncIterator[uuid.UUID | None]:
        async with self.database.engine.connect() as conn:
            pending = await conn.execute(
                text("SELECT id FROM registry.import_job WHERE status IN ('queued', 'running') ORDER BY created_at")
            )
            await conn.commit()
            for (job_id,) in pending.all():
                key = _lock_key(job_id)
                locked = (await conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key})).scalar()
                await conn.commit()
                if not locked:
                    continue
                try:
                    yield job_id
                finally:
                    with contextlib.suppress(Exception):
                        await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                        await conn.commit()
                return
            yield None

    async def _run_job(self, job_id: uuid.UUID) -> None:
        async with self.database.unit_of_work() as uow:
            job = (await uow.session.execute(select(IMPORT_JOBS).where(IMPORT_JOBS.c.id == job_id))).mappings().one()
            if job["status"] not in ("queued", "running"):
                return
            await uow.session.execute(
                IMPORT_JOBS.update()
                .where(IMPORT_JOBS.c.id == job_id)
                .values(
                    status="running",
                    started_at=job["started_at"] or datetime.now(UTC),
                    attempts=IMPORT_JOBS.c.attempts + 1,
                )
            )
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
            await uow.session.execute(
                IMPORT_JOBS.update()
                .where(IMPORT_JOBS.c.id == job_id)
                .values(status="completed", finished_at=datetime.now(UTC))
            )
            await uow.commit()
        _log.info("import %s finished in %.1f s", job_id, time.perf_counter() - started)

    async def _run_batch(self, job_id: uuid.UUID, principal: Principal) -> bool:
        async with self.database.unit_of_work() as uow:
            rows = (
                await uow.session.execute(
                    select(IMPORT_ROWS.c.line, IMPORT_ROWS.c.raw)
                    .where(and_(IMPORT_ROWS.c.job_id == job_id, IMPORT_ROWS.c.outcome.is_(None)))
                    .order_by(IMPORT_ROWS.c.line)
                    .limit(self.settings.import_batch_size)
                )
            ).all()
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
            result.update(outcome="rejected", reason=_reason(exc))
        except FactoryRuleError as exc:
            result.update(outcome="rejected", reason=f"{exc.field}: {exc}" if exc.field else str(exc))
        else:
            await self._match_row(uow, batch, factory, event, result)
        batch.counts[result["outcome"]] += 1

    async def _match_row(
        self, uow: UnitOfWork, batch: _Batch, factory: Factory, event: Any, result: dict[str, Any]
    ) -> None:
        for key in ("os_id", "slcp_facility_id", "national_registration"):
            value = getattr(factory, key)
            if not value:
                continue
            holder = batch.external_ids.get((key, value)) or await repo.holder_of_external_id(
                uow.session, key, value, factory.country
            )
            if holder is not None:
                result.update(outcome="matched", factory_id=holder, score=100.0, reason=f"same {key}")
                return
        found = await repo.candidates(
            uow.session, country=factory.country, name=factory.name, limit=self.settings.match_candidates
        )
        extra = list(
            {
                c.id: c for key in blocking_keys(factory.name) for c in batch.candidates.get((factory.country, key), ())
            }.values()
        )
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
            for name in factory.names:
                for key in blocking_keys(name):
                    batch.candidates.setdefault((factory.country, key), []).append(candidate)
            for key in ("os_id", "slcp_facility_id", "national_registration"):
                if getattr(factory, key):
                    batch.external_ids[(key, getattr(factory, key))] = factory.id

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
        await uow.session.execute(
            IMPORT_ROWS.update()
            .where(and_(IMPORT_ROWS.c.job_id == bindparam("j"), IMPORT_ROWS.c.line == bindparam("l")))
            .values(
                outcome=bindparam("outcome"),
                factory_id=bindparam("factory_id"),
                review_id=bindparam("review_id"),
                score=bindparam("score"),
                reason=bindparam("reason"),
            ),
            [
                {
                    "j": job_id,
                    "l": r["line"],
                    "outcome": r["outcome"],
                    "factory_id": r["factory_id"],
                    "review_id": r["review_id"],
                    "score": r["score"],
                    "reason": r["reason"],
                }
                for r in batch.results
            ],
        )
        counts = batch.counts
        await uow.session.execute(
            IMPORT_JOBS.update()
            .where(IMPORT_JOBS.c.id == job_id)
            .values(
                processed=IMPORT_JOBS.c.processed + len(batch.results),
                created=IMPORT_JOBS.c.created + counts["created"],
                matched=IMPORT_JOBS.c.matched + counts["matched"],
                needs_review=IMPORT_JOBS.c.needs_review + counts["needs_review"],
                rejected=IMPORT_JOBS.c.rejected + counts["rejected"],
            )
        )


def _lock_key(job_id: uuid.UUID) -> int:
    """A signed 64-bit advisory lock key for a job."""
    return int.from_bytes(job_id.bytes[:8], "big", signed=True)
