"""Matching a submitted factory (name, address, country) against the factories the registry already holds.

Pure rules, no I/O, modelled on Open Supply Hub's dedupe pipeline. Measured on generated lists none of the rules
were written against (bench/matching_quality.py: a development set to tune on, a held-out set with other names and
places to report).

1. Normalise (`registry.domain.normalise`): accents dropped, other scripts transliterated, lower case, legal forms
   and generic trade words dropped from names, address abbreviations and romanisation variants mapped to one
   spelling.
2. Identity: a name is split into its brand words, its product lines (knit, denim, sweater, ...) and its unit
   numbers; a parent group ("Crystal Group - X", "X (Crystal Group)") is set aside. Two names whose unit numbers
   or product lines differ are two factories (siblings), and so are two addresses whose numbers contradict, that
   name different streets, that share too little, or that differ and end in different places (provinces; "Bago" /
   "Pegu" at an otherwise equal address is one site): such a pair scores at most CONFLICT_CEILING (60), below the
   default review threshold. Streets, zones and localities are read from the address as written, one per part
   between commas (`normalise.address_parts`, kept in the profile): "Street 41" and "Queen Rania Street" are two
   streets; "Dhaka EPZ" and "Karnaphuli EPZ" are two zones, and a zone goes by several names, so there the address
   scores at most SITE_UNSURE_SCORE and the same name goes to a person, as it does when one list gives the street
   and the other the zone.
3. Exact match: cleaned name (or one of the candidate's aliases) and cleaned address equal, same country:
   LINK with score 100.
4. Fuzzy score (rapidfuzz), only against candidates of the same country: 0.7 * name + 0.3 * address. The name is
   the best of token-sort and joined-up ratios over the candidate's names; a name that is the other with words in
   front (a parent group) scores 92; a name in another script is also compared by consonants (`phonetic`),
   since transliteration loses vowels. The address: a part of the other (only the province) scores 85; missing on
   either side 40, so an identical name alone never links. At or above ``Thresholds.link``: LINK; at or above
   ``Thresholds.review``: REVIEW by a person; below: NEW factory. Two or more candidates at or above the link
   threshold are ambiguous (a sign of duplicates in the registry, as Open Supply Hub notes) and go to REVIEW.
5. `MatchResult.explanation()` says why: both similarities, the name compared, the fields that agreed and those
   that differed (`agreement`, worked out for the best candidate only), and notes on what differed.

What steps 1 and 2 make of a registered factory is its `Profile`, stored with the factory when it is written and
handed back with each candidate, so a submission cleans only its own name and address (issue 13: registration
speed).

Judgement calls, documented here because they change outcomes:

* Dropped from names as generic: legal forms (co, ltd, company, pt, tbk, jsc, llc, plc, pvt, sa, sae, sdn bhd,
  tnhh, cong ty, co phan, mot thanh vien, Khmer ក្រុមហ៊ុន, Arabic شركة / مصنع ...); a country in brackets ("X
  (Cambodia) Co., Ltd"; unbracketed, as in "Mulia Garmen Indonesia", it is part of the brand and kept); the words
  garment(s)/garmen, factory, unit, plant (these introduce the unit number), manufacturing, mfg, industrial,
  industries, mill(s) and the Vietnamese may mac, nha may, san xuat; the Arabic article al/el. Vietnamese trade
  words are translated (det -> textile, thoi trang -> fashion, det kim -> knit, tui xach -> bags). Roman numerals
  ii..ix become digits ("Factory II" = "Factory 2").
* Product lines are identity: "X Knit" / "X Denim", and also "X Garment" / "X Denim" (a line on one side only),
  are siblings. A group often runs "X Apparel" and "X Textile" as separate legal entities.
* A name without a unit number is the first unit: "X Knit" links to "X Knit Factory 1", never to "Factory 2".

Default thresholds: link >= 85, review >= 70. Per-country values: pass a mapping {"KH": Thresholds(...), "*":
default} to ``match``.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from rapidfuzz import fuzz

from registry.domain.normalise import (
    STREET_WORDS,
    AddressParts,
    NameParts,
    Place,
    address_parts,
    blocking_keys,
    name_parts,
    normalise_address,
    normalise_name,
    numbers_of,
    phonetic_name,
    search_keys,
)

# What the rest of the registry reads from here: folding and search keys live in `normalise`.
__all__ = [
    "ADDRESS_WEIGHT",
    "DEFAULT_THRESHOLDS",
    "EXACT_KEYS",
    "GLOBAL_KEYS",
    "NAME_WEIGHT",
    "PROFILE_VERSION",
    "Candidate",
    "Comparison",
    "Decision",
    "MatchResult",
    "Profile",
    "Thresholds",
    "blocking_keys",
    "compare",
    "match",
    "normalise_address",
    "normalise_name",
    "profile",
    "score",
    "search_keys",
    "thresholds_for",
]

NAME_WEIGHT = 0.7
ADDRESS_WEIGHT = 0.3
MISSING_ADDRESS_SCORE = 40.0  # 0.7 * 100 + 0.3 * 40 = 82: a name alone never links at the defaults
NAME_NUMBER_ONE_SIDED_PENALTY = 8.0  # only one name numbers its unit 1, or product lines only partly agree
ADDRESS_NUMBER_CONFLICT_FACTOR = 0.4  # both addresses carry numbers and neither set contains the other

# Letters NFKD does not decompose into ASCII + combining marks.
# A name or address that contradicts the candidate's caps the score here, below the default review threshold: a
# sibling is a new factory, not a question for a person.
CONFLICT_CEILING = 60.0
PARENT_GROUP_SCORE = 92.0  # one name is the other with words in front ("Crystal Sokha Knit" / "Sokha Knit")
ADDRESS_CONFLICT_BELOW = 55.0  # two specific addresses this far apart are two sites
PLACE_SPELLED_ALIKE = 80.0  # two spellings of one place word ("mafraq" / "mafrak")
# Two addresses ending in different places (provinces, cities) that also differ this much before that are two sites;
# agreeing on everything else they are one site whose province is written in another language ("Bago" / "Pegu").
OTHER_PLACE_BELOW = 80.0
SITE_UNSURE_SCORE = 45.0  # 0.7 * 100 + 0.3 * 45 = 83.5: a name alike at a site told apart otherwise is reviewed
PARTIAL_ADDRESS_SCORE = 85.0  # one address is a part of the other (province only), numbers not contradicting


@dataclass(frozen=True)
class Comparison:
    """How a submission compares with one candidate: the parts a reviewer needs to see why it scored as it did."""

    score: float
    name: float
    address: float
    name_compared: str  # the candidate's name (or alias) that compared best, normalised
    notes: tuple[str, ...] = ()  # what agreed or differed beyond the two similarities
    conflict: bool = False


def _brand_similarity(a: NameParts, b: NameParts) -> tuple[float, str | None]:
    if not a.brand or not b.brand:
        return 0.0, None
    sort = fuzz.token_sort_ratio(a.brand, b.brand)
    compact = fuzz.ratio(a.compact, b.compact)
    best, note = max(sort, compact), None
    short, long = sorted((a.brand.split(), b.brand.split()), key=len)
    if len(short) < len(long) and long[len(long) - len(short) :] == short and best < PARENT_GROUP_SCORE:
        best, note = PARENT_GROUP_SCORE, "words in front of the name set aside (a parent group?)"
    if a.script != b.script or (a.script and b.script):
        sounds = fuzz.ratio(phonetic_name(a.brand).replace(" ", ""), phonetic_name(b.brand).replace(" ", ""))
        if sounds > best:
            best, note = sounds, "names in different scripts compared by their consonants"
    return best, note


def compare_names(a: NameParts, b: NameParts) -> tuple[float, tuple[str, ...], bool]:
    """0..100 for two names, notes, and whether they contradict (other unit number, other product line)."""
    value, note = _brand_similarity(a, b)
    notes = [note] if note else []
    conflict = False
    if a.numbers != b.numbers:
        if (a.numbers or {"1"}) != (b.numbers or {"1"}):  # a name without a number is the first unit
            conflict = True
            notes.append(f"unit numbers differ: {_listed(a.numbers)} / {_listed(b.numbers)}")
        else:
            value = max(0.0, value - NAME_NUMBER_ONE_SIDED_PENALTY)
            notes.append("only one name numbers its unit 1")
    if a.lines != b.lines:
        if not (a.lines & b.lines):  # "X Knit" / "X Denim", and "X Garment" / "X Denim": siblings
            conflict = True
            notes.append(f"product lines differ: {_listed(a.lines)} / {_listed(b.lines)}")
        else:
            value = max(0.0, value - NAME_NUMBER_ONE_SIDED_PENALTY)
            notes.append("product lines only partly agree")
    return value, tuple(notes), conflict


def _listed(words: frozenset[str]) -> str:
    return " ".join(sorted(words)) or "none"


def _contained(shorter: str, longer: str) -> bool:
    """Every word of the shorter address is in the longer one, spelled alike (ratio >= 85): "Phnom Penh" in
    "Plot 5, Street 3, Khan Dangkao, Phnom Penh"."""
    words = longer.split()
    return all(any(fuzz.ratio(w, other) >= 85 for other in words) for w in shorter.split())


def _ends_within(a: str, b: str) -> bool:
    """The last word of address `a` (its province or city, as addresses are written) is a word of `b`, spelled
    alike (ratio >= PLACE_SPELLED_ALIKE)."""
    last = a.rsplit(" ", 1)[-1]
    return last.isdigit() or any(fuzz.ratio(last, word) >= PLACE_SPELLED_ALIKE for word in b.split())


def same_place(a: Place, b: Place) -> bool:
    """Whether two streets (or two zones) can be one: their numbers must not contradict and their names must be
    spelled alike (PLACE_SPELLED_ALIKE), each compared when both sides have it; a street known only by a number and
    one known only by a name are two streets."""
    numbered, named = bool(a.numbers and b.numbers), bool(a.words and b.words)
    if numbered and not (a.numbers <= b.numbers or b.numbers <= a.numbers):
        return False
    if named:
        joined = fuzz.ratio(a.words.replace(" ", ""), b.words.replace(" ", ""))  # "Shwe Lin Ban" / "Shwelinban"
        alike = max(fuzz.token_sort_ratio(a.words, b.words), fuzz.token_set_ratio(a.words, b.words), joined)
        return alike >= PLACE_SPELLED_ALIKE
    return numbered


NO_PARTS = AddressParts()


def compare_addresses(
    a: str, b: str, parts_a: AddressParts = NO_PARTS, parts_b: AddressParts = NO_PARTS
) -> tuple[float, tuple[str, ...], bool]:
    """0..100 for two normalised addresses, notes, and whether they are two different sites.

    Compared by component: the numbers (plot, street, lot) must not contradict; when both name a street
    (`address_parts`), one street must be the same, or they are two sites; when both name a zone and no zone is
    the same, or one gives a street and the other a zone, the address scores at most SITE_UNSURE_SCORE (a person
    decides); one address that is a part of the other (only the province, or the street without the zone) agrees
    as far as it goes.
    """
    if not a or not b:
        return MISSING_ADDRESS_SCORE, ("an address is missing",), False
    numbers_a, numbers_b = numbers_of(a), numbers_of(b)
    if numbers_a and numbers_b and not (numbers_a <= numbers_b or numbers_b <= numbers_a):
        return (
            ADDRESS_NUMBER_CONFLICT_FACTOR * fuzz.token_sort_ratio(a, b),
            (f"address numbers differ: {' '.join(sorted(numbers_a))} / {' '.join(sorted(numbers_b))}",),
            True,
        )
    tokens = (fuzz.token_set_ratio(a, b) + fuzz.token_sort_ratio(a, b)) / 2
    value = max(tokens, fuzz.ratio(a.replace(" ", ""), b.replace(" ", "")))
    if _streets_differ(a, b, parts_a, parts_b):
        return value, (f"streets differ: {_places_named(parts_a.streets, parts_b.streets)}",), True
    if value < OTHER_PLACE_BELOW and not (_ends_within(a, b) or _ends_within(b, a)):
        ends = f"{a.rsplit(' ', 1)[-1]} / {b.rsplit(' ', 1)[-1]}"
        return value, (f"addresses differ and end in different places: {ends}",), True
    # A zone goes by several names ("VSIP" / "Vietnam Singapore Industrial Park"), and a site may be given by its
    # street in one list and by its zone in another: a person decides.
    if _zones_differ(parts_a, parts_b):
        return min(value, SITE_UNSURE_SCORE), (f"zones differ: {_places_named(parts_a.zones, parts_b.zones)}",), False
    if _street_against_zone(parts_a, parts_b) or _street_against_zone(parts_b, parts_a):
        return min(value, SITE_UNSURE_SCORE), ("one address gives a street, the other a zone",), False
    # numbers agree here (one set holds the other) or only one side has any
    shorter, longer = sorted((a, b), key=len)  # two of one length are two addresses, not one twice
    if value < PARTIAL_ADDRESS_SCORE and _contained(shorter, longer):
        return PARTIAL_ADDRESS_SCORE, ("one address is a part of the other",), False
    if value < ADDRESS_CONFLICT_BELOW:
        return value, ("addresses differ",), True
    return value, (), False


def _differ(a: tuple[Place, ...], b: tuple[Place, ...]) -> bool:
    """Both name places of a kind, and none of one is any of the other."""
    return bool(a and b) and not any(same_place(x, y) for x in a for y in b)


def _streets_differ(a: str, b: str, parts_a: AddressParts, parts_b: AddressParts) -> bool:
    """Both name a street and none is the same; or one names streets and the other, written without commas, says
    "street" (road, jalan, ...) but holds none of them."""
    if _differ(parts_a.streets, parts_b.streets):
        return True
    for known, text, other in ((parts_a, b, parts_b), (parts_b, a, parts_a)):
        if known.streets and not other.read and STREET_WORDS.intersection(text.split()):
            return not any(_named_in(street, text) for street in known.streets)
    return False


def _zones_differ(parts_a: AddressParts, parts_b: AddressParts) -> bool:
    """Both name a zone, none is the same, and neither address names the other's zone as a locality of its own
    ("Sahab Industrial City, Amman" / "King Abdullah II Industrial Estate, Sahab, Amman"; a province both name, as
    in "Dhaka EPZ, Dhaka" / "Karnaphuli EPZ, Dhaka", explains nothing)."""
    return (
        _differ(parts_a.zones, parts_b.zones)
        and not _zone_named_as_locality(parts_a, parts_b)
        and not _zone_named_as_locality(parts_b, parts_a)
    )


def _zone_named_as_locality(a: AddressParts, b: AddressParts) -> bool:
    own = [place for place in b.localities if place not in a.localities]
    return any(_named_in(zone, place) for zone in a.zones for place in own)


def _named_in(place: Place, text: str) -> bool:
    """The place's numbers and words are all in the (normalised) text, its words apart or joined up."""
    if not place.numbers <= numbers_of(text):
        return False
    return not place.words or _contained(place.words, text) or place.words.replace(" ", "") in text.replace(" ", "")


