"""The bipartite worker-management committee (PICC) and advisory visits. Pure: no I/O.

Worker members are elected (management appoints its own); women's share of the worker members is compared with
women's share of the workforce, and flagged when below.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from enum import StrEnum


class CommitteeRuleError(ValueError):
    """A member, meeting or visit the rules refuse (the API answers 422 or 409)."""


class Side(StrEnum):
    WORKER = "worker"
    MANAGEMENT = "management"


class Selection(StrEnum):
    ELECTED = "elected"
    APPOINTED = "appointed"


class Sex(StrEnum):
    FEMALE = "female"
    MALE = "male"
    OTHER = "other"  # another sex, or not stated


class VisitMode(StrEnum):
    IN_PERSON = "in_person"
    VIRTUAL = "virtual"
    GROUP = "group"
    JOINT_INSPECTORS = "joint_inspectors"
    JOINT_UNION = "joint_union"


@dataclass(frozen=True)
class Member:
    id: uuid.UUID
    factory_id: uuid.UUID
    country: str
    display_name: str
    side: Side
    selection: Selection
    sex: Sex
    role: str
    term_start: date
    term_end: date | None

    def serving(self, on: date) -> bool:
        return self.term_start <= on and (self.term_end is None or on <= self.term_end)


def check_member(side: Side, selection: Selection, term_start: date, term_end: date | None) -> None:
    if side is Side.WORKER and selection is not Selection.ELECTED:
        raise CommitteeRuleError("worker members of the committee are elected by the workers, not appointed")
    if term_end is not None and term_end < term_start:
        raise CommitteeRuleError("a term cannot end before it starts")


@dataclass(frozen=True)
class BySex:
    women: int = 0
    men: int = 0
    other: int = 0

    @property
    def total(self) -> int:
        return self.women + self.men + self.other


def count_by_sex(sexes: list[Sex]) -> BySex:
    return BySex(
        women=sum(1 for s in sexes if s is Sex.FEMALE),
        men=sum(1 for s in sexes if s is Sex.MALE),
        other=sum(1 for s in sexes if s is Sex.OTHER),
    )


@dataclass(frozen=True)
class Composition:
    workers: BySex
    management: BySex
    women_share_of_worker_members: float | None
    women_share_of_workforce: float | None
    women_under_represented: bool | None  # None when either share is unknown


def composition(
    members: list[Member], on: date, *, workforce_women: int | None, workforce_total: int | None
) -> Composition:
    serving = [m for m in members if m.serving(on)]
    workers = count_by_sex([m.sex for m in serving if m.side is Side.WORKER])
    management = count_by_sex([m.sex for m in serving if m.side is Side.MANAGEMENT])
    member_share = round(workers.women / workers.total, 4) if workers.total else None
    workforce_share = (
        round(workforce_women / workforce_total, 4) if workforce_women is not None and workforce_total else None
    )
    below = None if member_share is None or workforce_share is None else member_share < workforce_share
    return Composition(workers, management, member_share, workforce_share, below)


def check_attendance(attendee_ids: list[uuid.UUID], members: list[Member], on: date) -> None:
    """Everyone attending is a member serving on the meeting's day."""
    serving = {m.id for m in members if m.serving(on)}
    strangers = [a for a in attendee_ids if a not in serving]
    if strangers:
        raise CommitteeRuleError(f"{len(strangers)} attendee(s) are not members serving on {on.isoformat()}")
    if len(set(attendee_ids)) != len(attendee_ids):
        raise CommitteeRuleError("an attendee is listed twice")
