"""A release of 5,000 factories: computed and published within 30 s, rebuilt from the fact log with the same hash.

Target (issue 16, transparency): a release for 5,000 factories computed and published in at most 30 s; a rebuild
from the log gives the same content hash. Runs the use cases in this process against a fresh, migrated database
(`bench/local_platform.py`); the fact log is written straight into its table first (each factory registered,
then one to three finalised assessments of 40 questions, some replies and verified fixes), as transparency's
consumer would have left it.

    .venv/bin/python bench/transparency_release.py [--factories 5000] [--country VN]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
import uuid
from datetime import UTC, date, datetime

from local_platform import LocalPlatform, local_platform, progress, verdict

from messaging.runtime import outbox_for
from servicekit.auth import Principal, Role
from servicekit.database import Database
from transparency.service import publications

TARGET_S = 30.0
CLUSTERS = ("CL", "DIS", "FL", "FOA", "COMP", "CONT", "OSH", "WT")


def staff(subject: str, country: str) -> Principal:
    return Principal(subject=subject, roles=frozenset({Role.STAFF}), country=country)


def facts(country: str, factories: int, seed: int = 16) -> list[tuple[str, str, str, datetime, str]]:
    """(source_id, kind, country, occurred_at, payload) rows of a plausible log."""
    rnd = random.Random(seed)
    rows: list[tuple[str, str, str, datetime, str]] = []
    provinces = [f"Province {n}" for n in range(12)]
    for n in range(factories):
        factory_id = str(uuid.UUID(int=rnd.getrandbits(128)))
        registered = {
            "factory_id": factory_id,
            "name": f"Factory {n:05d}",
            "country": country,
            "province": rnd.choice(provinces),
            "sector": rnd.choice(["garment", "footwear", "travel_goods"]),
            "workers_total": rnd.choice([120, 450, 900, 1800, 3500, 8000]),
        }
        rows.append(
            (
                f"registry:{factory_id}:1",
                "factory_registered",
                country,
                datetime(2022, 1, 1, tzinfo=UTC),
                json.dumps(registered),
            )
        )
        for cycle in range(1, rnd.randint(1, 3) + 1):
            on = date(2022 + cycle, rnd.randint(1, 12), rnd.randint(1, 28))
            results = [
                {
                    "question_code": f"{country}-{cl}-{q:02d}",
                    "compliance_point": f"{country}-{cl}",
                    "cluster": cl,
                    "result": "non_compliant" if rnd.random() < 0.12 else "compliant",
                    "publicly_reported": q < 3,
                }
                for cl in CLUSTERS
                for q in range(5)
            ]
            assessment = {
                "assessment_id": str(uuid.UUID(int=rnd.getrandbits(128))),
                "factory_id": factory_id,
                "country": country,
                "cycle": cycle,
                "assessed_on": on.isoformat(),
                "results": results,
            }
            rows.append(
                (
                    f"finalised:{assessment['assessment_id']}",
                    "assessment_finalised",
                    country,
                    datetime.combine(on, datetime.min.time(), UTC),
                    json.dumps(assessment),
                )
            )
        if rnd.random() < 0.1:
            reply = {"factory_id": factory_id, "question_code": f"{country}-OSH-00", "text": "Fixed; see the photo."}
            rows.append(
                (f"reply:{uuid.uuid4()}", "reply", country, datetime(2025, 12, 1, tzinfo=UTC), json.dumps(reply))
            )
        if rnd.random() < 0.05:
            verified = {"factory_id": factory_id, "question_code": f"{country}-OSH-00", "status": "verified"}
            rows.append(
                (
                    f"item:{uuid.uuid4()}",
                    "item_status",
                    country,
                    datetime(2025, 12, 2, tzinfo=UTC),
                    json.dumps(verified),
                )
            )
    return rows


async def run(platform: LocalPlatform, args: argparse.Namespace) -> bool:
    settings = platform.settings("transparency")
    database = Database(settings.service_database_url(), schema="transparency", event_sink=outbox_for(settings).write)
    try:
        rows = facts(args.country, args.factories)
        progress(f"writing {len(rows):,} facts for {args.factories:,} factories...")
        conn = await platform.admin_connection()
        try:
            await conn.copy_records_to_table(
                "fact",
                schema_name="transparency",
                records=[(s, k, c, t, p) for s, k, c, t, p in rows],
                columns=["source_id", "kind", "country", "occurred_at", "payload"],
            )
        finally:
            await conn.close()
        cut_off = date(2026, 1, 1)
        started = time.perf_counter()
        async with database.unit_of_work() as uow:
            candidate = await publications.compute_candidate(
                uow, principal=staff("ea-prep", args.country), country=args.country, cut_off=cut_off
            )
        computed = time.perf_counter() - started
        async with database.unit_of_work() as uow:
            await publications.review(uow, principal=staff("ea-review", args.country), publication_id=candidate.id)
        async with database.unit_of_work() as uow:
            released = await publications.approve(
                uow, principal=staff("tl-approve", args.country), publication_id=candidate.id
            )
        total = time.perf_counter() - started
        async with database.unit_of_work() as uow:
            listed = await publications.get(uow, principal=staff("x", args.country), publication_id=released.id)
        started = time.perf_counter()
        async with database.unit_of_work() as uow:
            rebuilt = await publications.rebuild(uow, principal=staff("x", args.country), publication_id=released.id)
        rebuild_s = time.perf_counter() - started
    finally:
        await database.engine.dispose()
    within = total <= TARGET_S
    print(f"factories in the log: {args.factories:,}; facts: {len(rows):,}; factories listed: {listed[1]:,}")
    print(
        f"candidate computed in {computed:.2f} s; reviewed, approved and published: {total:.2f} s "
        f"(target <= {TARGET_S:g} s) {verdict(within)}"
    )
    print(
        f"rebuilt from the log in {rebuild_s:.2f} s: hash {rebuilt.content_hash[:16]}... "
        f"{'equals' if rebuilt.matches else 'DIFFERS FROM'} the release's {verdict(rebuilt.matches)}"
    )
    return within and rebuilt.matches


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--factories", type=int, default=5000)
    parser.add_argument("--country", default="VN")
    args = parser.parse_args()
    with local_platform() as platform:
        ok = asyncio.run(run(platform, args))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