def _street_against_zone(a: AddressParts, b: AddressParts) -> bool:
    return bool(a.streets and not a.zones and b.zones and not b.streets)


def _places_named(a: tuple[Place, ...], b: tuple[Place, ...]) -> str:
    return f"{'; '.join(map(str, a))} / {'; '.join(map(str, b))}"


def compare(
    submitted: NameParts,
    address: str,
    names: Iterable[tuple[str, NameParts]],
    candidate_address: str,
    components: AddressParts = NO_PARTS,
    candidate_components: AddressParts = NO_PARTS,
) -> Comparison:
    """The submission against one candidate: the best of its names, its address, conflicts capping the score."""
    best: tuple[float, tuple[str, ...], bool, str] = (0.0, (), False, "")
    for label, parts in names:
        value, notes, conflict = compare_names(submitted, parts)
        if (not conflict, value) > (not best[2], best[0]) or not best[3]:
            best = (value, notes, conflict, label)
    name_value, name_notes, name_conflict, label = best
    address_value, address_notes, address_conflict = compare_addresses(
        address, candidate_address, components, candidate_components
    )
    combined = NAME_WEIGHT * name_value + ADDRESS_WEIGHT * address_value
    conflict = name_conflict or address_conflict
    if conflict:
        combined = min(combined, CONFLICT_CEILING)
    return Comparison(
        round(combined, 2), round(name_value, 2), round(address_value, 2), label, name_notes + address_notes, conflict
    )


