"""Every message the portal shows has its Khmer and Vietnamese translation (Arabic is partial: English shows)."""

from __future__ import annotations

import re
from pathlib import Path

from transparency.portal.i18n import catalogue, direction, translator

SOURCES = Path(__file__).parents[1] / "src" / "transparency"


def messages() -> set[str]:
    found: set[str] = set()
    for path in [*SOURCES.joinpath("portal", "templates").glob("*.html"), SOURCES / "api" / "portal.py"]:
        text = path.read_text(encoding="utf-8")
        found |= set(re.findall(r'_\(\s*"((?:[^"\\]|\\.)*)"', text)) | set(
            re.findall(r"_\(\s*'((?:[^'\\]|\\.)*)'", text)
        )
    return found


def test_khmer_and_vietnamese_catalogues_cover_every_message() -> None:
    used = messages()
    assert len(used) > 50
    for language in ("km", "vi"):
        missing = used - set(catalogue(language))
        assert missing == set(), (language, missing)


def test_placeholders_survive_translation_and_arabic_is_right_to_left() -> None:
    for language in ("km", "vi", "ar"):
        for message, text in catalogue(language).items():
            assert set(re.findall(r"{\w+}", message)) == set(re.findall(r"{\w+}", text)), (language, message)
    assert translator("vi")("Release {n}, data up to {date}, rule set {rules}.", n=3, date="2025-12-31", rules="x") == (
        "Lần công bố 3, dữ liệu đến 2025-12-31, bộ quy tắc x."
    )
    assert translator("ar")("Release") == "الإصدار" and translator("ar")("Factory compliance, as published") == (
        "Factory compliance, as published"
    )
    assert (direction("ar"), direction("km")) == ("rtl", "ltr")
