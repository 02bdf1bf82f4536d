"""Matching a submitted factory (name, address, country) against the factories the registry already holds.

Pure rules, no I/O, modelled on Open Supply Hub's dedupe pipeline:

1. Normalise: NFKD with combining marks stripped (plus letters that do not decompose, such as Vietnamese đ),
   lower case, punctuation to spaces, dotted initialisms joined ("S.A." -> "sa"), legal suffixes and generic
   trade words dropped from names, address abbreviations and romanisation variants mapped to one spelling.
2. Exact match: cleaned name (or one of the candidate's aliases) and cleaned address equal, same country:
   LINK with score 100.
3. Fuzzy score (rapidfuzz) on name and address, only against candidates of the same country. At or above
   ``Thresholds.link``: LINK; at or above ``Thresholds.review``: REVIEW by a person; below: NEW factory.
   Two or more candidates at or above the link threshold are ambiguous (a sign of duplicates in the registry,
   as Open Supply Hub notes) and go to REVIEW.

Judgement calls, documented here because they change outcomes:

* Dropped from names as generic: legal forms (co, ltd, company, pt, tbk, jsc, llc, plc, pvt, sa, sae, sdn bhd,
  tnhh, cong ty, co phan, mot thanh vien, ...); a country in brackets ("X (Cambodia) Co., Ltd"; unbracketed, as in
  "Mulia Garmen Indonesia", it is part of the brand and kept); the words garment(s)/garmen, factory, manufacturing,
  mfg, industrial, industries, mill(s) and the Vietnamese may mac, nha may, san xuat; the Arabic article al/el.
  Vietnamese trade words are translated (det -> textile, thoi trang -> fashion, det kim -> knit, tui xach -> bags).
  Roman numerals ii..ix become digits ("Factory II" = "Factory 2").
* Kept in names as distinguishing: apparel, textile, knit, fashion, footwear, denim, sweater, and the like. A group
  often runs "X Apparel" and "X Textile" as separate legal entities, so dropping them would hide hard negatives.
* Numbers decide: two names with different numbers ("Factory 1" / "Factory 2") and two addresses whose numbers
  contradict (plot 12 / plot 14, neither set containing the other) are penalised, as OS Hub's duplicate check
  requires all numeric tokens to be equal.
* A missing address on either side scores the address as 40, so an identical name alone scores 82: REVIEW at the
  default thresholds, never LINK (sister factories share names).

Score = 0.7 * name + 0.3 * address (both 0..100): the name dominates; the address separates sister factories.
Name = max(mean(token_set_ratio, token_sort_ratio), ratio with spaces removed ("Rithysokha" = "Rithy Sokha")),
best over the candidate's name and aliases; address likewise (token_set_ratio alone would give 100 whenever one
side is a subset of the other, so it is averaged with token_sort_ratio).

Default thresholds (calibrated on tests/data/factory_pairs.csv, see bench/matching_quality.py): link >= 85,
review >= 70. Per-country values: pass a mapping {"KH": Thresholds(...), "*": default} to ``match``.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz

NAME_WEIGHT = 0.7
ADDRESS_WEIGHT = 0.3
MISSING_ADDRESS_SCORE = 40.0  # 0.7 * 100 + 0.3 * 40 = 82: a name alone never links at the defaults
NAME_NUMBER_CONFLICT_FACTOR = 0.6  # both names carry numbers and they differ
NAME_NUMBER_ONE_SIDED_PENALTY = 8.0  # only one name carries a number
ADDRESS_NUMBER_CONFLICT_FACTOR = 0.4  # both addresses carry numbers and neither set contains the other

# Letters NFKD does not decompose into ASCII + combining marks.
_LETTERS = str.maketrans(
    {
        "đ": "d",
        "Đ": "d",
        "ð": "d",
        "Ð": "d",
        "ø": "o",
        "Ø": "o",
        "ł": "l",
        "Ł": "l",
        "ß": "ss",
        "æ": "ae",
        "Æ": "ae",
        "œ": "oe",
        "Œ": "oe",
        "\u0131": "i",  # dotless i
        "&": " and ",
        "\u2019": "",  # right single quotation mark
        "'": "",
        "`": "",
    }
)

_INITIALISM = re.compile(r"\b(?:[a-z]\.){2,}(?=[^a-z]|$)")  # "s.a." "j.s.c." "p.o."
_BRACKETED_COUNTRY = re.compile(
    r"\(\s*(?:cambodia|viet\s*nam|indonesia|bangladesh|jordan|myanmar|sri\s*lanka|pakistan|ethiopia|egypt|haiti"
    r"|nicaragua)\s*\)"
)
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_ORDINAL = re.compile(r"^(\d+)(?:st|nd|rd|th)$")
_LETTER_DIGIT = re.compile(r"(?<=[a-z])(?=\d)|(?<=\d)(?=[a-z])")  # "b3" -> "b 3", "7a" -> "7 a"

# Phrases first (matched on whole tokens), then single tokens.
_NAME_PHRASES: tuple[tuple[str, str], ...] = (
    ("cong ty trach nhiem huu han", ""),
    ("trach nhiem huu han", ""),
    ("mot thanh vien", ""),
    ("cong ty co phan", ""),
    ("cong ty", ""),
    ("co phan", ""),
    ("may mac", ""),
    ("nha may", ""),
    ("san xuat", ""),
    ("xuat nhap khau", ""),
    ("thuong mai", ""),
    ("dich vu", ""),
    ("sdn bhd", ""),
    ("private limited", ""),
    ("public limited", ""),
    ("joint stock", ""),
    ("limited liability", ""),
    ("sa de cv", ""),
    ("s de rl", ""),
    ("s a", ""),
    ("co ltd", ""),
    ("import export", ""),
    ("share company", ""),
    ("one member", ""),
    ("thoi trang", "fashion"),
    ("tui xach", "bags"),
    ("det kim", "knit"),
)
_NAME_STOPWORDS = frozenset(
    {
        # legal forms
        "co",
        "coltd",
        "ltd",
        "ltda",
        "limited",
        "company",
        "companies",
        "pt",
        "tbk",
        "persero",
        "jsc",
        "llc",
        "inc",
        "incorporated",
        "corp",
        "corporation",
        "plc",
        "pvt",
        "pte",
        "pty",
        "gmbh",
        "sa",
        "sarl",
        "srl",
        "cv",
        "bhd",
        "tnhh",
        "mtv",
        "ctcp",
        "cty",
        "group",
        "holdings",
        "enterprise",
        "enterprises",
        "trading",
        "international",
        "intl",
        # generic trade words
        "sae",
        "sc",
        "garment",
        "garments",
        "garmen",
        "industri",
        "no",
        "factory",
        "factories",
        "manufacturing",
        "manufacturer",
        "manufacturers",
        "mfg",
        "industrial",
        "industries",
        "industry",
        "mill",
        "mills",
        "may",
        "and",
        "the",
        "of",
        # Arabic article, written apart or hyphenated ("Al-Noor", "El Nour")
        "al",
        "el",
    }
)
_NAME_TOKENS = {
    "apparels": "apparel",
    "textiles": "textile",
    "textil": "textile",
    "det": "textile",
    "fashions": "fashion",
    "knits": "knit",
    "knitting": "knit",
    "knitwear": "knit",
    "sweaters": "sweater",
    "ii": "2",
    "iii": "3",
    "iv": "4",
    "vi": "6",
    "vii": "7",
    "viii": "8",
    "ix": "9",
}

_ADDRESS_PHRASES: tuple[tuple[str, str], ...] = (
    ("khu cong nghiep", "industrial zone"),
    ("kawasan industri", "industrial zone"),
    ("kawasan berikat", "bonded zone"),
    ("parc industriel", "industrial park"),
    ("zona franca", "free zone"),
    ("zone franche", "free zone"),
    ("industrial estate", "industrial zone"),
    ("industrial area", "industrial zone"),
    ("industrial city", "industrial zone"),
    ("special economic zone", "sez"),
    ("export processing zone", "epz"),
    ("thanh pho", ""),
    ("sub city", "subcity"),
    ("kingdom of cambodia", ""),
    ("viet nam", ""),
    ("sri lanka", ""),
    ("the hashemite kingdom of jordan", ""),
    ("po box", "pobox"),
)
_ADDRESS_TOKENS = {
    "st": "street",
    "str": "street",
    "rd": "road",
    "ave": "avenue",
    "av": "avenue",
    "hwy": "highway",
    "blvd": "boulevard",
    "dist": "district",
    "quan": "district",
    "huyen": "district",
    "q": "district",
    "phuong": "ward",
    "p": "ward",
    "xa": "commune",
    "tinh": "province",
    "prov": "province",
    "tp": "",
    "city": "",
    "hcm": "ho chi minh",
    "hcmc": "ho chi minh",
    "tphcm": "ho chi minh",
    "ind": "industrial",
    "indus": "industrial",
    "industri": "industrial",
    "industriel": "industrial",
    "kcn": "industrial zone",
    "ki": "industrial zone",
    "iz": "industrial zone",
    "qiz": "industrial zone",
    "zone": "zone",
    "lo": "lot",
    "plot": "lot",
    "no": "",
    "so": "",
    "nr": "national road",
    "sec": "sector",
    "blk": "block",
    "blok": "block",
    "duong": "street",
    "rue": "street",
    "calle": "street",
    "jl": "jalan",
    "jln": "jalan",
    "kel": "kelurahan",
    "kec": "kecamatan",
    "kab": "kabupaten",
    "mw": "mawatha",
    "twp": "township",
    "tsp": "township",
    "songkat": "sangkat",
    "sangkat": "sangkat",
    "sk": "sangkat",
    "phoum": "phum",
    "phum": "phum",
    "phnum": "phnom",
    "kompong": "kampong",
    "kg": "kampong",
    "krong": "krong",
    "dacca": "dhaka",
    "chattogram": "chittagong",
    "ctg": "chittagong",
    "rangoon": "yangon",
    "awassa": "hawassa",
    "abeba": "ababa",
    "tenth": "10",
    "sixth": "6",
    "km": "km",
    "bldg": "building",
    "flr": "floor",
    "fl": "floor",
    "depz": "dhaka epz",
    "cepz": "chittagong epz",
    "al": "",
    "el": "",
    "of": "",
    "de": "",
    "the": "",
    "and": "",
    # country names: the country is compared separately
    "cambodia": "",
    "vietnam": "",
    "indonesia": "",
    "bangladesh": "",
    "jordan": "",
    "myanmar": "",
    "burma": "",
    "pakistan": "",
    "ethiopia": "",
    "egypt": "",
    "haiti": "",
    "nicaragua": "",
}


def _ascii_lower(text: str) -> str:
    """Lower case without accents (NFKD, combining marks dropped, đ -> d); punctuation still in place."""
    text = unicodedata.normalize("NFKD", text.translate(_LETTERS))
    return "".join(ch for ch in text if not unicodedata.combining(ch)).lower()


def _fold(text: str) -> str:
    """Lower-case ASCII letters and digits separated by single spaces; initialisms joined, ordinals bare."""
    text = _INITIALISM.sub(lambda m: m.group(0).replace(".", ""), _ascii_lower(text))
    tokens = _NON_ALNUM.sub(" ", text).split()
    return " ".join(_ORDINAL.sub(r"\1", token) for token in tokens)


def _replace_phrases(text: str, phrases: Iterable[tuple[str, str]]) -> str:
    padded = f" {text} "
    for phrase, replacement in phrases:
        padded = padded.replace(f" {phrase} ", f" {replacement} " if replacement else " ")
    return " ".join(padded.split())


@lru_cache(maxsize=65536)
def normalise_name(name: str) -> str:
    """The name without case, accents, punctuation, legal forms and generic trade words.

    If nothing distinguishing is left ("Garment Factory Co., Ltd"), the folded name is returned instead.
    """
    folded = _fold(name)
    text = _replace_phrases(_fold(_BRACKETED_COUNTRY.sub(" ", _ascii_lower(name))), _NAME_PHRASES)
    tokens = [_NAME_TOKENS.get(token, token) for token in text.split()]
    kept = [token for token in tokens if token not in _NAME_STOPWORDS]
    return " ".join(kept) if kept else folded


@lru_cache(maxsize=65536)
def normalise_address(address: str) -> str:
    """The address without case, accents and punctuation, with abbreviations and romanisations mapped."""
    text = _replace_phrases(_LETTER_DIGIT.sub(" ", _fold(address)), _ADDRESS_PHRASES)
    tokens = [_ADDRESS_TOKENS.get(token, token) for token in text.split()]
    return _replace_phrases(" ".join(token for token in tokens if token), _ADDRESS_PHRASES)


def _numbers(text: str) -> frozenset[str]:
    return frozenset(token.lstrip("0") or "0" for token in re.findall(r"\d+", text))


def _name_score(a: str, b: str) -> float:
    """0..100 for two normalised names: token set and token sort averaged, spacing variants forgiven."""
    if not a or not b:
        return 0.0
    tokens = (fuzz.token_set_ratio(a, b) + fuzz.token_sort_ratio(a, b)) / 2
    compact = fuzz.ratio(a.replace(" ", ""), b.replace(" ", ""))
    result = max(tokens, compact)
    numbers_a, numbers_b = _numbers(a), _numbers(b)
    if numbers_a != numbers_b:
        if numbers_a and numbers_b:
            result *= NAME_NUMBER_CONFLICT_FACTOR
        else:
            result = max(0.0, result - NAME_NUMBER_ONE_SIDED_PENALTY)
    return result


def _address_score(a: str, b: str) -> float:
    """0..100 for two normalised addresses; MISSING_ADDRESS_SCORE when either is empty."""
    if not a or not b:
        return MISSING_ADDRESS_SCORE
    tokens = (fuzz.token_set_ratio(a, b) + fuzz.token_sort_ratio(a, b)) / 2
    result = max(tokens, fuzz.ratio(a.replace(" ", ""), b.replace(" ", "")))
    numbers_a, numbers_b = _numbers(a), _numbers(b)
    if numbers_a and numbers_b and not (numbers_a <= numbers_b or numbers_b <= numbers_a):
        result *= ADDRESS_NUMBER_CONFLICT_FACTOR
    return result


def _combined(names_a: Iterable[str], address_a: str, names_b: Iterable[str], address_b: str) -> float:
    names_b = tuple(names_b)
    best_name = max((_name_score(a, b) for a in names_a for b in names_b), default=0.0)
    return round(NAME_WEIGHT * best_name + ADDRESS_WEIGHT * _address_score(address_a, address_b), 2)


def score(name_a: str, address_a: str, name_b: str, address_b: str, aliases_b: Iterable[str] = ()) -> float:
    """Similarity 0..100 of two factories: 0.7 * name + 0.3 * address, the name being the best over aliases."""
    names_b = [normalise_name(n) for n in (name_b, *aliases_b)]
    return _combined((normalise_name(name_a),), normalise_address(address_a), names_b, normalise_address(address_b))


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
    same_country = [c for c in candidates if c.country.strip().upper() == country]

    for candidate in same_country:
        names = {normalise_name(n) for n in (candidate.name, *candidate.aliases)}
        if clean_name and clean_name in names and clean_address == normalise_address(candidate.address or ""):
            return MatchResult(Decision.LINK, candidate.id, 100.0, exact=True)

    scored = sorted(
        (
            (
                _combined(
                    (clean_name,),
                    clean_address,
                    [normalise_name(n) for n in (c.name, *c.aliases)],
                    normalise_address(c.address or ""),
                ),
                index,
                c.id,
            )
            for index, c in enumerate(same_country)
        ),
        key=lambda item: (-item[0], item[1]),
    )
    if not scored:
        return MatchResult(Decision.NEW, None, 0.0)
    best_score, _, best_id = scored[0]
    alternatives = tuple((cid, s) for s, _, cid in scored[1:] if s >= bounds.review)
    if best_score >= bounds.link:
        ambiguous = any(s >= bounds.link for _, s in alternatives)
        decision = Decision.REVIEW if ambiguous else Decision.LINK
    elif best_score >= bounds.review:
        decision = Decision.REVIEW
    else:
        decision = Decision.NEW
    return MatchResult(decision, best_id, best_score, exact=False, alternatives=alternatives)


_VOWELS = frozenset("aeiouy")
MIN_KEY_TOKEN = 3


def _skeleton(token: str) -> str:
    """First letter, then consonants without repeats: spelling variants meet ("qalyub"/"qalyoub" -> "qlb")."""
    out = [token[0]]
    for ch in token[1:]:
        if ch not in _VOWELS and ch != out[-1]:
            out.append(ch)
    return "".join(out)


@lru_cache(maxsize=65536)
def blocking_keys(name: str) -> tuple[str, ...]:
    """Keys under which a name is filed for candidate search: its distinguishing words and the whole name,
    each reduced to a consonant skeleton so transliteration and vowel typos still share a key.

    Two names that could match share at least one key (checked on tests/data/factory_pairs.csv: every
    labelled match does). The search reads only the factories filed under a query's keys, skipping keys so
    common they tell nothing (see `registry.adapters.repository.candidates`).
    """
    normalised = normalise_name(name)
    keys = {"t:" + _skeleton(t) for t in normalised.split() if len(t) >= MIN_KEY_TOKEN and not t.isdigit()}
    compact = normalised.replace(" ", "")
    if compact:
        keys.add("c:" + _skeleton(compact))
    return tuple(sorted(keys))
