"""Whether two records' enrolments allow a merge (DOMAIN.md section 1: enrolment lifecycle, merges). Pure.

A merge keeps the survivor's enrolment; the duplicate's ends with its record. So a merge that would leave the
real factory less enrolled than it is (an enrolled, active or suspended duplicate merged into a survivor that is
only registered, or exited) is refused, never reconciled silently: which service agreement holds is a decision
for staff (merge the other way round, re-enrol the survivor first, or exit the duplicate), and the refusal
names both states. When both are in an enrolment, or the duplicate is not, the survivor's state stands.
"""

from __future__ import annotations

from registry.domain.enrolment import Status

IN_ENROLMENT = frozenset({Status.ENROLLED, Status.ACTIVE, Status.SUSPENDED})


class EnrolmentConflict(ValueError):
    """The two records' enrolment states forbid the merge (409)."""

    def __init__(self, survivor: Status, merged: Status) -> None:
        self.survivor = survivor
        self.merged = merged
        super().__init__(
            f"the duplicate is {merged.value} but the survivor is {survivor.value}: merging would leave the factory "
            f"{survivor.value}; merge the other way round, re-enrol the survivor, or exit the duplicate first"
        )


def check_enrolments(survivor: Status, merged: Status) -> None:
    """Refuse a merge that would drop the duplicate's enrolment for a survivor outside any enrolment."""
    if merged in IN_ENROLMENT and survivor not in IN_ENROLMENT:
        raise EnrolmentConflict(survivor, merged)
