"""A seeded generator of factory lists the way real lists vary, labelled for measuring the matcher.

`build(vocabulary, seed)` returns an `EvaluationSet`:

* `registered`: distinct factories as the registry holds them (name, address, country, sometimes a name in the
  local script). Families are deliberate: one brand runs several product lines or numbered units at one site, or
  the same line at two sites, so siblings sit side by side in the registry as they do in real ones.
* `submissions`: what a country office uploads. Variants of registered factories, labelled with the factory they
  are and the kind of variation; hard negatives (a sibling unit or product line at the same site, a look-alike
  name, another company at the same address, the same company at another site, at another street and zone of the
  same district, or in another country), labelled None; and unrelated factories.

Every kind of variation a real list shows is a named transformation below; a variant carries one primary kind
(what the report breaks down by) and, half of the time, a light second one (legal form or capitals), since real
rows rarely differ in one way only.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from matching_sets.vocabulary import PRODUCT_LINES, CountryVocabulary, Vocabulary

REGISTERED = 3000
VARIANTS = 1950
NEGATIVES_PER_KIND = 100
UNRELATED = 450

VARIATION_KINDS = (
    "legal_form",
    "word_order",
    "diacritics",
    "romanisation",
    "local_language",
    "script",
    "parent_group",
    "country_bracket",
    "joined_syllables",
    "address_abbreviated",
    "address_glossed",
    "address_province_only",
    "place_spelling",
    "typo_1",
    "typo_2",
    "all_caps",
)
NEGATIVE_KINDS = (
    "sibling_unit",
    "sibling_line",
    "lookalike_name",
    "same_address",
    "other_site",
    "nearby_site",
    "other_country",
)


@dataclass(frozen=True)
class Word:
    """A brand word: its syllables (romanised), and its local spelling when the country has a script."""

    syllables: tuple[str, ...]
    local: str = ""
    spaced: bool = False  # Vietnamese writes every syllable apart ("Duc Thanh")

    @property
    def roman(self) -> str:
        if self.spaced:
            return " ".join(s.capitalize() for s in self.syllables)
        return "".join(self.syllables).capitalize()


@dataclass(frozen=True)
class Site:
    number: str
    street: str
    zone: str
    district: tuple[str, ...]  # spellings, the first the usual one
    province: tuple[str, ...]


@dataclass(frozen=True)
class Entity:
    """A real factory."""

    key: str
    country: CountryVocabulary
    brand: tuple[Word, ...]
    line: str | None
    unit: int | None
    legal: str
    site: Site
    group: str
    local_name_registered: bool = False
    diacritics: bool = False  # Vietnamese registered with its accents


@dataclass(frozen=True)
class Record:
    """A factory as one list writes it."""

    name: str
    address: str
    country: str
    local_name: str | None = None


@dataclass(frozen=True)
class Submission:
    record: Record
    truth: str | None  # the registered factory's key, None when it is not registered
    kind: str  # a variation kind, a negative kind, or "unrelated"


@dataclass
class EvaluationSet:
    name: str
    registered: list[tuple[str, Record]] = field(default_factory=list)
    submissions: list[Submission] = field(default_factory=list)


# --- rendering -----------------------------------------------------------------------------------------------------


def _brand_text(entity: Entity, *, diacritics: bool | None = None) -> str:
    use_local = entity.diacritics if diacritics is None else diacritics
    if entity.country.code == "VN" and use_local:
        return " ".join(w.local or w.roman for w in entity.brand)
    return " ".join(w.roman for w in entity.brand)


def _unit_text(unit: int) -> str:
    return f"Factory {unit}" if unit % 2 else f"Unit {unit}"


def name_of(entity: Entity, *, legal: str | None = None, brand: str | None = None) -> str:
    parts = [brand if brand is not None else _brand_text(entity)]
    legal = entity.legal if legal is None else legal
    parts.append(entity.line or ("" if "Garment" in legal else "Garment"))
    if entity.unit is not None:
        parts.append(_unit_text(entity.unit))
    parts.append(legal)
    return " ".join(p for p in parts if p)


def local_name_of(entity: Entity) -> str | None:
    """The name in the country's script (Khmer, Arabic, Bengali) or with Vietnamese accents; None if it has none."""
    if not all(w.local for w in entity.brand) or entity.country.code in ("ID", "MM", "LK"):
        return None
    brand = " ".join(w.local for w in entity.brand)
    if entity.country.code == "VN":
        unit = f" {entity.unit}" if entity.unit is not None else ""
        line = {"Knit": "Dệt Kim", "Textile": "Dệt", "Fashion": "Thời Trang"}.get(entity.line or "", entity.line or "")
        return f"Công ty TNHH May {brand} {line}{unit}".replace("  ", " ").strip()
    unit = f" {entity.unit}" if entity.unit is not None else ""
    line = f" {entity.line}" if entity.line else ""
    return f"{entity.country.local_prefix} {brand}{line}{unit}".strip()


