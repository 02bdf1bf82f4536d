"""How the consumer classifies what went wrong with an event."""

from __future__ import annotations

import asyncio

import asyncpg
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError


class PermanentEventError(Exception):
    """Retrying cannot help: the event goes to the dead-letter topic at once."""

    reason = "permanent"


class InvalidEnvelope(PermanentEventError):
    reason = "invalid-envelope"


class UnknownEventType(PermanentEventError):
    reason = "unknown-type"


class InvalidPayload(PermanentEventError):
    reason = "schema-invalid"


class UnexpectedSource(PermanentEventError):
    """The event's type is known, but it came on another topic or from another source than its contract names."""

    reason = "unexpected-source"


class ImplausibleEvent(PermanentEventError):
    """A time in the event lies outside what could have happened (far in the future, or before the platform)."""

    reason = "implausible"


class RuleViolation(PermanentEventError):
    """A handler refuses the event on business grounds (for example an update to an unknown factory)."""

    reason = "rule-violated"


class NotYetKnown(Exception):
    """The event refers to something this service has not (yet) heard of.

    It may still arrive, so the event is retried within the retry budget, then dead-lettered; replay it once
    the missing piece is there.
    """

    reason = "not-yet-known"


_TRANSIENT_SQLSTATES = {"40001", "40P01", "55P03", "57P01", "57P02", "57P03", "53300"}


def is_transient(exc: BaseException) -> bool:
    """Infrastructure trouble (database away, serialization conflict, timeout): wait and try again, forever."""
    if isinstance(exc, TimeoutError | asyncio.TimeoutError | ConnectionError | OSError | InterfaceError):
        return True
    if isinstance(exc, asyncpg.exceptions.PostgresConnectionError | asyncpg.exceptions.InterfaceError):
        return True
    if isinstance(exc, OperationalError):
        return True
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        sqlstate = getattr(exc.orig, "sqlstate", None) or getattr(
            getattr(exc.orig, "__cause__", None), "sqlstate", None
        )
        return sqlstate in _TRANSIENT_SQLSTATES
    return False
