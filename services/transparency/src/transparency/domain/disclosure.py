"""Disclosure control for aggregates and research microdata; the thresholds are data (`disclosure_thresholds/v1.json`).

- Threshold rule: a published cell covers at least `min_contributors` factories (assessed, and non-compliant
  when any are).
- Dominance (n, k) rule: a cell whose `dominance_n` largest factories hold more than `dominance_k` of the workers
  it reports is suppressed.
- Secondary suppression: in every row of cells that add up to a published total, one suppressed cell alone could
  be recomputed by subtraction, so the smallest other published cell of the row is suppressed too.
- Microdata: every combination of the quasi-identifiers occurs at least `k_anonymity` times; the province of a
  rarer combination is recoded to "(other)", and rows still too rare are left out.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources

OTHER = "(other)"


@dataclass(frozen=True)
class DisclosureThresholds:
    version: int
    min_contributors: int
    dominance_n: int
    dominance_k: float
    k_anonymity: int
    quasi_identifiers: tuple[str, ...]
    size_bands: tuple[tuple[int, int | None, str], ...]

    def size_band(self, workers: int | None) -> str:
        if workers is None:
            return "unknown"
        for low, high, label in self.size_bands:
            if workers >= low and (high is None or workers <= high):
                return label
        return "unknown"


@cache
def shipped_thresholds() -> DisclosureThresholds:
    doc = json.loads(
        resources.files("transparency.domain").joinpath("disclosure_thresholds/v1.json").read_text("utf-8")
    )
    return DisclosureThresholds(
        version=int(doc["version"]),
        min_contributors=int(doc["min_contributors"]),
        dominance_n=int(doc["dominance_n"]),
        dominance_k=float(doc["dominance_k"]),
        k_anonymity=int(doc["k_anonymity"]),
        quasi_identifiers=tuple(doc["quasi_identifiers"]),
        size_bands=tuple((int(lo), None if hi is None else int(hi), str(label)) for lo, hi, label in doc["size_bands"]),
    )


@dataclass(frozen=True)
class Contribution:
    """One factory in a cell: was it non-compliant, and how many workers it has."""

    non_compliant: bool
    workers: int


@dataclass(frozen=True)
class Cell:
    row: tuple[str, ...]  # the group whose cells add up to the row's total: (year, cluster)
    column: str  # the breakdown inside the row ("" is the row's total)
    assessed: int
    non_compliant: int
    workers_non_compliant: int
    status: str = "published"  # published, suppressed_threshold, suppressed_dominance, suppressed_secondary

    @property
    def published(self) -> bool:
        return self.status == "published"


def primary_status(contributions: Sequence[Contribution], t: DisclosureThresholds) -> str:
    non_compliant = [c for c in contributions if c.non_compliant]
    if len(contributions) < t.min_contributors or 0 < len(non_compliant) < t.min_contributors:
        return "suppressed_threshold"
    workers = sorted((c.workers for c in non_compliant), reverse=True)
    total = sum(workers)
    if total > 0 and sum(workers[: t.dominance_n]) > t.dominance_k * total:
        return "suppressed_dominance"
    return "published"


def make_cell(
    row: tuple[str, ...], column: str, contributions: Sequence[Contribution], t: DisclosureThresholds
) -> Cell:
    return Cell(
        row=row,
        column=column,
        assessed=len(contributions),
        non_compliant=sum(1 for c in contributions if c.non_compliant),
        workers_non_compliant=sum(c.workers for c in contributions if c.non_compliant),
        status=primary_status(contributions, t),
    )


def secondary_suppression(cells: Sequence[Cell]) -> list[Cell]:
    """Suppress more cells until no row has exactly one suppressed cell beside a published total."""
    rows: dict[tuple[str, ...], list[Cell]] = defaultdict(list)
    for cell in cells:
        rows[cell.row].append(cell)
    out: list[Cell] = []
    for row in rows.values():
        total = [c for c in row if c.column == ""]
        parts = [c for c in row if c.column != ""]
        while total and total[0].published and sum(1 for c in parts if not c.published) == 1:
            published = [c for c in parts if c.published]
            if not published:
                total = [replace(total[0], status="suppressed_secondary")]
                break
            smallest = min(published, key=lambda c: (c.non_compliant, c.assessed, c.column))
            parts = [replace(c, status="suppressed_secondary") if c is smallest else c for c in parts]
        out.extend(total + parts)
    return sorted(out, key=lambda c: (c.row, c.column))


def k_anonymous(rows: Sequence[dict[str, str]], t: DisclosureThresholds) -> list[dict[str, str]]:
    """Rows with their quasi-identifiers generalised (province to "(other)") or dropped until every combination
    occurs at least k times."""

    def key(r: dict[str, str]) -> tuple[str, ...]:
        return tuple(r[q] for q in t.quasi_identifiers)

    counts = Counter(key(r) for r in rows)
    recoded = [r if counts[key(r)] >= t.k_anonymity else {**r, "province": OTHER} for r in rows]
    counts = Counter(key(r) for r in recoded)
    return [r for r in recoded if counts[key(r)] >= t.k_anonymity]


def violations_in_microdata(rows: Sequence[dict[str, str]], t: DisclosureThresholds) -> list[str]:
    counts = Counter(tuple(r[q] for q in t.quasi_identifiers) for r in rows)
    return [f"{combo} occurs {n} times (k={t.k_anonymity})" for combo, n in counts.items() if n < t.k_anonymity]


def violations_in_cells(cells: Sequence[dict[str, str]], t: DisclosureThresholds) -> list[str]:
    """What a published aggregates file gives away, read from the file alone (threshold and secondary rules)."""
    problems: list[str] = []
    rows: dict[tuple[str, ...], list[dict[str, str]]] = defaultdict(list)
    for c in cells:
        rows[(c["year"], c["cluster"], c["question_code"])].append(c)
        if c["status"] != "published":
            if c["factories_assessed"] or c["factories_non_compliant"] or c["workers_in_non_compliant_factories"]:
                problems.append(f"suppressed cell {c} still shows a value")
            continue
        assessed, non_compliant = int(c["factories_assessed"]), int(c["factories_non_compliant"])
        if assessed < t.min_contributors or 0 < non_compliant < t.min_contributors:
            problems.append(f"cell {c} covers too few factories")
    for row, members in rows.items():
        total = [c for c in members if c["province"] == ""]
        suppressed = [c for c in members if c["province"] != "" and c["status"] != "published"]
        if total and total[0]["status"] == "published" and len(suppressed) == 1:
            problems.append(f"row {row} has one suppressed cell beside a published total")
    return problems
