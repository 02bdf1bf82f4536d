"""The PDF a person reads, rendered from an issued progress report's JSON (so it shows what was issued, no more).

fpdf2 with text shaping (HarfBuzz, through uharfbuzz) and Noto Sans, with Noto Sans Khmer as fallback: Latin
and Vietnamese (combining diacritics) render from Noto Sans, Khmer script from Noto Sans Khmer. Both fonts come
from PyPI packages (fontpkg-noto-sans, fontpkg-noto-sans-khmer), so nothing depends on system fonts.
"""

from __future__ import annotations

import re
from functools import cache
from importlib.resources import files
from typing import Any

from fpdf import FPDF
from fpdf.enums import XPos, YPos

_BODY, _SMALL, _HEAD, _TITLE = 9.5, 8, 12, 16
_COMPLEX_SCRIPT = re.compile("[\u1780-\u17ff\u19e0-\u19ff]")  # Khmer and Khmer symbols


@cache
def _fonts() -> tuple[str, str]:
    latin = files("fontpkg_noto_sans").joinpath("files", "NotoSans[wdth,wght].ttf")
    khmer = files("fontpkg_noto_sans_khmer").joinpath("files", "NotoSansKhmer[wdth,wght].ttf")
    return str(latin), str(khmer)


class _Document(FPDF):
    def __init__(self, footer_text: str) -> None:
        super().__init__(format="A4")
        self._footer_text = footer_text
        latin, khmer = _fonts()
        self.add_font("Noto", "", latin)
        self.add_font("NotoKhmer", "", khmer)
        self.set_fallback_fonts(["NotoKhmer"])
        self.set_auto_page_break(True, margin=18)
        self.set_margins(16, 16, 16)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("Noto", size=_SMALL)
        self.cell(0, 5, f"{self._footer_text}  ·  page {self.page_no()}", align="C")

    def line_of(self, text: str, *, size: float = _BODY, height: float = 5.2) -> None:
        # Shaping (HarfBuzz) is what Khmer needs to render right, and it is the slow part of line breaking:
        # only lines with complex script get it (Vietnamese is precomposed Latin and needs none).
        self.set_text_shaping(_COMPLEX_SCRIPT.search(text) is not None)
        self.set_font("Noto", size=size)
        if self.get_string_width(text) < self.epw - 1:  # fits: no line breaking (fpdf2's is quadratic per line)
            self.cell(0, height, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        else:
            self.multi_cell(0, height, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def heading(self, text: str) -> None:
        self.ln(2.5)
        self.line_of(text, size=_HEAD, height=7)
        self.set_draw_color(160, 160, 160)
        self.line(self.l_margin, self.get_y(), self.w - self.r_margin, self.get_y())
        self.ln(1.5)


def _pct(share: float) -> str:
    return f"{share * 100:.1f}%"


def render(content: dict[str, Any]) -> bytes:
    report, factory, progress = content["report"], content["factory"], content["progress"]
    doc = _Document(f"{report['title']} · {factory['name']} · cycle {report['cycle']} · issued {report['issued_on']}")
    doc.add_page()
    doc.line_of(report["title"], size=_TITLE, height=9)
    doc.line_of(f"{factory['name']} ({factory['country']}) · improvement plan of cycle {report['cycle']}")
    doc.line_of(
        f"Period {report['period']['start']} to {report['period']['end']} · due {report['due_date']}"
        f" · issued {report['issued_on']} ({'on time' if report['on_time'] else 'late'})"
    )

    doc.heading("Progress")
    doc.line_of(
        f"{progress['items']} items. Reported fixed {_pct(progress['reported_fixed_share'])}, verified fixed "
        f"{_pct(progress['verified_fixed_share'])}, counted as fixed {_pct(progress['fixed_share'])} "
        "(weighted by severity and workers affected; publicly reported and zero-tolerance items count only once "
        "an enterprise advisor verified them)."
    )
    doc.line_of(
        f"Overdue: {progress['overdue']} · behind schedule: {progress['behind_schedule']}"
        f" · recurring: {progress['recurring']}"
    )

    doc.heading("Improvement plan")
    for item in content["items"]:
        flags = [f for f, on in (("publicly reported", item["publicly_reported"]),
                                 ("zero tolerance", item["zero_tolerance"]),
                                 ("recurring", item["recurring"]),
                                 ("OVERDUE", item["overdue"])) if on]  # fmt: skip
        doc.line_of(f"{item['title']}  [{item['status'].replace('_', ' ')}]  due {item['due_date']}"
                    + (f"  ({', '.join(flags)})" if flags else ""))  # fmt: skip
        details = [
            (label, item.get(key))
            for label, key in (
                ("Root cause", "root_cause"),
                ("Corrective action", "corrective_action"),
                ("Preventive action", "preventive_action"),
                ("Owner", "owner"),
                ("Verified by", "verified_by"),
            )
        ]
        for label, value in details:
            if value:
                doc.line_of(f"    {label}: {value}", size=_SMALL, height=4.4)

    for title, key, describe in (
        ("Advisory visits", "advisory_visits", _visit),
        ("Committee meetings", "committee_meetings", _meeting),
        ("Training", "trainings", _training),
    ):
        doc.heading(title)
        rows = content.get(key) or []
        if not rows:
            doc.line_of("None in this period.")
        for row in rows:
            doc.line_of(describe(row))
    return bytes(doc.output())


def _visit(v: dict[str, Any]) -> str:
    topics = ", ".join(v.get("topics") or []) or "no topics recorded"
    return f"{v['visit_date']} · {v['mode'].replace('_', ' ')} · {topics}"


def _meeting(m: dict[str, Any]) -> str:
    return (
        f"{m['meeting_date']} · {m['attended']} attended ({m['attended_women']} women) · "
        f"{len(m.get('decisions') or [])} decisions"
    )


def _training(t: dict[str, Any]) -> str:
    return (
        f"{t['session_date']} · {t['course_title']} · {t['participants']} participants "
        f"({t['participants_women']} women, {t['participants_men']} men)"
    )
