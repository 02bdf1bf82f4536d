"""Message catalogues (one JSON file per language, keyed by the English message) and the text direction of each
language. English is the source: a message missing in a catalogue is shown in English."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

LANGUAGES = {"en": ("English", "ltr"), "km": ("ខ្មែរ", "ltr"), "vi": ("Tiếng Việt", "ltr"), "ar": ("العربية", "rtl")}
DEFAULT = "en"


@cache
def catalogue(language: str) -> dict[str, str]:
    if language == DEFAULT:
        return {}
    text = resources.files("transparency.portal").joinpath(f"locales/{language}.json").read_text("utf-8")
    found: dict[str, str] = json.loads(text)
    return found


def language_of(requested: str | None) -> str:
    return requested if requested in LANGUAGES else DEFAULT


def translator(language: str):  # type: ignore[no-untyped-def]
    messages = catalogue(language)

    def gettext(message: str, **values: object) -> str:
        text = messages.get(message) or message
        return text.format(**values) if values else text

    return gettext


def direction(language: str) -> str:
    return LANGUAGES[language][1]
