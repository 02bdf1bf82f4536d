"""Public answers as bytes with a strong ETag, revalidated with `If-None-Match` (304), and kept in this process's
memory for a short while (`TRANSPARENCY_PUBLIC_CACHE_S`): a cached hit reads neither the database nor templates.

Releases are immutable, so the URL of a numbered release is cached by browsers for a year; `latest`, searches and
factory pages only briefly (RFC 9110 section 8.8.3 for ETag, 13.1.2 for If-None-Match; RFC 9111 for caching)."""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

SHORT = "public, max-age=60"
IMMUTABLE = "public, max-age=31536000, immutable"


@dataclass(frozen=True)
class Cached:
    body: bytes
    media_type: str
    etag: str
    cache_control: str
    expires: float


class PublicCache:
    def __init__(self, ttl_s: float, max_entries: int) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._entries: OrderedDict[str, Cached] = OrderedDict()

    def get(self, key: str) -> Cached | None:
        found = self._entries.get(key)
        if found is None or found.expires < time.monotonic():
            return None
        return found

    def put(self, key: str, body: bytes, media_type: str, cache_control: str) -> Cached:
        entry = Cached(body, media_type, etag_of(body), cache_control, time.monotonic() + self.ttl_s)
        if self.ttl_s > 0 and self.max_entries > 0:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return entry

    def clear(self) -> None:
        self._entries.clear()


def etag_of(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def cache_of(request: Request) -> PublicCache:
    cache: PublicCache = request.app.state.public_cache
    return cache


def answer(request: Request, entry: Cached) -> Response:
    headers = {"ETag": entry.etag, "Cache-Control": entry.cache_control, "Vary": "Accept-Language"}
    if entry.etag in _etags(request.headers.get("if-none-match")):
        return Response(status_code=304, headers=headers)
    return Response(entry.body, media_type=entry.media_type, headers=headers)


def _etags(header: str | None) -> set[str]:
    if not header:
        return set()
    return {tag.strip().removeprefix("W/") for tag in header.split(",")}


async def cached(
    request: Request,
    produce: Callable[[], Awaitable[tuple[bytes, str]]],
    *,
    cache_control: str = SHORT,
) -> Response:
    """The answer for this URL: from memory when fresh, else produced (and kept)."""
    cache = cache_of(request)
    key = request.url.path + "?" + request.url.query
    entry = cache.get(key)
    if entry is None:
        body, media_type = await produce()
        entry = cache.put(key, body, media_type, cache_control)
    return answer(request, entry)


class PublicCacheMiddleware:
    """Answers a fresh cached public GET before routing (pure ASGI, innermost: limits and telemetry still see
    it). A miss, or anything else, goes on to the routes, which fill the cache."""

    PREFIXES = ("/public/", "/portal", "/open-data/")

    def __init__(self, app: Any, cache: PublicCache) -> None:
        self.app = app
        self.cache = cache

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or not scope["path"].startswith(self.PREFIXES):
            await self.app(scope, receive, send)
            return
        query = scope.get("query_string", b"").decode("latin-1")
        entry = self.cache.get(scope["path"] + "?" + query)
        if entry is None:
            await self.app(scope, receive, send)
            return
        scope["route"] = _CACHED_ROUTE  # the metrics label of every answer served from here
        headers = [
            (b"etag", entry.etag.encode()),
            (b"cache-control", entry.cache_control.encode()),
            (b"vary", b"Accept-Language"),
        ]
        match = _header(scope, b"if-none-match")
        if match is not None and entry.etag in _etags(match):
            await send({"type": "http.response.start", "status": 304, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        headers += [(b"content-type", entry.media_type.encode()), (b"content-length", str(len(entry.body)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": entry.body})


@dataclass(frozen=True)
class _CachedRoute:
    path: str


_CACHED_ROUTE = _CachedRoute("/(public cache)")


def _header(scope: Any, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None
