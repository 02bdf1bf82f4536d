"""Disclosure control on hand-made cells, and a proof over generated releases that no public or research file
breaks the thresholds (read back from the files themselves)."""

from __future__ import annotations

import csv
import io
import random
import uuid
from datetime import UTC, date, datetime

from transparency.domain.disclosure import (
    OTHER,
    Cell,
    Contribution,
    k_anonymous,
    make_cell,
    primary_status,
    secondary_suppression,
    shipped_thresholds,
    violations_in_cells,
    violations_in_microdata,
)
from transparency.domain.facts import ASSESSMENT_FINALISED, FACTORY_REGISTERED, AssessmentFacts, Fact, fold
from transparency.domain.listing import compute_listing
from transparency.domain.open_data import aggregate_cells, content_hash, release_files
from transparency.domain.rules import shipped_rule_sets

T = shipped_thresholds()


def c(non_compliant: bool, workers: int = 100) -> Contribution:
    return Contribution(non_compliant, workers)


def test_thresholds_are_data() -> None:
    assert (T.min_contributors, T.k_anonymity, T.dominance_n, T.dominance_k) == (3, 5, 2, 0.85)
    assert T.size_band(450) == "under 500" and T.size_band(5000) == "5,000 or more" and T.size_band(None) == "unknown"


def test_a_cell_needs_three_factories_and_three_non_compliant_ones_when_any() -> None:
    assert primary_status([c(True), c(False)], T) == "suppressed_threshold"  # two factories
    assert primary_status([c(True), c(True), c(False), c(False)], T) == "suppressed_threshold"  # two non-compliant
    assert primary_status([c(False)] * 3, T) == "published"  # none non-compliant: nobody is exposed
    assert primary_status([c(True)] * 3, T) == "published"


def test_a_cell_dominated_by_two_factories_is_suppressed() -> None:
    # workers of the non-compliant: 5000 + 4000 of 9300 = 96.8% > 85%
    assert primary_status([c(True, 5000), c(True, 4000), c(True, 300)], T) == "suppressed_dominance"
    # 400 + 300 of 1000 = 70%
    assert primary_status([c(True, 400), c(True, 300), c(True, 300)], T) == "published"


def test_one_suppressed_cell_in_a_row_brings_a_second_one() -> None:
    row = ("2025", "OSH", "")
    cells = [
        Cell(row, "", 12, 9, 900),
        Cell(row, "Amman", 5, 4, 400),
        Cell(row, "Irbid", 4, 3, 300),
        Cell(row, "Zarqa", 3, 2, 200, status="suppressed_threshold"),
    ]
    out = {x.column: x.status for x in secondary_suppression(cells)}
    # Zarqa = total - Amman - Irbid would give it away: Irbid (the smaller published one) goes too
    assert out == {
        "": "published",
        "Amman": "published",
        "Irbid": "suppressed_secondary",
        "Zarqa": "suppressed_threshold",
    }
    # two suppressed cells already: nothing more
    cells[2] = Cell(row, "Irbid", 2, 2, 200, status="suppressed_threshold")
    assert {x.column: x.status for x in secondary_suppression(cells)}["Amman"] == "published"


def test_microdata_is_recoded_then_cut_to_k_anonymity() -> None:
    rows = [{"province": "Amman", "size_band": "under 500", "sector": "garment"}] * 5
    rows += [{"province": "Irbid", "size_band": "under 500", "sector": "garment"}] * 3
    rows += [{"province": "Aqaba", "size_band": "under 500", "sector": "garment"}] * 2
    rows += [{"province": "Mafraq", "size_band": "5,000 or more", "sector": "plastics"}]
    safe = k_anonymous(rows, T)
    # Irbid and Aqaba together make five "(other)" rows; the lone plastics factory is left out
    assert sorted({r["province"] for r in safe}) == [OTHER, "Amman"] and len(safe) == 10
    assert violations_in_microdata(safe, T) == []
    assert violations_in_microdata(rows, T) != []