def address_of(
    site: Site, country: CountryVocabulary, *, district: str | None = None, province: str | None = None
) -> str:
    district_text = f"{country.district_prefix} {district or site.district[0]}"
    parts = [site.number, site.street, site.zone, district_text, province or site.province[0]]
    return ", ".join(p for p in parts if p)


def record_of(entity: Entity) -> Record:
    """The factory as the registry holds it."""
    return Record(
        name=name_of(entity),
        address=address_of(entity.site, entity.country),
        country=entity.country.code,
        local_name=local_name_of(entity) if entity.local_name_registered else None,
    )


# --- building blocks -----------------------------------------------------------------------------------------------


def _word(rng: random.Random, country: CountryVocabulary, vocabulary: Vocabulary) -> Word:
    if country.words and rng.random() < 0.7:
        roman, local = rng.choice(country.words)
        if " " in roman:
            return Word(tuple(roman.lower().split()), local, spaced=True)
        if rng.random() < 0.35:  # two words of the vocabulary written as one ("Sokdara")
            roman2, local2 = rng.choice(country.words)
            if roman2 != roman:
                return Word((roman.lower(), roman2.lower()), local + local2 if local and local2 else "")
        return Word(tuple(roman.lower().split()), local)
    return Word((rng.choice(vocabulary.filler), rng.choice(vocabulary.filler)))


def _brand(rng: random.Random, country: CountryVocabulary, vocabulary: Vocabulary) -> tuple[Word, ...]:
    return tuple(_word(rng, country, vocabulary) for _ in range(rng.choice((1, 1, 2, 2, 2, 3))))


def _site(rng: random.Random, country: CountryVocabulary) -> Site:
    number = rng.choice(("No. {n}", "Plot {n}", "Lot {l}{n}", "{n}")).format(
        n=rng.randint(1, 400), l=rng.choice("ABCDEF")
    )
    return Site(
        number=number,
        street=rng.choice(country.streets).format(n=rng.randint(1, 120)),
        zone=rng.choice(country.zones) if rng.random() < 0.6 else "",
        district=rng.choice(country.districts),
        province=rng.choice(country.provinces),
    )


# --- variations ----------------------------------------------------------------------------------------------------

_ROMANISATIONS: tuple[tuple[str, str], ...] = (
    (r"ou", "o"),
    (r"(?<=[^aeiou])o(?=[^aeiou]|$)", "ou"),
    (r"ey\b", "ei"),
    (r"ei\b", "ey"),
    (r"ee", "i"),
    (r"(?<=[^aeiou])i(?=[^aeiou]|$)", "ee"),
    (r"ph", "f"),
    (r"kh", "k"),
    (r"(?<=[aeiou])k(?=[aeiou])", "kh"),
    (r"q", "k"),
    (r"ss", "s"),
    (r"(?<=[aeiou])s(?=[aeiou])", "ss"),
    (r"(?<=[aeiou])r(?=[^aeiou])", ""),
    (r"a(?=[^aeiou]+$)", "e"),
    (r"(?<=[^aeiou])a\b", "ah"),
    (r"th", "t"),
    (r"u", "oo"),
)


def romanised_otherwise(text: str, rng: random.Random) -> str:
    """Another romanisation of a word: vowels and aspirates spelled otherwise ("Posenchey" / "Por Senchey")."""
    lower = text.lower()
    options = [(p, r) for p, r in _ROMANISATIONS if re.search(p, lower)]
    if not options:
        return text
    pattern, repl = rng.choice(options)
    return re.sub(pattern, repl, lower, count=1).capitalize()


