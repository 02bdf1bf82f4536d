"""What assessments knows about factories: a read model kept from the registry's events.

Events of one factory arrive in order (one Kafka partition per key), each with
the version of the factory record after the change. A version at or below the
one held is a repeat; one more than the next expected means an event is missing.
"""

from __future__ import annotations

from enum import Enum


class Apply(Enum):
    APPLY = "apply"
    REPEAT = "repeat"
    GAP = "gap"


def decide(current_version: int | None, event_version: int) -> Apply:
    held = current_version or 0
    if event_version <= held:
        return Apply.REPEAT
    if event_version == held + 1:
        return Apply.APPLY
    return Apply.GAP
