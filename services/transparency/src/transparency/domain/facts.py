"""What the service knows, as an append-only log of facts, and the one fold that turns a prefix of that log into a
snapshot. Releases are computed from a snapshot, so a release is reproducible from the log alone: the same prefix
(up to a recorded position and data cut-off) folds into the same snapshot, every time.

Facts are plain dictionaries as the handlers recorded them from registry, assessments and advisory events, and the
factories' own replies. Merges are followed: a merged factory's assessments, replies and verifications count for
the survivor, under the cycle numbers assessments gave the survivor's merged history (`cycles_renumbered`).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

FACTORY_REGISTERED = "factory_registered"
FACTORY_UPDATED = "factory_updated"
FACTORY_STATUS = "factory_status"
FACTORY_MERGED = "factory_merged"
ASSESSMENT_FINALISED = "assessment_finalised"
ASSESSMENT_REVISED = "assessment_revised"
ITEM_STATUS = "item_status"
REPLY = "reply"
CYCLES_RENUMBERED = "cycles_renumbered"

KINDS = (
    FACTORY_REGISTERED,
    FACTORY_UPDATED,
    FACTORY_STATUS,
    FACTORY_MERGED,
    ASSESSMENT_FINALISED,
    ASSESSMENT_REVISED,
    ITEM_STATUS,
    REPLY,
    CYCLES_RENUMBERED,
)
PROFILE_FIELDS = ("name", "province", "sector", "workers_total")


@dataclass(frozen=True)
class Fact:
    seq: int
    kind: str
    occurred_at: datetime
    payload: dict[str, Any]


@dataclass
class FactoryFacts:
    factory_id: uuid.UUID
    name: str
    country: str
    province: str | None = None
    sector: str | None = None
    workers_total: int | None = None
    status: str = "registered"
    merged_into: uuid.UUID | None = None


@dataclass(frozen=True)
class QuestionOutcome:
    result: str  # compliant, non_compliant, not_applicable
    compliance_point: str
    cluster: str
    publicly_reported: bool


@dataclass
class AssessmentFacts:
    assessment_id: uuid.UUID
    factory_id: uuid.UUID
    country: str
    cycle: int
    assessed_on: date  # last visit day, else the day it was finalised
    results: dict[str, QuestionOutcome] = field(default_factory=dict)


@dataclass(frozen=True)
class Reply:
    text: str
    at: datetime


@dataclass
class Snapshot:
    factories: dict[uuid.UUID, FactoryFacts] = field(default_factory=dict)
    assessments: dict[uuid.UUID, AssessmentFacts] = field(default_factory=dict)
    replies: dict[tuple[uuid.UUID, str], Reply] = field(default_factory=dict)
    verified: dict[tuple[uuid.UUID, str], datetime] = field(default_factory=dict)
    _replies_by_survivor: dict[tuple[uuid.UUID, str], Reply] | None = field(default=None, repr=False)
    _verified_by_survivor: dict[tuple[uuid.UUID, str], datetime] | None = field(default=None, repr=False)

    def survivor(self, factory_id: uuid.UUID) -> uuid.UUID:
        """The id a factory lives on as, following merges (a cycle of merges stops where it started)."""
        seen = {factory_id}
        current = factory_id
        while (known := self.factories.get(current)) is not None and known.merged_into is not None:
            if known.merged_into in seen:
                break
            current = known.merged_into
            seen.add(current)
        return current

    def assessments_of(self) -> dict[uuid.UUID, list[AssessmentFacts]]:
        """Assessments per surviving factory, oldest first."""
        found: dict[uuid.UUID, list[AssessmentFacts]] = {}
        for assessment in self.assessments.values():
            found.setdefault(self.survivor(assessment.factory_id), []).append(assessment)
        for items in found.values():
            items.sort(key=lambda a: (a.assessed_on, a.cycle, str(a.assessment_id)))
        return found

    def reply(self, factory_id: uuid.UUID, question_code: str) -> Reply | None:
        """The factory's newest reply on the question, its merged records' included."""
        if self._replies_by_survivor is None:
            self._replies_by_survivor = {}
            for (owner, code), reply in self.replies.items():
                key = (self.survivor(owner), code)
                held = self._replies_by_survivor.get(key)
                if held is None or reply.at > held.at:
                    self._replies_by_survivor[key] = reply
        return self._replies_by_survivor.get((factory_id, question_code))

    def verified_at(self, factory_id: uuid.UUID, question_code: str) -> datetime | None:
        """When an advisor last verified the fix of the question at the factory (None: not verified now)."""
        if self._verified_by_survivor is None:
            self._verified_by_survivor = {}
            for (owner, code), at in self.verified.items():
                key = (self.survivor(owner), code)
                self._verified_by_survivor[key] = max(at, self._verified_by_survivor.get(key, at))
        return self._verified_by_survivor.get((factory_id, question_code))


def fold(facts: Iterable[Fact], *, cut_off: datetime | None = None) -> Snapshot:
    """The snapshot of `facts` in log order, ignoring facts that happened after `cut_off`."""
    snapshot = Snapshot()
    for fact in facts:
        if cut_off is not None and fact.occurred_at > cut_off:
            continue
        _apply(snapshot, fact)
    return snapshot


def _uuid(value: Any) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _apply(snapshot: Snapshot, fact: Fact) -> None:
    p = fact.payload
    if fact.kind == FACTORY_REGISTERED:
        factory_id = _uuid(p["factory_id"])
        snapshot.factories[factory_id] = FactoryFacts(
            factory_id=factory_id,
            name=p["name"],
            country=p["country"],
            province=p.get("province"),
            sector=p.get("sector"),
            workers_total=p.get("workers_total"),
        )
    elif fact.kind in (FACTORY_UPDATED, FACTORY_STATUS, FACTORY_MERGED):
        known = snapshot.factories.get(_uuid(p["factory_id"]))
        if known is None:
            return
        if fact.kind == FACTORY_UPDATED:
            for name in PROFILE_FIELDS:
                if p.get(name) is not None:
                    setattr(known, name, p[name])
            for name in p.get("cleared", ()):
                if name in PROFILE_FIELDS[1:]:
                    setattr(known, name, None)
        elif fact.kind == FACTORY_STATUS:
            known.status = p["status"]
        else:
            known.merged_into = _uuid(p["survivor_id"])
    elif fact.kind == ASSESSMENT_FINALISED:
        assessment_id = _uuid(p["assessment_id"])
        snapshot.assessments[assessment_id] = AssessmentFacts(
            assessment_id=assessment_id,
            factory_id=_uuid(p["factory_id"]),
            country=p["country"],
            cycle=int(p["cycle"]),
            assessed_on=date.fromisoformat(p["assessed_on"]),
            results={
                r["question_code"]: QuestionOutcome(
                    result=r["result"],
                    compliance_point=r["compliance_point"],
                    cluster=r["cluster"],
                    publicly_reported=bool(r["publicly_reported"]),
                )
                for r in p["results"]
            },
        )
    elif fact.kind == ASSESSMENT_REVISED:
        assessment = snapshot.assessments.get(_uuid(p["assessment_id"]))
        if assessment is not None and (old := assessment.results.get(p["question_code"])) is not None:
            assessment.results[p["question_code"]] = QuestionOutcome(
                p["result"], old.compliance_point, old.cluster, old.publicly_reported
            )
    elif fact.kind == ITEM_STATUS:
        key = (_uuid(p["factory_id"]), p["question_code"])
        if p["status"] == "verified":
            snapshot.verified[key] = fact.occurred_at
        elif p["status"] in ("reopened", "disputed"):
            snapshot.verified.pop(key, None)
    elif fact.kind == REPLY:
        snapshot.replies[(_uuid(p["factory_id"]), p["question_code"])] = Reply(text=p["text"], at=fact.occurred_at)
    elif fact.kind == CYCLES_RENUMBERED:
        # after a merge assessments numbered the cycles of both records again by date: the survivor's history
        # counts each cycle once (two cycles 1 become 1 and 2), as the publication rules need
        moves = {(_uuid(m["factory_id"]), int(m["from_cycle"])): int(m["to_cycle"]) for m in p["moves"]}
        survivor = _uuid(p["factory_id"])
        for assessment in snapshot.assessments.values():
            new = moves.get((assessment.factory_id, assessment.cycle))
            if new is not None:
                assessment.factory_id, assessment.cycle = survivor, new
