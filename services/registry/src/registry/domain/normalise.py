"""Names and addresses folded for matching, and the search keys a factory is filed under. Pure, no I/O.

1. Normalise: Latin loses its accents (NFKD, combining marks dropped, Vietnamese đ); any other script (Khmer,
   Arabic, Bengali, Myanmar, Chinese) is transliterated by anyascii; lower case, punctuation to spaces, dotted
   initialisms joined ("S.A." -> "sa"), legal forms and generic trade words dropped from names (in the local
   script too), address abbreviations and romanisation variants mapped to one spelling.
2. Identity: a name is split into its brand words, its product lines (knit, denim, sweater, ...) and its unit
   numbers (`NameParts`); a parent group ("Crystal Group - X", "X (Crystal Group)") is set aside.
3. Search keys: phonetic keys of the brand words and of the whole brand (that one also by halves), plus the
   address's numbers; candidates are the factories sharing a key with the submission.

How the folded names are compared, and the judgement calls on what is dropped, are in `registry.domain.matching`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from anyascii import anyascii

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
        "unit",
        "units",
        "plant",
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
        # legal forms and trade words in other scripts, as anyascii spells them: Khmer ក្រុមហ៊ុន (company),
        # រោងចក្រ (factory), Arabic شركة (company), مصنع (factory), Bengali লিমিটেড is "limited" already
        "kromhon",
        "raongchkr",
        "shrkh",
        "msn",
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
    "first": "1",
    "second": "2",
    "third": "3",
    "fourth": "4",
    "fifth": "5",
    "sixth": "6",
    "seventh": "7",
    "eighth": "8",
    "ninth": "9",
    "tenth": "10",
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


_ARABIC_ARTICLE = re.compile(r"(?<![\u0621-\u064a])\u0627\u0644(?=[\u0621-\u064a]{2})")  # "al-" glued to a word


def has_script(text: str) -> bool:
    """Whether the text holds letters of a script other than Latin (Khmer, Arabic, Bengali, Myanmar, Chinese...)."""
    return any(ord(ch) > 0x24F and ch.isalpha() for ch in text)


def _ascii_lower(text: str) -> str:
    """Lower case ASCII, punctuation still in place: Latin loses its accents (NFKD, combining marks dropped,
    đ -> d); any other script is transliterated by anyascii (Khmer, Arabic, Bengali, Myanmar, Chinese...), the
    Arabic article first dropped as it is in romanised names ("النيل" -> "nyl", like "Al Nil" -> "nil")."""
    text = unicodedata.normalize("NFKD", text.translate(_LETTERS))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    if has_script(text):
        text = anyascii(_ARABIC_ARTICLE.sub("", text))
    return text.lower()


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


# Words that make a part of an address a street ("Street 41", "Queen Rania Street", "Jl. Raya Bogor Km 5") or a zone
# ("Dhaka EPZ", "Industrial Zone B", "Kawasan Berikat Nusantara"), after abbreviations are mapped ("St." -> street,
# "Jl." -> jalan, "IZ" -> industrial zone), and words that say nothing of which street or zone it is. A part naming
# an administrative division ("Sahab Industrial District", "Liwa Sahab Industrial") is neither.
STREET_WORDS = frozenset({"street", "road", "boulevard", "highway", "avenue", "lane", "jalan", "mawatha", "soi"})
ZONE_WORDS = frozenset({"zone", "sez", "epz", "park"})
_STREET_FILLER = frozenset({"lot", "km", "block", "sector", "ward", "building", "floor", "national", "main"})
_ZONE_FILLER = _STREET_FILLER | {"industrial", "bonded", "free"}  # "Jalan Industri" names a street, not a zone
# what is left out of a street's (a zone's) distinguishing words
_STREET_SKIPPED = STREET_WORDS | ZONE_WORDS | _STREET_FILLER
_ZONE_SKIPPED = STREET_WORDS | ZONE_WORDS | _ZONE_FILLER
DIVISION_WORDS = frozenset(
    {
        "district",
        "province",
        "khan",
        "sangkat",
        "commune",
        "krong",
        "srok",
        "upazila",
        "thana",
        "kecamatan",
        "kabupaten",
        "kelurahan",
        "liwa",
        "markaz",
        "governorate",
        "township",
        "division",
        "subcity",
    }
)
_ADDRESS_PARTS = re.compile(r"[,;\n]+")


class Place(NamedTuple):  # a tuple: profiles hand thousands of these over per second
    """A street or zone an address names: the words that tell it apart, and its numbers ("street 41": no words,
    {41}; "dhaka epz": "dhaka", no numbers)."""

    words: str
    numbers: frozenset[str]

    def __str__(self) -> str:
        return " ".join((self.words, *sorted(self.numbers, key=lambda n: (len(n), n)))).strip()


def _place(tokens: list[str], skipped: frozenset[str]) -> Place | None:
    words = " ".join(t for t in tokens if t not in skipped and not t.isdigit())
    numbers = numbers_of(" ".join(tokens))
    return Place(words, numbers) if words or numbers else None


class AddressParts(NamedTuple):
    """The streets, zones and localities an address names, each read from a part of it between commas, and whether
    it had parts to read: in an address written without commas which words belong to the street is not known."""

    streets: tuple[Place, ...] = ()
    zones: tuple[Place, ...] = ()
    localities: tuple[str, ...] = ()  # with a zone, the other parts but plot numbers: "khan dangkao", "sahab"
    read: bool = False


@lru_cache(maxsize=65536)
def address_parts(address: str | None) -> AddressParts:
    """ "Plot 5, Street 41, Dhaka EPZ, ..." -> streets (street 41), zones (dhaka). A part names a street (a zone)
    when it holds a street (zone) word and something that tells it apart: a name or a number."""
    parts = [p for p in _ADDRESS_PARTS.split(address or "") if p.strip()]
    if len(parts) < 2:
        return AddressParts()
    streets: list[Place] = []
    zones: list[Place] = []
    localities: list[str] = []
    for part in parts:
        tokens = normalise_address(part).split()
        found = False
        if not DIVISION_WORDS.intersection(tokens):
            for kind, skipped, places in ((STREET_WORDS, _STREET_SKIPPED, streets), (ZONE_WORDS, _ZONE_SKIPPED, zones)):
                if kind.intersection(tokens) and (place := _place(tokens, skipped)) is not None:
                    places.append(place)
                    found = True
        if not found and any(not t.isdigit() for t in tokens):
            localities.append(" ".join(tokens))
    # localities only tell whether another address names this one's zone as a place (`matching._zones_differ`)
    return AddressParts(tuple(streets), tuple(zones), tuple(localities) if zones else (), read=True)


@lru_cache(maxsize=65536)  # a submission's address is compared with each of its candidates'
def numbers_of(text: str) -> frozenset[str]:
    return frozenset(token.lstrip("0") or "0" for token in re.findall(r"\d+", text))


# Words that name what a factory makes: two factories of one brand differing here are two factories ("X Knit" and
# "X Denim" at one site are siblings, not spellings of one name).
PRODUCT_LINES = frozenset(
    {
        "knit",
        "denim",
        "sweater",
        "woven",
        "washing",
        "wash",
        "printing",
        "print",
        "embroidery",
        "apparel",
        "textile",
        "fashion",
        "footwear",
        "shoes",
        "bags",
        "leather",
        "socks",
        "dyeing",
        "spinning",
        "accessories",
        "packaging",
        "lingerie",
        "uniform",
        "sportswear",
    }
)
_PARENT_GROUP = re.compile(r"^[^()]*?\bgroup\s*[-:\u2013\u2014|/]\s*|\(\s*[^()]*\bgroup\s*\)")


@dataclass(frozen=True)
class NameParts:
    """What a normalised name says about identity: the brand words, what the factory makes, its unit numbers."""

    brand: str  # distinguishing words in their order, without product lines and numbers
    lines: frozenset[str]
    numbers: frozenset[str]
    script: bool  # written in a script other than Latin, so transliterated (vowels often lost)

    @property
    def compact(self) -> str:
        return self.brand.replace(" ", "")


@lru_cache(maxsize=65536)
def name_parts(name: str) -> NameParts:
    """The name split into brand, product lines and numbers; a parent group ("Crystal Group - X") set aside."""
    stripped = _PARENT_GROUP.sub(" ", name.lower()) if "group" in name.lower() else name
    tokens = normalise_name(stripped).split()
    lines = frozenset(t for t in tokens if t in PRODUCT_LINES)
    brand = " ".join(t for t in tokens if t not in PRODUCT_LINES and not t.isdigit())
    return NameParts(brand, lines, numbers_of(" ".join(tokens)), has_script(name))


_SILENT = str.maketrans({"a": "", "e": "", "i": "", "o": "", "u": "", "y": "", "h": "", "w": ""})
_SOUNDS = str.maketrans({"q": "k", "c": "k", "z": "s", "v": "b", "f": "p", "x": "s"})


def phonetic(word: str) -> str:
    """A consonant key of a romanised word: the first letter, then consonants without h, w, y or repeats, similar
    sounds merged (q/c/k, z/s, v/b, f/p). Romanisations and transliterations meet: "Rathana" and Khmer រតនា
    ("rtna") -> "rtn", "Posenchey" / "Por Senchey" differ by one letter."""
    if not word:
        return ""
    rest = word[1:].translate(_SILENT).translate(_SOUNDS)
    out = [word[0].translate(_SOUNDS)]
    for ch in rest:
        if ch != out[-1]:
            out.append(ch)
    return "".join(out)


@lru_cache(maxsize=65536)
def phonetic_name(brand: str) -> str:
    return " ".join(phonetic(t) for t in brand.split())


MIN_KEY_TOKEN = 3
MIN_HALVES_KEY = 4  # a whole-brand key this long is also filed as its two halves


@lru_cache(maxsize=65536)
def blocking_keys(name: str) -> tuple[str, ...]:
    """Keys under which a name is filed for candidate search. Two spellings of one name share at least one:

    * "t:" each brand word's phonetic key (romanisations, vowel typos, another script transliterated);
    * "c:" the phonetic key of the brand written as one word (joined or split syllables: "Jinda Rui" / "Jin Da Rui");
    * "p:" and "s:" the first and the last half of that key: one typo, or a letter added or lost, leaves one half
      whole (two keys a name where dropping each letter in turn filed a dozen, for the same candidate recall).

    Product lines, legal forms and numbers give no key: they are what siblings share. The search reads only the
    factories filed under a query's keys, skipping keys so common they tell nothing (`repository.candidates`).
    """
    parts = name_parts(name)
    keys: set[str] = set()
    for token in parts.brand.split():
        if len(token) >= MIN_KEY_TOKEN and not token.isdigit():
            keys.add("t:" + phonetic(token))
    if parts.compact:
        whole = phonetic(parts.compact)
        keys.add("c:" + whole)
        if len(whole) >= MIN_HALVES_KEY:  # one edit leaves one half whole; odd lengths file both halvings,
            for half in {len(whole) // 2, (len(whole) + 1) // 2}:  # so a letter more or less still meets
                keys.update(("p:" + whole[:half], "s:" + whole[-half:]))
    elif parts.lines:  # a name of product lines only ("Knit Apparel Co., Ltd") is still filed
        keys.add("c:" + "".join(sorted(parts.lines)))
    return tuple(sorted(keys))


@lru_cache(maxsize=65536)
def address_keys(address: str | None) -> tuple[str, ...]:
    """The address's numbers as one key ("n:12-598"): a name in another script, or spelled beyond recognition,
    still finds the factory at the same plot and street."""
    numbers = sorted(numbers_of(normalise_address(address or "")), key=lambda n: (len(n), n))
    return ("n:" + "-".join(numbers),) if numbers else ()


def search_keys(name: str, address: str | None) -> tuple[str, ...]:
    """Every key a submission is searched under (and a factory filed under, for each of its names)."""
    return tuple(sorted({*blocking_keys(name), *address_keys(address)}))
