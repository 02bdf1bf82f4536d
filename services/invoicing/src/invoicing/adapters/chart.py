"""Cost recovery as a chart people can read: an SVG of revenue against cost per year, written by hand."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from invoicing.domain.cost_recovery import Recovery
from invoicing.domain.money import display_amount

_W, _H, _PAD, _BAR = 640, 360, 60, 28


def render(rows: Sequence[Recovery], *, title: str) -> str:
    top = max([1, *(r.revenue for r in rows), *(r.cost or 0 for r in rows)])
    plot_h = _H - 2 * _PAD
    step = (_W - 2 * _PAD) / max(1, len(rows))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_W}" height="{_H}" viewBox="0 0 {_W} {_H}"'
        ' font-family="Helvetica, Arial, sans-serif" font-size="12">',
        f"<title>{escape(title)}</title>",
        f'<text x="{_PAD}" y="28" font-size="16" font-weight="bold">{escape(title)}</text>',
        f'<line x1="{_PAD}" y1="{_H - _PAD}" x2="{_W - _PAD}" y2="{_H - _PAD}" stroke="#333"/>',
        f'<rect x="{_W - 210}" y="14" width="12" height="12" fill="#2a7ab0"/>'
        f'<text x="{_W - 194}" y="25">Revenue recognised</text>',
        f'<rect x="{_W - 90}" y="14" width="12" height="12" fill="#c8c8c8"/><text x="{_W - 74}" y="25">Cost</text>',
    ]
    for i, row in enumerate(rows):
        x = _PAD + i * step + step / 2 - _BAR
        for offset, value, colour in ((0, row.revenue, "#2a7ab0"), (_BAR, row.cost or 0, "#c8c8c8")):
            height = plot_h * value / top
            label = display_amount(value, row.currency)
            parts.append(
                f'<rect x="{x + offset:.1f}" y="{_H - _PAD - height:.1f}" width="{_BAR}" height="{height:.1f}"'
                f' fill="{colour}"><title>{escape(label)}</title></rect>'
            )
        rate = f"{row.recovery_rate * 100:.1f}%" if row.recovery_rate is not None else "no cost"
        parts.append(f'<text x="{x + _BAR:.1f}" y="{_H - _PAD + 18}" text-anchor="middle">{row.year}</text>')
        parts.append(f'<text x="{x + _BAR:.1f}" y="{_H - _PAD + 34}" text-anchor="middle">{rate}</text>')
    parts.append("</svg>")
    return "\n".join(parts)
