"""Cursor (keyset) pagination, sorting and filtering: one shape for every list endpoint.

A page answers `{"items": [...], "next_cursor": "..." | null}`. The cursor is
opaque to clients: it encodes the sort key of the last row returned, so pages
stay stable while rows are inserted, and no OFFSET scan grows with depth.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel
from sqlalchemy import Select, and_, or_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from servicekit.errors import BadRequest

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


@dataclass(frozen=True)
class PageParams:
    limit: int
    cursor: str | None
    sort: str | None


def page_params(
    limit: Annotated[
        int, Query(ge=1, le=MAX_PAGE_SIZE, description=f"Page size, at most {MAX_PAGE_SIZE}.")
    ] = DEFAULT_PAGE_SIZE,
    cursor: Annotated[str | None, Query(max_length=512, description="`next_cursor` of the previous page.")] = None,
    sort: Annotated[str | None, Query(max_length=64, description="Sort field; prefix with `-` for descending.")] = None,
) -> PageParams:
    return PageParams(limit=limit, cursor=cursor, sort=sort)


PageQuery = Annotated[PageParams, Depends(page_params)]


@dataclass(frozen=True)
class SortOrder:
    """Columns to order by, all in one direction; the last one must be unique (a tie-breaker)."""

    columns: tuple[ColumnElement[Any], ...]
    descending: bool = False


def resolve_sort(sort: str | None, allowed: Mapping[str, Sequence[ColumnElement[Any]]], default: str) -> SortOrder:
    """Turn `sort=-created_at` into a SortOrder; unknown fields are a 400 listing what is allowed."""
    requested = sort or default
    descending = requested.startswith("-")
    name = requested.lstrip("-")
    if name not in allowed:
        raise BadRequest(f"Cannot sort by {name!r}.", allowed=sorted(allowed) + sorted(f"-{k}" for k in allowed))
    return SortOrder(tuple(allowed[name]), descending)


def _encode(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return {"t": "dt" if isinstance(value, datetime) else "d", "v": value.isoformat()}
    if isinstance(value, uuid.UUID):
        return {"t": "u", "v": str(value)}
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        kind, raw = value.get("t"), str(value.get("v"))
        if kind == "dt":
            return datetime.fromisoformat(raw)
        if kind == "d":
            return date.fromisoformat(raw)
        if kind == "u":
            return uuid.UUID(raw)
        raise ValueError("unknown value type")
    return value


def encode_cursor(sort_key: Sequence[Any], order: SortOrder) -> str:
    payload = {"k": [_encode(v) for v in sort_key], "d": order.descending}
    return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, order: SortOrder) -> list[Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        payload = json.loads(raw)
        keys = [_decode(v) for v in payload["k"]]
        if len(keys) != len(order.columns) or payload["d"] != order.descending:
            raise ValueError("cursor belongs to another sort order")
        return keys
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise BadRequest("The cursor is not valid for this query; start again without it.") from exc


def _after(order: SortOrder, keys: Sequence[Any]) -> ColumnElement[bool]:
    """Rows strictly after `keys` in sort order (row-value comparison written out, as it must allow mixed types)."""
    clauses = []
    for i, column in enumerate(order.columns):
        equal_prefix = [order.columns[j] == keys[j] for j in range(i)]
        beyond = column < keys[i] if order.descending else column > keys[i]
        clauses.append(and_(*equal_prefix, beyond))
    return or_(*clauses)


async def paginate(
    session: AsyncSession, stmt: Select[Any], order: SortOrder, params: PageParams
) -> tuple[list[Any], str | None]:
    """Run `stmt` for one page: ORM entities for `select(Model)`, rows otherwise, and the next cursor.

    The statement must select the sort columns (or the entity that has them).
    """
    if params.cursor:
        stmt = stmt.where(_after(order, decode_cursor(params.cursor, order)))
    direction = [c.desc() if order.descending else c.asc() for c in order.columns]
    result = await session.execute(stmt.order_by(*direction).limit(params.limit + 1))
    described = stmt.column_descriptions
    single_entity = len(described) == 1 and isinstance(described[0]["expr"], type)
    items: list[Any] = list(result.scalars().all() if single_entity else result.all())
    has_more = len(items) > params.limit
    items = items[: params.limit]
    next_cursor = None
    if has_more:
        last = items[-1]
        key = [getattr(last, str(c.key)) if single_entity else last._mapping[c] for c in order.columns]
        next_cursor = encode_cursor(key, order)
    return items, next_cursor


def apply_filters(stmt: Select[Any], filters: Mapping[ColumnElement[Any], Any]) -> Select[Any]:
    """Equality filters; `None` means "not filtered", a list or tuple means "any of"."""
    for column, value in filters.items():
        if value is None:
            continue
        if isinstance(value, list | tuple | set | frozenset):
            if value:
                stmt = stmt.where(column.in_(list(value)))
        else:
            stmt = stmt.where(column == value)
    return stmt


def text_filter(columns: Sequence[ColumnElement[Any]], q: str | None) -> ColumnElement[bool] | None:
    """Case-insensitive substring match over any of `columns`; `None` when `q` is empty."""
    if not q or not q.strip():
        return None
    escaped = q.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return or_(*(c.ilike(f"%{escaped}%", escape="\\") for c in columns))