def _names_of(name: str, aliases: Iterable[str]) -> tuple[tuple[str, NameParts], ...]:
    return tuple((normalise_name(n), name_parts(n)) for n in (name, *aliases) if n)


# A stored profile says which rules made it: one made by other rules is not trusted but computed again (and a
# migration that changes normalisation writes every profile anew, as 0004 and 0005 did).
PROFILE_VERSION = 3


@dataclass(frozen=True)
class Profile:
    """What matching needs of a registered factory, worked out once when the factory is saved rather than for every
    submission it is a candidate of: each name cleaned and split into its parts, the address cleaned."""

    names: tuple[tuple[str, NameParts], ...]  # (cleaned name, its parts) for the legal name, local name, aliases
    address: str
    parts: AddressParts = NO_PARTS  # the streets and zones the address names

    @property
    def clean_names(self) -> frozenset[str]:
        return frozenset(label for label, _ in self.names)

    def as_json(self) -> dict[str, object]:
        return {
            "v": PROFILE_VERSION,
            "address": self.address,
            "names": [[label, p.brand, sorted(p.lines), sorted(p.numbers), p.script] for label, p in self.names],
            "streets": [[place.words, sorted(place.numbers)] for place in self.parts.streets],
            "zones": [[place.words, sorted(place.numbers)] for place in self.parts.zones],
            "localities": list(self.parts.localities),
            "read": self.parts.read,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> Profile | None:
        """The profile stored with a factory; None if there is none or other rules made it."""
        if not data or data.get("v") != PROFILE_VERSION:
            return None
        names = tuple(
            (label, NameParts(brand, frozenset(lines), frozenset(numbers), script))
            for label, brand, lines, numbers, script in data["names"]
        )
        parts = AddressParts(
            _places_of(data["streets"]), _places_of(data["zones"]), tuple(data["localities"]), data["read"]
        )
        return cls(names, data["address"], parts)


def _places_of(rows: list[list[Any]]) -> tuple[Place, ...]:
    return tuple([Place(words, frozenset(numbers)) for words, numbers in rows]) if rows else ()


def profile(name: str, aliases: Iterable[str], address: str | None) -> Profile:
    """The matching profile of a factory going by `name` and `aliases` at `address`."""
    return Profile(_names_of(name, aliases), normalise_address(address or ""), address_parts(address))


def score(name_a: str, address_a: str, name_b: str, address_b: str, aliases_b: Iterable[str] = ()) -> float:
    """Similarity 0..100 of two factories: 0.7 * name + 0.3 * address, the name being the best over aliases;
    at most CONFLICT_CEILING when a unit number, a product line or the site contradicts."""
    return compare(
        name_parts(name_a),
        normalise_address(address_a),
        _names_of(name_b, aliases_b),
        normalise_address(address_b),
        address_parts(address_a),
        address_parts(address_b),
    ).score


# External ids that identify a factory outright, looked up within the submission's country before any name is
# compared: OS ID, SLCP facility id, national (business) registration, the customs list entry. OS ID and SLCP ids
# are unique across countries, so one held in another country is refused, not linked.
EXACT_KEYS = ("os_id", "slcp_facility_id", "national_registration", "customs_list_entry")
GLOBAL_KEYS = ("os_id", "slcp_facility_id")


class Decision(enum.StrEnum):
    LINK = "link"
    REVIEW = "review"
    NEW = "new"


@dataclass(frozen=True)
class Candidate:
    id: str
    name: str
    address: str
    country: str
    aliases: tuple[str, ...] = ()
    profile: Profile | None = None  # as stored with the factory; worked out from the fields above when None

    def matching_profile(self) -> Profile:
        return self.profile or profile(self.name, self.aliases, self.address)


@dataclass(frozen=True)
class Thresholds:
    """Score bounds (0..100): >= link links automatically, >= review goes to a person, below is a new factory."""

    link: float = 85.0
    review: float = 70.0

    def __post_init__(self) -> None:
        if not 0 <= self.review <= self.link <= 100:
            raise ValueError(f"need 0 <= review <= link <= 100, got review={self.review} link={self.link}")


DEFAULT_THRESHOLDS = Thresholds()


@dataclass(frozen=True)
class MatchResult:
    decision: Decision
    candidate_id: str | None
    score: float
    exact: bool = False
    alternatives: tuple[tuple[str, float], ...] = ()  # other candidates at or above the review threshold
    comparison: Comparison | None = None  # how the best candidate compared (None for an exact or external-id link)
    agreed: tuple[str, ...] = ()  # the fields (FIELDS) on which the best candidate agreed, for the reviewer
    differed: tuple[str, ...] = ()  # and those on which it differed

    def explanation(self) -> dict[str, object]:
        """Why the score is what it is, for the person reviewing: similarities of name and address, the fields
        that agreed and those that differed, and notes on what differed."""
        if self.comparison is None:
            return {
                "score": self.score,
                "exact": self.exact,
                "agreed": list(self.agreed),
                "differed": list(self.differed),
                "notes": [],
            }
        c = self.comparison
        return {
            "score": self.score,
            "exact": self.exact,
            "name": c.name,
            "address": c.address,
            "name_compared": c.name_compared,
            "conflict": c.conflict,
            "agreed": list(self.agreed),
            "differed": list(self.differed),
            "notes": list(c.notes),
        }


# What a review item says agreed or differed, field by field (a field not listed either way was not on both sides,
# or agreed only in part: the similarities and notes tell).
FIELDS = ("name", "unit_number", "product_line", "address", "address_numbers", "street", "zone", "province")
FIELD_AGREES = 85.0  # a name or address this similar agreed


def agreement(
    submitted: NameParts, address: str, parts: AddressParts, known: Profile, comparison: Comparison
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The fields on which a submission and the candidate it compared best with agreed, and those they differed on:
    worked out once, for the best candidate, for the reviewer."""
    agreed: list[str] = []
    differed: list[str] = []

    def verdict(field: str, agrees: bool | None) -> None:
        if agrees is not None:
            (agreed if agrees else differed).append(field)

    names = dict(known.names)
    theirs = names.get(comparison.name_compared)
    verdict("name", comparison.name >= FIELD_AGREES)
    if theirs is not None:
        if submitted.numbers or theirs.numbers:
            verdict("unit_number", (submitted.numbers or {"1"}) == (theirs.numbers or {"1"}))
        if submitted.lines or theirs.lines:
            same, shared = submitted.lines == theirs.lines, bool(submitted.lines & theirs.lines)
            verdict("product_line", True if same else (False if not shared else None))
    if address and known.address:
        verdict("address", comparison.address >= FIELD_AGREES)
        ours, their_numbers = numbers_of(address), numbers_of(known.address)
        if ours and their_numbers:
            verdict("address_numbers", ours <= their_numbers or their_numbers <= ours)
        if _streets_differ(address, known.address, parts, known.parts):
            verdict("street", False)
        elif any(same_place(x, y) for x in parts.streets for y in known.parts.streets):
            verdict("street", True)
        if parts.zones and known.parts.zones:
            verdict("zone", not _zones_differ(parts, known.parts))
        verdict("province", _ends_within(address, known.address) or _ends_within(known.address, address))
    return tuple(agreed), tuple(differed)


def thresholds_for(country: str, thresholds: Thresholds | Mapping[str, Thresholds]) -> Thresholds:
    """The thresholds for a country: a single Thresholds, or a per-country mapping with an optional "*" default."""
    if isinstance(thresholds, Thresholds):
        return thresholds
    return thresholds.get(country.strip().upper(), thresholds.get("*", DEFAULT_THRESHOLDS))


def match(
    name: str,
    address: str | None,
    country: str,
    candidates: Iterable[Candidate],
    thresholds: Thresholds | Mapping[str, Thresholds] = DEFAULT_THRESHOLDS,
) -> MatchResult:
    """Decide whether a submitted factory is one the registry holds (LINK), might be (REVIEW), or is NEW."""
    country = country.strip().upper()
    bounds = thresholds_for(country, thresholds)
    clean_name = normalise_name(name)
    clean_address = normalise_address(address or "")
    same_country = list({c.id: c for c in candidates if c.country.strip().upper() == country}.values())
    profiles = [(c.id, c.matching_profile()) for c in same_country]

    for candidate_id, known in profiles:
        if clean_name and clean_address == known.address and clean_name in known.clean_names:
            return MatchResult(Decision.LINK, candidate_id, 100.0, exact=True, agreed=("name", "address"))

    submitted, parts = name_parts(name), address_parts(address)
    scored = sorted(
        (
            (compare(submitted, clean_address, known.names, known.address, parts, known.parts), i, cid)
            for i, (cid, known) in enumerate(profiles)
        ),
        key=lambda item: (-item[0].score, item[1]),
    )
    if not scored:
        return MatchResult(Decision.NEW, None, 0.0)
    best, best_index, best_id = scored[0]
    agreed, differed = agreement(submitted, clean_address, parts, profiles[best_index][1], best)
    alternatives = tuple((cid, c.score) for c, _, cid in scored[1:] if c.score >= bounds.review)
    if best.score >= bounds.link:
        ambiguous = any(s >= bounds.link for _, s in alternatives)
        decision = Decision.REVIEW if ambiguous else Decision.LINK
    elif best.score >= bounds.review:
        decision = Decision.REVIEW
    else:
        decision = Decision.NEW
    return MatchResult(
        decision,
        best_id,
        best.score,
        exact=False,
        alternatives=alternatives,
        comparison=best,
        agreed=agreed,
        differed=differed,
    )