_KEYBOARD = {
    "a": "sqz",
    "b": "vn",
    "c": "xv",
    "d": "sf",
    "e": "wr",
    "f": "dg",
    "g": "fh",
    "h": "gj",
    "i": "uo",
    "j": "hk",
    "k": "jl",
    "l": "k",
    "m": "n",
    "n": "bm",
    "o": "ip",
    "p": "o",
    "q": "w",
    "r": "et",
    "s": "ad",
    "t": "ry",
    "u": "yi",
    "v": "cb",
    "w": "qe",
    "x": "zc",
    "y": "tu",
    "z": "x",
}


def typo(text: str, rng: random.Random) -> str:
    """One slip of the keyboard in a letter: another key, a letter dropped, doubled or swapped with the next."""
    positions = [i for i, ch in enumerate(text) if ch.isalpha() and ch.lower() in _KEYBOARD]
    if not positions:
        return text
    i = rng.choice(positions)
    ch = text[i]
    kind = rng.randrange(4)
    if kind == 0:
        new = rng.choice(_KEYBOARD[ch.lower()])
        return text[:i] + (new.upper() if ch.isupper() else new) + text[i + 1 :]
    if kind == 1 and len(text) > 4:
        return text[:i] + text[i + 1 :]
    if kind == 2:
        return text[:i] + ch + text[i:]
    if i + 1 < len(text) and text[i + 1].isalpha():
        return text[:i] + text[i + 1] + ch + text[i + 2 :]
    return text[:i] + ch + text[i:]


_ABBREVIATIONS = (
    ("National Road", "NR"),
    ("Street", "St."),
    ("Road", "Rd"),
    ("Boulevard", "Blvd"),
    ("Industrial Zone", "IZ"),
    ("Industrial Estate", "Ind. Est."),
    ("Industrial Park", "Ind. Park"),
    ("Highway", "Hwy"),
    ("Jalan", "Jl."),
    ("Plot ", "P-"),
    ("No. ", "#"),
)


def _light(record: Record, entity: Entity, rng: random.Random) -> Record:
    """A second, light difference: another legal form, capitals, or punctuation dropped from the address."""
    choice = rng.randrange(3)
    if choice == 0:
        return replace(record, name=_swap_legal(record.name, entity, rng))
    if choice == 1:
        return replace(record, name=record.name.upper())
    return replace(record, address=record.address.replace(",", ""))


def _swap_legal(name: str, entity: Entity, rng: random.Random) -> str:
    others = [f for f in (*entity.country.legal_forms, "Co., Ltd", "Company Limited", "Ltd") if f != entity.legal]
    if name.endswith(entity.legal):
        return name[: -len(entity.legal)].rstrip() + " " + rng.choice(others)
    return name


