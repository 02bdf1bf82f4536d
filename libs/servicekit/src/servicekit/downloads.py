"""Files the services hand out: CSV that a spreadsheet will not execute, and a safe `Content-Disposition`.

CSV injection (OWASP "CSV Injection"): a cell that begins with `=`, `+`, `-`, `@`, a tab or a carriage
return is read by spreadsheet programs as a formula. Such a cell is written with a leading `'`, which the
programs show as text; a plain number (`-3`, `+1.5`) is left as it is, since it is not a formula.

`Content-Disposition` follows RFC 6266 with RFC 8187 (`filename*=UTF-8''...`): a non-Latin-1 name (a tool
label in Khmer) must not break the header, and a quote or a line break in it must not end the header early.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import Any, Protocol
from urllib.parse import quote

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_UNSAFE_IN_QUOTED = re.compile(r'[^\x20-\x7e]|["\\]')


def spreadsheet_safe(value: Any) -> Any:
    """The cell as it should be written: text that a spreadsheet would run as a formula gets a leading `'`.

    A carriage return inside a cell becomes a line feed: `csv.writer` quotes cells holding its line
    terminator, and with `\n` as terminator a bare `\r` would go out unquoted and start a new row in readers.
    """
    if not isinstance(value, str):
        return value
    if value.startswith(FORMULA_START) and not _NUMBER.match(value):
        value = "'" + value
    return value.replace("\r\n", "\n").replace("\r", "\n") if "\r" in value else value


class _Writer(Protocol):
    def writerow(self, row: Iterable[Any], /) -> Any: ...


class SpreadsheetSafeWriter:
    """`csv.writer` whose every cell passes through `spreadsheet_safe`."""

    def __init__(self, out: Any, **fmtparams: Any) -> None:
        self._writer: _Writer = csv.writer(out, **fmtparams)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([spreadsheet_safe(cell) for cell in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(out: Any, **fmtparams: Any) -> SpreadsheetSafeWriter:
    """The writer every CSV download uses (same arguments as `csv.writer`)."""
    return SpreadsheetSafeWriter(out, **fmtparams)


def content_disposition(filename: str, *, disposition: str = "attachment") -> str:
    """`attachment; filename="ascii"; filename*=UTF-8''percent-encoded` for any file name."""
    cleaned = "".join(ch for ch in filename if ch.isprintable()).strip() or "download"
    fallback = _UNSAFE_IN_QUOTED.sub("_", cleaned)
    header = f'{disposition}; filename="{fallback}"'
    if fallback != cleaned:
        header += f"; filename*=UTF-8''{quote(cleaned, safe='')}"
    return header
