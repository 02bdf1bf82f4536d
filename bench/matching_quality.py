"""Matching quality: the registry's factory matcher scored on the labelled pairs in tests/data/factory_pairs.csv.

Each row is two records of a factory (name, address) in one country and a label (same = 1 when they are the same
factory). The pair is scored with registry.domain.matching.score; a score >= the link threshold is an automatic
link, a score in [review, link) goes to a person (and counts as not linked), below review is a new factory.

Prints the pair count, precision and recall of automatic links (positives = pairs with same = 1; recall = true
links / positives; precision = true links / predicted links), how many positives and negatives land in the review
band, the confusion at both thresholds, and the scoring speed (pairs/s, normalisation caches cleared first).

Target: precision >= 0.95 and recall >= 0.90 of automatic links.
Usage: .venv/bin/python bench/matching_quality.py [--csv tests/data/factory_pairs.csv] [--link 85] [--review 70]
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

from registry.domain.matching import DEFAULT_THRESHOLDS, normalise_address, normalise_name, score

ROOT = Path(__file__).resolve().parent.parent
PRECISION_TARGET = 0.95
RECALL_TARGET = 0.90


def load(path: Path) -> list[tuple[str, str, str, str, str, bool]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return [
            (r["country"], r["name_a"], r["address_a"], r["name_b"], r["address_b"], r["same"] == "1")
            for r in csv.DictReader(fh)
        ]


def confusion(scored: list[tuple[float, bool]], threshold: float) -> tuple[int, int, int, int]:
    """(true positives, false positives, false negatives, true negatives) for "score >= threshold"."""
    tp = sum(1 for s, same in scored if same and s >= threshold)
    fp = sum(1 for s, same in scored if not same and s >= threshold)
    fn = sum(1 for s, same in scored if same and s < threshold)
    tn = sum(1 for s, same in scored if not same and s < threshold)
    return tp, fp, fn, tn


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=ROOT / "tests" / "data" / "factory_pairs.csv")
    parser.add_argument("--link", type=float, default=DEFAULT_THRESHOLDS.link)
    parser.add_argument("--review", type=float, default=DEFAULT_THRESHOLDS.review)
    parser.add_argument("--repeat", type=int, default=20, help="scoring passes for the timing")
    parser.add_argument("--show-errors", action="store_true", help="list misclassified pairs")
    args = parser.parse_args()

    rows = load(args.csv)
    positives = sum(1 for *_, same in rows if same)
    scored = [(score(na, aa, nb, ab), same) for _, na, aa, nb, ab, same in rows]

    tp, fp, _, _ = confusion(scored, args.link)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / positives if positives else 1.0
    band_pos = sum(1 for s, same in scored if same and args.review <= s < args.link)
    band_neg = sum(1 for s, same in scored if not same and args.review <= s < args.link)

    print(f"pairs: {len(rows)} (positives {positives}, negatives {len(rows) - positives})")
    print(f"thresholds: link >= {args.link:g}, review >= {args.review:g}")
    print(f"automatic links: precision {precision:.3f}, recall {recall:.3f}")
    print(f"review band [{args.review:g}, {args.link:g}): {band_pos} positives, {band_neg} negatives")
    for label, threshold in (("link", args.link), ("review", args.review)):
        c_tp, c_fp, c_fn, c_tn = confusion(scored, threshold)
        print(f"confusion at {label} ({threshold:g}): TP {c_tp}  FP {c_fp}  FN {c_fn}  TN {c_tn}")
    below_review_pos = sum(1 for s, same in scored if same and s < args.review)
    print(f"positives below review (would become duplicates): {below_review_pos}")

    if args.show_errors:
        for (country, na, aa, nb, ab, same), (s, _) in zip(rows, scored, strict=True):
            if same != (s >= args.link):
                print(f"  {'FN' if same else 'FP'} {s:6.2f} {country} {na!r} @ {aa!r} <-> {nb!r} @ {ab!r}")

    started = time.perf_counter()
    for _ in range(args.repeat):
        normalise_name.cache_clear()
        normalise_address.cache_clear()
        for _, na, aa, nb, ab, _same in rows:
            score(na, aa, nb, ab)
    elapsed = time.perf_counter() - started
    print(f"scoring speed: {args.repeat * len(rows) / elapsed:,.0f} pairs/s (cold normalisation caches)")

    passed = precision >= PRECISION_TARGET and recall >= RECALL_TARGET
    print(
        f"{'PASS' if passed else 'FAIL'}: precision {precision:.3f} (target >= {PRECISION_TARGET}), "
        f"recall {recall:.3f} (target >= {RECALL_TARGET})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
