"""Invoicing under concurrency: gapless numbering and the last credit.

Targets (issue "Invoicing service"), on this machine:
- 10,000 invoices issued by 50 concurrent workers for one issuer: 0 gaps, 0 duplicate numbers, issue p95 at
  most 200 ms (the whole issuing use case: lock the draft, draw the number, build and hash the document, save,
  audit, write `invoice.issued` to the outbox, commit; through the service's own connection pool of 10);
- 1,000 races of two spends of the last credit of a buyer: exactly one wins each time.

Runs the use cases in this process against a fresh, migrated database (`bench/local_platform.py`); drafts,
paid credit lots and factories are written straight into the tables first.

    .venv/bin/python bench/invoice_numbering.py [--invoices 10000] [--workers 50] [--races 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

from local_platform import LocalPlatform, local_platform, percentile, progress, verdict
from sqlalchemy import insert, select

from invoicing.adapters import invoices as repo
from invoicing.adapters.tables import CREDIT_ENTRY, CREDIT_LOT, CREDIT_WALLET, FACTORY_REF, INVOICE
from invoicing.domain.invoice import CustomerKind, Party, Purpose, draft
from invoicing.domain.pricing import PricedLine, Service
from invoicing.service import invoices, wallet
from invoicing.settings import InvoicingSettings
from messaging.runtime import outbox_for
from servicekit.auth import Principal, Role
from servicekit.database import Database
from servicekit.errors import Conflict

ISSUE_P95_TARGET_MS = 200.0
FINANCE = Principal("bench-finance", frozenset({Role.STAFF}), country="KH", scopes=frozenset({"invoicing:finance"}))


def database_of(platform: LocalPlatform, pool: int | None = None) -> tuple[Database, InvoicingSettings]:
    settings = platform.settings("invoicing", **({"db_pool_size": pool} if pool else {}))
    assert isinstance(settings, InvoicingSettings)
    database = Database(
        settings.service_database_url(),
        schema="invoicing",
        pool_size=settings.db_pool_size,
        event_sink=outbox_for(settings).write,
    )
    return database, settings


async def seed_drafts(database: Database, count: int) -> list[uuid.UUID]:
    line = PricedLine(Service.ADVISORY_DAY, "Advisory day", 1, 35000, None, 35000, (), 35000)
    customer = Party(CustomerKind.FACTORY, uuid.uuid4(), "Bench Garments", "KH", "Phnom Penh")
    ids = []
    for start in range(0, count, 2000):
        async with database.unit_of_work() as uow:
            for _ in range(min(2000, count - start)):
                invoice = draft(
                    purpose=Purpose.SERVICES,
                    country="KH",
                    currency="USD",
                    issuer="BFC",
                    customer=customer,
                    lines=[line],
                    created_at=datetime.now(UTC),
                    created_by="bench",
                )
                await repo.add(uow.session, invoice)
                ids.append(invoice.id)
            await uow.commit()
    return ids


async def numbering(platform: LocalPlatform, count: int, workers: int, pool: int | None) -> bool:
    database, settings = database_of(platform, pool)
    try:
        progress(f"seeding {count:,} drafts...")
        drafts = await seed_drafts(database, count)
        queue: asyncio.Queue[uuid.UUID] = asyncio.Queue()
        for invoice_id in drafts:
            queue.put_nowait(invoice_id)
        latencies: list[float] = []

        async def worker() -> None:
            while not queue.empty():
                invoice_id = queue.get_nowait()
                started = time.perf_counter()
                async with database.unit_of_work() as uow:
                    await invoices.issue(uow, principal=FINANCE, settings=settings, invoice_id=invoice_id)
                latencies.append((time.perf_counter() - started) * 1000)

        progress(f"issuing them with {workers} concurrent workers...")
        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(workers)))
        elapsed = time.perf_counter() - started
        async with database.unit_of_work() as uow:
            numbers = list(
                (await uow.session.execute(select(INVOICE.c.number).where(INVOICE.c.id.in_(drafts)))).scalars()
            )
        sequence = sorted(int(n.rsplit("-", 1)[1]) for n in numbers)
        duplicates = sum(c - 1 for c in Counter(sequence).values() if c > 1)
        gaps = (sequence[-1] - sequence[0] + 1) - len(set(sequence)) if sequence else 0
        latencies.sort()
        p50, p95, p99 = (percentile(latencies, f) for f in (0.5, 0.95, 0.99))
        ok = len(numbers) == count and gaps == 0 and duplicates == 0 and p95 <= ISSUE_P95_TARGET_MS
        progress(
            f"numbering: {len(numbers):,} issued in {elapsed:.1f} s ({len(numbers) / elapsed:,.0f}/s), "
            f"numbers {sequence[0]}..{sequence[-1]}, gaps {gaps}, duplicates {duplicates}; "
            f"issue p50 {p50:.1f} ms, p95 {p95:.1f} ms, p99 {p99:.1f} ms (target p95 <= {ISSUE_P95_TARGET_MS:.0f}) "
            f"-> {verdict(ok)}"
        )
        return ok
    finally:
        await database.dispose()


async def seed_races(database: Database, races: int) -> tuple[list[uuid.UUID], list[uuid.UUID]]:
    """Buyers holding one paid credit each, and two factories to spend it on."""
    now = datetime.now(UTC)
    factories = [uuid.uuid4(), uuid.uuid4()]
    buyers = [uuid.uuid4() for _ in range(races)]
    invoice_id = (await seed_drafts(database, 1))[0]
    async with database.unit_of_work() as uow:
        await uow.session.execute(
            insert(FACTORY_REF),
            [
                {"factory_id": f, "version": 1, "name": "Race Garments", "country": "KH", "status": "active"}
                for f in factories
            ],
        )
        await uow.session.execute(insert(CREDIT_WALLET), [{"buyer_id": b, "created_at": now} for b in buyers])
        lots = [
            {
                "id": uuid.uuid4(),
                "buyer_id": b,
                "invoice_id": invoice_id,
                "quantity": 1,
                "remaining": 1,
                "unit_price": 140000,
                "currency": "USD",
                "tier": "1-9",
                "expires_on": date.today() + timedelta(days=365),
                "spendable": True,
                "created_at": now,
                "spendable_at": now,
            }
            for b in buyers
        ]
        await uow.session.execute(insert(CREDIT_LOT), lots)
        await uow.session.execute(
            insert(CREDIT_ENTRY),
            [
                {
                    "buyer_id": lot["buyer_id"],
                    "lot_id": lot["id"],
                    "kind": "purchase",
                    "quantity": 1,
                    "at": now,
                    "by_subject": "bench",
                }
                for lot in lots
            ],
        )
        await uow.commit()
    return buyers, factories


async def credit_races(platform: LocalPlatform, races: int) -> bool:
    database, _ = database_of(platform)
    try:
        progress(f"seeding {races:,} buyers with one paid credit each...")
        buyers, factories = await seed_races(database, races)

        async def attempt(buyer_id: uuid.UUID, factory_id: uuid.UUID) -> bool:
            principal = Principal("bench-buyer", frozenset({Role.BUYER}), organisation_id=str(buyer_id))
            async with database.unit_of_work() as uow:
                try:
                    await wallet.spend_credit(
                        uow,
                        wallet.SqlCreditLedger(uow),
                        principal=principal,
                        buyer_id=None,
                        factory_id=factory_id,
                        cycle=1,
                    )
                except Conflict:
                    return False
            return True

        outcomes: Counter[int] = Counter()
        started = time.perf_counter()
        for buyer_id in buyers:
            won = await asyncio.gather(*(attempt(buyer_id, f) for f in factories))
            outcomes[sum(won)] += 1
        elapsed = time.perf_counter() - started
        async with database.unit_of_work() as uow:
            unspent = (
                await uow.session.execute(
                    select(CREDIT_LOT.c.id).where(CREDIT_LOT.c.remaining != 0, CREDIT_LOT.c.buyer_id.in_(buyers))
                )
            ).all()
        ok = outcomes[1] == races and not unspent
        progress(
            f"credit races: {races:,} races in {elapsed:.1f} s; exactly one winner {outcomes[1]:,}, "
            f"two winners {outcomes[2]}, no winner {outcomes[0]}; "
            f"lots left with a credit {len(unspent)} -> {verdict(ok)}"
        )
        return ok
    finally:
        await database.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--invoices", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=50)
    parser.add_argument("--races", type=int, default=1_000)
    parser.add_argument("--pool", type=int, default=None, help="Connections (default: the service's setting).")
    args = parser.parse_args(argv)
    results: dict[str, Any] = {}
    with local_platform() as platform:
        results["numbering"] = asyncio.run(numbering(platform, args.invoices, args.workers, args.pool))
        results["races"] = asyncio.run(credit_races(platform, args.races))
    return 0 if all(results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
