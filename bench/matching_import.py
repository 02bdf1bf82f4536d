"""Matching quality through the service: the generated sets uploaded as factory lists to a running registry.

`bench/matching_quality.py` scores each submission alone, in memory, against a mirror of the SQL candidate search.
This bench does what the outside check of issue 13 did instead: a registry process on a fresh database (its own
Tansu broker and Postgres database per set), and for each country of the set

1. the registered factories uploaded as one list (`POST /v1/factory-imports`, staff of that country): every one of
   them should be created (the clean list);
2. the submissions uploaded as a second list; the per-row results (`GET /v1/factory-imports/{id}/results`) are
   scored against the labels. A row may match a factory created by an earlier row of the same list, as in a real
   upload: counted as a wrong link unless it is the factory the row is a variant of.

Printed per set: precision, recall, F1 and review rate of the automatic links; siblings (another unit or product
line at the site) and other sites of the company linked; the clean list; by kind the share linked right, sent to
review, created anew and linked wrong. Targets as `matching_quality.py` (candidate recall is not seen here).

    .venv/bin/python bench/matching_import.py [--set dev|test|both] [--fresh-seed N ...]
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import functools
import io
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path

import httpx
from local_platform import LocalPlatform, ServiceProcess, local_platform, progress, wait_ready
from matching_quality import OTHER_SITE_KINDS, SIBLING_KINDS, figures, print_kinds, verdict, wrong_links
from matching_sets.generator import (
    EvaluationSet,
    Record,
    build,
    development_set,
    held_out_set,
)
from matching_sets.vocabulary import TEST
from registry_load import measure_import

from servicekit.auth import Role

COLUMNS = ("country", "name", "address", "local_name", "external_reference")


def list_of(rows: Iterable[tuple[str, Record]]) -> bytes:
    """A factory list as a country office uploads it; `external_reference` carries our label."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for reference, record in rows:
        writer.writerow([record.country, record.name, record.address, record.local_name or "", reference])
    return out.getvalue().encode()


async def upload(url: str, token: str, data: bytes) -> dict[str, dict[str, str]]:
    """The list uploaded and matched (`registry_load.measure_import`); its per-row results by external reference."""
    _, job = await measure_import(url, token, data)
    async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=120) as client:
        results = await client.get(f"/v1/factory-imports/{job['id']}/results")
    results.raise_for_status()
    return {row["external_reference"]: row for row in csv.DictReader(io.StringIO(results.text))}


async def evaluate(
    platform: LocalPlatform, registry: ServiceProcess, name: str, evaluation: EvaluationSet
) -> dict[str, float]:
    registered_by_country: dict[str, list[tuple[str, Record]]] = defaultdict(list)
    for key, record in evaluation.registered:
        registered_by_country[record.country].append((key, record))
    submitted_by_country: dict[str, list[tuple[str, Record]]] = defaultdict(list)
    labels = {}
    for i, submission in enumerate(evaluation.submissions):
        reference = f"S{i}"
        submitted_by_country[submission.record.country].append((reference, submission.record))
        labels[reference] = submission

    factory_of: dict[str, str] = {}  # registered key -> the factory id the registry gave it
    created = 0
    by_kind: dict[str, Counter[str]] = defaultdict(Counter)
    started = time.perf_counter()
    for country in sorted(registered_by_country.keys() | submitted_by_country.keys()):
        token = platform.signing_key.mint(roles=[Role.STAFF], subject="bench-matching", country=country)
        clean = await upload(registry.url, token, list_of(registered_by_country[country]))
        for key, row in clean.items():
            created += row["outcome"] == "created"
            factory_of[key] = row["factory_id"]
        results = await upload(registry.url, token, list_of(submitted_by_country[country]))
        for reference, row in results.items():
            submission = labels[reference]
            outcome = outcome_of(row, factory_of.get(submission.truth) if submission.truth else None)
            for kind in ("*", submission.kind):
                by_kind[kind][outcome] += 1
        progress(f"  {name} {country}: {len(clean):,} registered, {len(results):,} submitted")
    elapsed = time.perf_counter() - started
    return report(name, evaluation, by_kind, created, elapsed)


def outcome_of(row: dict[str, str], truth_id: str | None) -> str:
    if row["outcome"] == "matched":
        return "link_right" if truth_id is not None and row["factory_id"] == truth_id else "link_wrong"
    if row["outcome"] == "needs_review":
        return "review"
    if row["outcome"] == "created":
        return "new"
    return "rejected"


def report(
    name: str, evaluation: EvaluationSet, by_kind: dict[str, Counter[str]], created: int, elapsed: float
) -> dict[str, float]:
    total = len(evaluation.submissions)
    positives = sum(1 for s in evaluation.submissions if s.truth)
    precision, recall, f1, review_rate = figures(by_kind["*"], positives, total)
    siblings, other_sites = wrong_links(by_kind, SIBLING_KINDS), wrong_links(by_kind, OTHER_SITE_KINDS)
    rows = len(evaluation.registered) + total
    print(
        f"\n=== {name} through POST /v1/factory-imports: {len(evaluation.registered)} registered, "
        f"{total} submissions ({positives} variants) in {elapsed:.0f} s ({rows / elapsed:,.0f} rows/s) ==="
    )
    print(f"matcher : precision {precision:.3f}  recall {recall:.3f}  F1 {f1:.3f}  review rate {review_rate:.3f}")
    print(f"siblings linked automatically: {siblings} (units and product lines at the site)")
    print(f"other sites of the company linked automatically: {other_sites} (counted in precision; no target)")
    print(f"clean list: {created} of {len(evaluation.registered)} distinct factories created")
    print(f"rejected rows: {by_kind['*']['rejected']}")
    print_kinds(by_kind)
    return {
        "precision": precision,
        "recall": recall,
        "review_rate": review_rate,
        "siblings": siblings,
        "other_sites": other_sites,
        "clean_missed": len(evaluation.registered) - created,
        "rejected": by_kind["*"]["rejected"],
    }


async def run(platform: LocalPlatform, name: str, make: Callable[[], EvaluationSet]) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="bw-matching-import-") as logs:
        registry = ServiceProcess(platform, "registry", Path(logs), {"REGISTRY_IMPORT_POLL_S": "0.2"})
        try:
            await wait_ready([registry], timeout=60)
            return await evaluate(platform, registry, name, make())
        finally:
            registry.stop()


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=("dev", "test", "both", "none"), default="both")
    parser.add_argument("--fresh-seed", type=int, action="append", default=[], help="a held-out-vocabulary set")
    args = parser.parse_args(list(argv) if argv is not None else None)
    makers: list[tuple[str, Callable[[], EvaluationSet]]] = {
        "dev": [("development_set", development_set)],
        "test": [("held_out_set", held_out_set)],
        "both": [("development_set", development_set), ("held_out_set", held_out_set)],
        "none": [],
    }[args.set]
    makers += [(f"fresh_seed_{seed}", functools.partial(build, TEST, seed)) for seed in args.fresh_seed]
    results = []
    for name, make in makers:
        with local_platform(topic_prefix=f"benchm{uuid.uuid4().hex[:6]}.") as platform:  # a fresh database a set
            results.append((name, asyncio.run(run(platform, name, make))))
    print()
    failures = sum(not verdict(name, result) for name, result in results)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
