"""Made-up but realistic factories for the registry benchmarks: names as garment registries hold them.

Names combine a romanised brand (Khmer, Vietnamese, Bahasa, Chinese-investor style syllables), a trade
word and a legal form, so many share words and trigrams, as real lists do; addresses are plots, streets,
zones and provinces. `variant()` spells a factory the way another list would (case, legal form, word
order, abbreviations), which matching must link.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

SYLLABLES = [
    "an",
    "ang",
    "bao",
    "bin",
    "bun",
    "chan",
    "chea",
    "dara",
    "duc",
    "gia",
    "hai",
    "hang",
    "hoa",
    "hong",
    "hung",
    "jaya",
    "kim",
    "lan",
    "leng",
    "long",
    "mai",
    "makmur",
    "mekong",
    "mey",
    "minh",
    "nam",
    "ngoc",
    "nhat",
    "phat",
    "phnom",
    "pich",
    "rath",
    "rithy",
    "sakura",
    "samnang",
    "sari",
    "sinar",
    "sok",
    "sophal",
    "sreng",
    "sun",
    "tan",
    "tay",
    "thanh",
    "thien",
    "tien",
    "trung",
    "vanna",
    "viet",
    "vina",
    "wang",
    "wei",
    "xin",
    "yong",
    "zhong",
]
TRADE = ("Garment", "Apparel", "Textile", "Knitwear", "Fashion", "Footwear", "Sweater", "Denim", "Bags", "Industrial")
LEGAL = ("Co., Ltd.", "Co., Ltd", "Ltd", "PT", "JSC", "Company Limited", "(Cambodia) Co., Ltd.", "Garment Factory")
STREETS = ("National Road", "Street", "Road", "Highway", "Boulevard")
ZONES = ("Phnom Penh SEZ", "Manhattan SEZ", "Tai Seng SEZ", "Kandal Stung", "Dangkao", "Por Sen Chey", "Chbar Ampov")
PROVINCES = ("Phnom Penh", "Kandal", "Kampong Speu", "Svay Rieng", "Takeo", "Kampong Chhnang")


def _brand(rng: random.Random) -> str:
    """One or two words of two syllables each ("Sokmeng", "Thanh Viet" spelled "Thanhviet")."""
    words = rng.choice((1, 2, 2))
    return " ".join((rng.choice(SYLLABLES) + rng.choice(SYLLABLES)).capitalize() for _ in range(words))


def factories(count: int, seed: int = 7) -> Iterator[dict[str, Any]]:
    """`count` distinct factories (registration bodies without country)."""
    rng = random.Random(seed)
    seen: set[str] = set()
    while len(seen) < count:
        brand = _brand(rng)
        trade = rng.choice(TRADE)
        key = f"{brand} {trade}"
        if key in seen:
            key = f"{brand} {rng.choice(SYLLABLES).capitalize()} {trade}"
            if key in seen:
                continue
        seen.add(key)
        yield {
            "name": f"{key} {rng.choice(LEGAL)}",
            "address": (
                f"Plot {rng.randint(1, 999)}, {rng.choice(STREETS)} {rng.randint(1, 600)}, "
                f"{rng.choice(ZONES)}, {rng.choice(PROVINCES)}"
            ),
            "sector": "footwear" if trade == "Footwear" else "garment",
            "workers_total": rng.randint(80, 8000),
        }


_ABBREVIATIONS = (("Street", "St."), ("Road", "Rd"), ("National Road", "NR"), ("Boulevard", "Blvd"))


def variant(factory: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """The same factory as another list spells it."""
    name = factory["name"]
    for legal in sorted(LEGAL, key=len, reverse=True):
        if name.endswith(legal):
            name = name[: -len(legal)].strip()
            break
    style = rng.randrange(4)
    if style == 0:
        name = name.upper() + " CO LTD"
    elif style == 1:
        name = f"PT {name}"
    elif style == 2:
        name = name.lower() + " company limited"
    else:
        name = name + ", Ltd."
    address = factory["address"]
    for long, short in _ABBREVIATIONS:
        address = address.replace(long, short)
    return {**factory, "name": name, "address": address.replace(",", "")}