def vary(entity: Entity, kind: str, rng: random.Random, vocabulary: Vocabulary) -> Record | None:
    """The registered factory as another list writes it, changed in the way `kind` names; None if `kind` does not
    apply to it (no script, a one-word name, ...)."""
    base = record_of(entity)
    country = entity.country
    address = address_of(entity.site, country)
    if kind == "legal_form":
        return replace(base, name=_swap_legal(base.name, entity, rng))
    if kind == "word_order":
        if len(entity.brand) >= 2:
            brand = " ".join(w.roman for w in reversed(entity.brand))
            return replace(base, name=name_of(entity, brand=brand))
        if entity.line:
            unit = f" {_unit_text(entity.unit)}" if entity.unit is not None else ""
            return replace(base, name=f"{entity.line} {_brand_text(entity)}{unit} {entity.legal}")
        return None
    if kind == "diacritics":
        if country.code != "VN":
            return None
        return replace(base, name=name_of(entity, brand=_brand_text(entity, diacritics=not entity.diacritics)))
    if kind == "romanisation":
        if not any(w.local for w in entity.brand) or country.code == "VN":
            return None
        words = [w.roman for w in entity.brand]
        i = rng.randrange(len(words))
        changed = romanised_otherwise(words[i], rng)
        if changed == words[i]:
            return None
        words[i] = changed
        if rng.random() < 0.3 and len(entity.brand[i].syllables) == 2:  # "Por Senchey" / "Posenchey"
            words[i] = changed[: len(entity.brand[i].syllables[0])] + " " + changed[len(entity.brand[i].syllables[0]) :]
        return replace(base, name=name_of(entity, brand=" ".join(words)))
    if kind == "local_language":
        if country.code == "VN":
            brand = _brand_text(entity, diacritics=rng.random() < 0.5)
            line = {"Knit": "Det Kim", "Textile": "Det", "Fashion": "Thoi Trang"}.get(entity.line or "", entity.line)
            unit = f" {entity.unit}" if entity.unit is not None else ""
            return replace(base, name=f"Cong ty TNHH May {brand} {line or ''}{unit}".replace("  ", " ").strip())
        if country.code == "ID":
            unit = f" {_unit_text(entity.unit)}" if entity.unit is not None else ""
            return replace(base, name=f"PT {_brand_text(entity)} {entity.line or ''}{unit}".replace("  ", " ").strip())
        return None
    if kind == "script":
        local = local_name_of(entity)
        if local is None or country.code == "VN":
            return None
        if rng.random() < 0.5:  # without the local legal form
            local = local.removeprefix(country.local_prefix).strip()
        return Record(local, address, country.code)
    if kind == "parent_group":
        return replace(
            base, name=rng.choice(("{g} Group - {n}", "{g} {n}", "{n} ({g} Group)")).format(g=entity.group, n=base.name)
        )
    if kind == "country_bracket":
        bracket = f"({country.name})"
        if bracket in base.name:
            return replace(base, name=" ".join(base.name.replace(bracket, "").split()))
        return replace(base, name=name_of(entity, legal=f"{bracket} {entity.legal}"))
    if kind == "joined_syllables":
        multi = [i for i, w in enumerate(entity.brand) if len(w.syllables) >= 2]
        if multi:  # "Jinda" -> "Jin Da"
            i = rng.choice(multi)
            words = [w.roman for w in entity.brand]
            word = entity.brand[i]  # "Jinda" -> "Jin Da"; Vietnamese "Duc Thanh" -> "Ducthanh"
            words[i] = (
                "".join(word.syllables).capitalize()
                if word.spaced
                else " ".join(s.capitalize() for s in word.syllables)
            )
            return replace(base, name=name_of(entity, brand=" ".join(words)))
        if len(entity.brand) >= 2:  # "Rithy Sokha" -> "Rithysokha"
            words = [w.roman for w in entity.brand]
            return replace(base, name=name_of(entity, brand=(words[0] + words[1].lower() + " " + " ".join(words[2:]))))
        return None
    if kind == "address_abbreviated":
        changed = address
        for long, short in _ABBREVIATIONS:
            changed = changed.replace(long, short)
        changed = changed.replace(f"{country.district_prefix} ", "")
        return replace(base, address=changed) if changed != address else None
    if kind == "address_glossed":
        glossed = address.replace(
            f"{country.district_prefix} {entity.site.district[0]}", f"{entity.site.district[0]} District"
        )
        return replace(base, address=glossed)
    if kind == "address_province_only":
        return replace(
            base, address=rng.choice((entity.site.province[0], f"{entity.site.province[0]}, {country.name}"))
        )
    if kind == "place_spelling":
        options = []
        if len(entity.site.province) > 1:
            options.append(address_of(entity.site, country, province=rng.choice(entity.site.province[1:])))
        if len(entity.site.district) > 1:
            options.append(address_of(entity.site, country, district=rng.choice(entity.site.district[1:])))
        return replace(base, address=rng.choice(options)) if options else None
    if kind in ("typo_1", "typo_2"):
        brand = _brand_text(entity)
        for _ in range(1 if kind == "typo_1" else 2):
            brand = typo(brand, rng)
        return replace(base, name=name_of(entity, brand=brand))
    if kind == "all_caps":
        return replace(base, name=base.name.upper(), address=address.upper())
    raise ValueError(kind)


# --- the set -------------------------------------------------------------------------------------------------------


