"""What a factory list looks like: its columns, how a CSV upload is read, how one row is checked, and the
per-row results file. Pure: no database; a list that is not usable at all is a 400."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from registry.domain.factory import Sector
from servicekit.downloads import csv_writer
from servicekit.errors import BadRequest

REQUIRED_COLUMNS = ("country", "name", "address")
OPTIONAL_COLUMNS = (
    "sector",
    "workers",
    "os_id",
    "external_reference",
    "local_name",
    "province",
    "slcp_facility_id",
    "national_registration",
    "customs_list_entry",
)
_COLUMN_ALIASES = {
    "factory_name": "name",
    "facility_name": "name",
    "number_of_workers": "workers",
    "workers_total": "workers",
    "os_hub_id": "os_id",
    "osid": "os_id",
    "reference": "external_reference",
    "external_id": "external_reference",
}


class ImportRowIn(BaseModel):
    """One list row, checked like a registration (blank cells are no value)."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    country: str = Field(min_length=2, max_length=2)
    name: str = Field(min_length=1, max_length=300)
    address: str = Field(min_length=1, max_length=1000)
    sector: Sector | None = None
    workers: int | None = Field(default=None, ge=0, le=1_000_000)
    os_id: str | None = Field(default=None, max_length=30)
    external_reference: str | None = Field(default=None, max_length=200)
    local_name: str | None = Field(default=None, max_length=300)
    province: str | None = Field(default=None, max_length=200)
    slcp_facility_id: str | None = Field(default=None, max_length=100)
    national_registration: str | None = Field(default=None, max_length=100)
    customs_list_entry: str | None = Field(default=None, max_length=100)

    @model_validator(mode="before")
    @classmethod
    def _blank_is_none(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if not (isinstance(v, str) and not v.strip()) or k == "name"}
        return data

    @field_validator("sector", mode="before")
    @classmethod
    def _sector(cls, value: Any) -> Any:
        return value.strip().lower().replace(" ", "_") if isinstance(value, str) else value

    @field_validator("workers", mode="before")
    @classmethod
    def _workers(cls, value: Any) -> Any:
        return value.replace(",", "").replace(" ", "") if isinstance(value, str) else value

    def values(self) -> dict[str, Any]:
        values = self.model_dump(exclude={"country", "workers", "external_reference"}, exclude_none=True)
        if self.workers is not None:
            values["workers_total"] = self.workers
        return values


@dataclass(frozen=True)
class ParsedList:
    rows: list[dict[str, str]]
    columns: list[str]
    ignored_columns: list[str]


def _column(name: str) -> str:
    key = "_".join(name.strip().lower().replace("-", " ").split())
    return _COLUMN_ALIASES.get(key, key)


def parse_csv(data: bytes, *, default_country: str | None, max_rows: int) -> ParsedList:
    """The list's rows as raw text cells; a file that is not a usable list is a 400 (and no job is made)."""
    try:
        content = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadRequest(f"The list is not UTF-8 text (byte {exc.start}); save it as CSV UTF-8.") from exc
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(content[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(content), dialect)
    header = next(reader, None)
    if not header or not any(cell.strip() for cell in header):
        raise BadRequest("The list is empty: the first line must name the columns.")
    columns = [_column(c) for c in header]
    repeated = sorted({c for c in columns if columns.count(c) > 1 and c})
    if repeated:
        raise BadRequest(f"Columns appear twice: {', '.join(repeated)}.")
    required = [c for c in REQUIRED_COLUMNS if not (c == "country" and default_country)]
    missing = [c for c in required if c not in columns]
    if missing:
        raise BadRequest(
            f"The list lacks the column(s) {', '.join(missing)}.",
            required=list(REQUIRED_COLUMNS),
            optional=list(OPTIONAL_COLUMNS),
            found=columns,
        )
    known = set(REQUIRED_COLUMNS) | set(OPTIONAL_COLUMNS)
    rows: list[dict[str, str]] = []
    for cells in reader:
        if not any(cell.strip() for cell in cells):
            continue
        row = {columns[i]: cell for i, cell in enumerate(cells[: len(columns)]) if columns[i] in known}
        if len(cells) > len(columns):
            row["_extra_cells"] = str(len(cells) - len(columns))
        if default_country and not row.get("country", "").strip():
            row["country"] = default_country
        rows.append(row)
        if len(rows) > max_rows:
            raise BadRequest(f"The list has more than {max_rows} rows; split it.")
    if not rows:
        raise BadRequest("The list has a header but no rows.")
    return ParsedList(rows, columns, sorted({c for c in columns if c not in known and c}))


def rejection_reason(exc: ValidationError) -> str:
    """Why a row was rejected, in a line: the first few validation errors."""
    parts = []
    for err in exc.errors()[:4]:
        where = ".".join(str(p) for p in err["loc"]) or "row"
        parts.append(f"{where}: {err['msg'].removeprefix('Value error, ')}")
    return "; ".join(parts)


RESULT_COLUMNS = (
    "line",
    "outcome",
    "factory_id",
    "score",
    "review_id",
    "review_status",
    "reason",
    "country",
    "name",
    "address",
    "external_reference",
)


def results_file(rows: Iterable[Mapping[str, Any]]) -> str:
    """The per-row results CSV of a job's rows (as `adapters.imports.result_rows` reads them)."""
    out = io.StringIO()
    writer = csv_writer(out, lineterminator="\n")
    writer.writerow(RESULT_COLUMNS)
    for row in rows:
        raw = row["raw"]
        writer.writerow(
            [
                row["line"],
                row["outcome"] or "pending",
                row["factory_id"] or "",
                "" if row["score"] is None else f"{row['score']:.1f}",
                row["review_id"] or "",
                row["review_status"] or "",
                row["reason"] or "",
                raw.get("country", ""),
                raw.get("name", ""),
                raw.get("address", ""),
                raw.get("external_reference", ""),
            ]
        )
    return out.getvalue()
