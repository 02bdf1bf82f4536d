"""A factory merge as assessments sees it: the retired factory's assessments join the survivor's history, and
the cycles of both are numbered again by date. Pure: no I/O.

A cycle is kept whole (a follow-up stays in the cycle of the assessment it follows up), so what is renumbered
is each factory's cycles, not single assessments: the cycles of both factories are put in the order of their
first visit day and numbered 1, 2, ... The survivor therefore never holds two cycles 1 (two "initial" cycles):
the later one becomes the next cycle. Assessment ids stay. A cycle made only of cancelled assessments counts
for none: it takes the number the next counted cycle will have, as scheduling gives it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True)
class CycleMember:
    """An assessment as the renumbering needs it."""

    assessment_id: uuid.UUID
    factory_id: uuid.UUID
    cycle: int
    start_date: date
    created_at: datetime
    cancelled: bool


@dataclass(frozen=True)
class Renumbering:
    """The new cycle of every assessment, and of every counted (factory, old cycle)."""

    assessments: dict[uuid.UUID, int]
    cycles: dict[tuple[uuid.UUID, int], int]


def renumber(members: Iterable[CycleMember], *, survivor: uuid.UUID) -> Renumbering:
    """Cycles of both factories ordered by first visit day (the survivor's first on the same day), numbered anew."""
    groups: dict[tuple[uuid.UUID, int], list[CycleMember]] = {}
    for member in members:
        groups.setdefault((member.factory_id, member.cycle), []).append(member)

    def first_visit(key: tuple[uuid.UUID, int]) -> tuple[date, datetime, int, int]:
        group = groups[key]
        counted = [m for m in group if not m.cancelled] or group
        earliest = min(counted, key=lambda m: (m.start_date, m.created_at))
        return earliest.start_date, earliest.created_at, 0 if key[0] == survivor else 1, key[1]

    assessments: dict[uuid.UUID, int] = {}
    cycles: dict[tuple[uuid.UUID, int], int] = {}
    number = 0
    for key in sorted(groups, key=first_visit):
        group = groups[key]
        counted = any(not m.cancelled for m in group)
        new = number + 1
        if counted:
            number = new
            cycles[key] = new
        for member in group:
            assessments[member.assessment_id] = new
    return Renumbering(assessments, cycles)