class _Builder:
    def __init__(self, vocabulary: Vocabulary, seed: int) -> None:
        self.vocabulary = vocabulary
        self.rng = random.Random(seed)
        self.names: set[tuple[str, str]] = set()
        self.count = 0

    def entity(
        self,
        country: CountryVocabulary,
        *,
        brand: tuple[Word, ...] | None = None,
        line: str | None = None,
        unit: int | None = None,
        site: Site | None = None,
        keep_line: bool = False,
    ) -> Entity | None:
        rng = self.rng
        brand = brand or _brand(rng, country, self.vocabulary)
        if not keep_line and line is None and rng.random() < 0.7:
            line = rng.choice(PRODUCT_LINES)
        key = (country.code, " ".join(w.roman for w in brand).lower() + f" {line} {unit}")
        if key in self.names:
            return None
        self.names.add(key)
        self.count += 1
        return Entity(
            key=f"{country.code}-{self.count}",
            country=country,
            brand=brand,
            line=line,
            unit=unit,
            legal=rng.choice(country.legal_forms),
            site=site or _site(rng, country),
            group=rng.choice(self.vocabulary.groups),
            local_name_registered=rng.random() < 0.5,
            diacritics=country.code == "VN" and rng.random() < 0.5,
        )

    def family(self, country: CountryVocabulary) -> list[Entity]:
        """One brand: a single factory, or units / product lines at one site, or the same line at two sites."""
        first = self.entity(country)
        if first is None:
            return []
        shape = self.rng.random()
        members = [first]
        if shape < 0.15:  # numbered units at one site
            first = replace(first, unit=1)
            members = [first]
            for unit in range(2, self.rng.choice((3, 4)) + 1):
                sibling = self.entity(
                    country, brand=first.brand, line=first.line, unit=unit, site=first.site, keep_line=True
                )
                if sibling:
                    members.append(replace(sibling, legal=first.legal))
        elif shape < 0.3:  # product lines at one site
            for line in self.rng.sample([p for p in PRODUCT_LINES if p != first.line], self.rng.choice((1, 2))):
                sibling = self.entity(country, brand=first.brand, line=line, site=first.site)
                if sibling:
                    members.append(replace(sibling, legal=first.legal))
        elif shape < 0.38:  # the same line at another site
            sibling = self.entity(country, brand=first.brand, line=first.line, unit=1, keep_line=True)
            if sibling:
                members = [first, replace(sibling, legal=first.legal)]
        return members


def build(
    vocabulary: Vocabulary,
    seed: int,
    *,
    registered_count: int = REGISTERED,
    variants: int = VARIANTS,
    negatives_per_kind: int = NEGATIVES_PER_KIND,
    unrelated: int = UNRELATED,
) -> EvaluationSet:
    b = _Builder(vocabulary, seed)
    rng = b.rng
    countries = vocabulary.countries
    registered: list[Entity] = []
    while len(registered) < registered_count:
        registered.extend(b.family(rng.choice(countries)))
    registered = registered[:registered_count]
    out = EvaluationSet(vocabulary.name, registered=[(e.key, record_of(e)) for e in registered])
    by_key = {e.key: e for e in registered}

    def light(record: Record, entity: Entity) -> Record:
        return _light(record, entity, rng) if rng.random() < 0.5 else record

    # variants of registered factories, kinds in turn so that each is well represented
    made = 0
    while made < variants:
        kind = VARIATION_KINDS[made % len(VARIATION_KINDS)]
        for _ in range(50):
            entity = rng.choice(registered)
            record = vary(entity, kind, rng, vocabulary)
            if record is not None:
                if kind not in ("all_caps", "script"):
                    record = light(record, entity)
                out.submissions.append(Submission(record, entity.key, kind))
                break
        made += 1

    # hard negatives: factories that are not registered but look like one that is
    makers: dict[str, Callable[[Entity], Entity | None]] = {
        "sibling_unit": lambda e: b.entity(
            e.country, brand=e.brand, line=e.line, unit=e.unit + 4 if e.unit else 2, site=e.site, keep_line=True
        ),
        "sibling_line": lambda e: b.entity(
            e.country, brand=e.brand, line=rng.choice([p for p in PRODUCT_LINES if p != e.line]), site=e.site
        ),
        "lookalike_name": lambda e: b.entity(
            e.country,
            brand=_lookalike(e.brand, rng, e.country, vocabulary),
            line=e.line,
            keep_line=True,
            site=replace(_site(rng, e.country), province=e.site.province),
        ),
        "same_address": lambda e: b.entity(e.country, site=e.site),
        "other_site": lambda e: b.entity(
            e.country,
            brand=e.brand,
            line=e.line,
            unit=(e.unit or 0) + 20,
            keep_line=True,
            site=_other_site(e, rng),
        ),
        "other_country": lambda e: b.entity(
            rng.choice([c for c in countries if c.code != e.country.code]),
            brand=e.brand,
            line=e.line,
            keep_line=True,
        ),
    }
    for kind in makers:  # every negative kind but nearby_site, made below
        made = 0
        while made < negatives_per_kind:
            anchor = rng.choice(registered)
            negative = makers[kind](anchor)
            if negative is None:
                continue
            if kind in ("sibling_unit", "sibling_line"):
                negative = replace(
                    negative, legal=anchor.legal, unit=negative.unit if kind == "sibling_unit" else anchor.unit
                )
            if kind == "other_site":
                negative = replace(negative, unit=anchor.unit, legal=anchor.legal)
            record = record_of(replace(negative, local_name_registered=False))
            if kind == "other_country":
                record = replace(record, name=record_of(anchor).name)
            out.submissions.append(Submission(light(record, negative), None, kind))
            made += 1

    # unrelated factories
    made = 0
    while made < unrelated:
        stranger = b.entity(rng.choice(countries))
        if stranger is not None:
            out.submissions.append(Submission(light(record_of(stranger), stranger), None, "unrelated"))
            made += 1
    assert all(s.truth is None or s.truth in by_key for s in out.submissions)
    rng.shuffle(out.submissions)
    # Added after the rest (session of 2026-12-07), from a stream of its own so that every submission above stays
    # what it was: the same company at another site of the same district and province.
    nearby = random.Random(f"{seed}-nearby_site")
    made = 0
    while made < negatives_per_kind:
        anchor = nearby.choice(registered)
        site = _nearby_site(anchor, nearby)
        if site is None:
            continue
        record = record_of(replace(anchor, site=site, local_name_registered=False))
        if nearby.random() < 0.5:
            record = _light(record, anchor, nearby)
        out.submissions.append(Submission(record, None, "nearby_site"))
        made += 1
    return out


