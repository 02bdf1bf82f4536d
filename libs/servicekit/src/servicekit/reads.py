"""Rendered bodies of hot reads, kept in process per version of what they were rendered from.

A document that is costly to assemble (a report of some hundred findings) but changes rarely is rendered once
per version and served as bytes until its version changes. The version is whatever the request's one cheap
statement reads (a row's version, a count and the latest write time of its children, ...): the cache never
decides freshness itself, so a change shows at the next request, in every process, with no invalidation
message to miss. Authorization is not cached: the caller is checked on every request, before the lookup.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable


class RenderedBodies:
    """At most one rendered body per document (its latest version seen), least recently used first out once
    `max_bytes` would be exceeded. Not shared between processes; safe within one event loop (no awaits)."""

    def __init__(self, *, max_bytes: int = 64 * 1024 * 1024) -> None:
        self.max_bytes = max_bytes
        self._bodies: OrderedDict[Hashable, tuple[Hashable, bytes]] = OrderedDict()
        self._size = 0

    def get(self, document: Hashable, version: Hashable) -> bytes | None:
        """The body rendered from exactly `version` of `document`, or None (never rendered, or since changed)."""
        found = self._bodies.get(document)
        if found is None or found[0] != version:
            return None
        self._bodies.move_to_end(document)
        return found[1]

    def put(self, document: Hashable, version: Hashable, body: bytes) -> None:
        """Keep `body` as `document` at `version`, replacing any earlier version of it."""
        self.discard(document)
        if len(body) > self.max_bytes:
            return
        self._bodies[document] = (version, body)
        self._size += len(body)
        while self._size > self.max_bytes:
            _, (_, oldest) = self._bodies.popitem(last=False)
            self._size -= len(oldest)

    def discard(self, document: Hashable) -> None:
        found = self._bodies.pop(document, None)
        if found is not None:
            self._size -= len(found[1])

    def __len__(self) -> int:
        return len(self._bodies)