def _generated_log(seed: int, factories: int) -> list[Fact]:
    rnd = random.Random(seed)
    facts: list[Fact] = []
    provinces = ["Amman", "Irbid", "Zarqa", "Aqaba", "Mafraq", "Karak"]
    clusters = ["CL", "FL", "OSH", "WT", "COMP"]
    for n in range(factories):
        factory_id = uuid.UUID(int=rnd.getrandbits(128))
        workers = rnd.choice([80, 300, 900, 2500, 12000])
        facts.append(
            Fact(
                len(facts) + 1,
                FACTORY_REGISTERED,
                datetime(2020, 1, 1, tzinfo=UTC),
                {
                    "factory_id": str(factory_id),
                    "name": f"F{n}",
                    "country": "JO",
                    "province": rnd.choice(provinces),
                    "sector": rnd.choice(["garment", "garment", "footwear", "plastics"]),
                    "workers_total": workers,
                },
            )
        )
        for cycle, year in enumerate((2023, 2024, 2025)[: rnd.randint(1, 3)], start=1):
            results = [
                {
                    "question_code": f"JO-{cl}-{q:02d}",
                    "compliance_point": f"JO-{cl}",
                    "cluster": cl,
                    "result": "non_compliant" if rnd.random() < 0.15 else "compliant",
                    "publicly_reported": q < 2,
                }
                for cl in clusters
                for q in range(4)
            ]
            facts.append(
                Fact(
                    len(facts) + 1,
                    ASSESSMENT_FINALISED,
                    datetime(year, 6, 1, tzinfo=UTC),
                    {
                        "assessment_id": str(uuid.UUID(int=rnd.getrandbits(128))),
                        "factory_id": str(factory_id),
                        "country": "JO",
                        "cycle": cycle,
                        "assessed_on": date(year, rnd.randint(1, 12), 1).isoformat(),
                        "results": results,
                    },
                )
            )
    return facts


def test_no_public_or_research_file_breaks_the_thresholds() -> None:
    rules = shipped_rule_sets()["better-work-portal@1"]
    for seed, size in ((1, 12), (2, 40), (3, 150)):
        snapshot = fold(_generated_log(seed, size))
        listing = compute_listing(snapshot, rules, "JO", date(2025, 12, 31))
        files = {f.name: f.content for f in release_files(snapshot, rules, listing, T)}
        aggregates = list(csv.DictReader(io.StringIO(files["aggregates.csv"].decode())))
        microdata = list(csv.DictReader(io.StringIO(files["microdata.csv"].decode())))
        assert violations_in_cells(aggregates, T) == [], seed
        assert violations_in_microdata(microdata, T) == [], seed
        assert any(r["status"] != "published" for r in aggregates)  # the rules had work to do
        # dominance, which the file alone cannot show: recomputed here from the log for every published cluster cell
        latest: dict[tuple[int, uuid.UUID], AssessmentFacts] = {}
        for a in sorted(snapshot.assessments.values(), key=lambda a: a.assessed_on):
            latest[(a.assessed_on.year, a.factory_id)] = a
        for row in (r for r in aggregates if r["status"] == "published" and r["question_code"] == ""):
            workers = sorted(
                (
                    snapshot.factories[f].workers_total or 0
                    for (year, f), a in latest.items()
                    if str(year) == row["year"]
                    and row["province"] in ("", snapshot.factories[f].province)
                    and any(o.cluster == row["cluster"] and o.result == "non_compliant" for o in a.results.values())
                ),
                reverse=True,
            )
            assert sum(workers) == int(row["workers_in_non_compliant_factories"])
            assert sum(workers[: T.dominance_n]) <= T.dominance_k * sum(workers), row
        assert len(aggregate_cells(snapshot, rules, listing, T)) == len(aggregates)
        assert not any(h in files["microdata.csv"].decode() for h in ("factory_id", "F1,"))


def test_the_same_log_gives_the_same_bytes() -> None:
    rules = shipped_rule_sets()["better-work-portal@1"]
    log = _generated_log(7, 60)
    hashes = set()
    for facts in (log, list(log)):
        snapshot = fold(facts)
        listing = compute_listing(snapshot, rules, "JO", date(2025, 12, 31))
        hashes.add(content_hash(release_files(snapshot, rules, listing, T)))
    assert len(hashes) == 1


def test_make_cell_counts() -> None:
    cell = make_cell(("2025", "OSH", ""), "", [c(True, 10), c(False, 20), c(True, 30), c(True, 5)], T)
    assert (cell.assessed, cell.non_compliant, cell.workers_non_compliant, cell.status) == (
        4,
        3,
        45,
        "suppressed_dominance",
    )