def _lookalike(
    brand: tuple[Word, ...], rng: random.Random, country: CountryVocabulary, vocabulary: Vocabulary
) -> tuple[Word, ...]:
    """Another brand sharing words or syllables with `brand` ("Sokdara" / "Sokpich", "Thanh Cong" / "Thanh Dat")."""
    words = list(brand)
    i = rng.randrange(len(words))
    replacement = _word(rng, country, vocabulary)
    if len(words[i].syllables) >= 2 and rng.random() < 0.5:
        replacement = Word((words[i].syllables[0], replacement.syllables[-1]))
    if replacement.roman == words[i].roman:
        replacement = Word((*replacement.syllables, rng.choice(vocabulary.filler)))
    words[i] = replacement
    return tuple(words)


def _other_site(entity: Entity, rng: random.Random) -> Site:
    site = _site(rng, entity.country)
    provinces = [p for p in entity.country.provinces if p != entity.site.province]
    districts = [d for d in entity.country.districts if d != entity.site.district]
    return replace(site, province=rng.choice(provinces), district=rng.choice(districts))


def _nearby_site(entity: Entity, rng: random.Random) -> Site | None:
    """Another site of the same district and province: another street and zone, and a plot number that does not
    tell the two apart (the same number, or none), so that only the street and zone do. None if the country's
    vocabulary has no other street to offer."""
    site = entity.site
    streets = [s for s in entity.country.streets if s.format(n=0) != site.street.format(n=0)]
    if not streets:
        return None
    street = rng.choice(streets).format(n=rng.randint(1, 120))
    zones = [z for z in entity.country.zones if z != site.zone]
    return replace(
        site,
        number=site.number if rng.random() < 0.5 else "",
        street=street,
        zone=rng.choice(zones) if rng.random() < 0.7 else "",
    )


DEV_SEED = 20261206
TEST_SEED = 7919


def development_set() -> EvaluationSet:
    from matching_sets.vocabulary import DEV

    return build(DEV, DEV_SEED)


def held_out_set() -> EvaluationSet:
    from matching_sets.vocabulary import TEST

    return build(TEST, TEST_SEED)
