"""Bar charts drawn on the server as SVG: no script, no third-party asset; every chart has a data table beside it
in the page (the chart is `aria-hidden` decoration of the table, which is what assistive technology reads)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape


@dataclass(frozen=True)
class Bar:
    label: str
    value: float  # 0..1
    note: str  # the value as written in the table


def bar_chart(bars: Sequence[Bar], *, title: str, width: int = 640, bar_height: int = 26) -> str:
    """Horizontal bars, labels at the start side, values at the end; sized to its content."""
    label_w, gap = 220, 8
    height = max(1, len(bars)) * (bar_height + gap) + gap
    plot_w = width - label_w - 70
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" width="100%" '
        f'role="img" aria-hidden="true" focusable="false"><title>{escape(title)}</title>'
    ]
    for n, bar in enumerate(bars):
        y = gap + n * (bar_height + gap)
        w = max(0.0, min(1.0, bar.value)) * plot_w
        text_y = f"{y + bar_height * 0.7:.1f}"
        parts.append(
            f'<text x="{label_w - 6}" y="{text_y}" text-anchor="end" class="chart-label">'
            f"{escape(bar.label[:32])}</text>"
            f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_height}" class="chart-bar"/>'
            f'<text x="{label_w + w + 6:.1f}" y="{text_y}" class="chart-value">{escape(bar.note)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
