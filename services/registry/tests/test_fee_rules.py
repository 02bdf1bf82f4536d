"""What unpaid fees do to an enrolment (no I/O)."""

import pytest

from registry.domain.enrolment import Status, SuspensionReason
from registry.domain.fees import FeeAction, on_overdue, on_settled


@pytest.mark.parametrize(
    ("status", "action"),
    [
        (Status.ENROLLED, FeeAction.SUSPEND),
        (Status.ACTIVE, FeeAction.SUSPEND),
        (Status.REGISTERED, FeeAction.NOTHING),
        (Status.SUSPENDED, FeeAction.NOTHING),
        (Status.EXITED, FeeAction.NOTHING),
    ],
)
def test_an_overdue_invoice_suspends_only_a_factory_in_service(status: Status, action: FeeAction) -> None:
    assert on_overdue(status) is action


def test_settling_lifts_only_a_suspension_for_unpaid_fees_and_only_when_nothing_else_suspends() -> None:
    assert on_settled(Status.SUSPENDED, SuspensionReason.UNPAID_FEES, 0) is FeeAction.REACTIVATE
    assert on_settled(Status.SUSPENDED, SuspensionReason.UNPAID_FEES, 1) is FeeAction.NOTHING
    assert on_settled(Status.SUSPENDED, SuspensionReason.PROGRAMME_DECISION, 0) is FeeAction.NOTHING
    assert on_settled(Status.SUSPENDED, None, 0) is FeeAction.NOTHING
    assert on_settled(Status.ACTIVE, SuspensionReason.UNPAID_FEES, 0) is FeeAction.NOTHING
    assert on_settled(Status.EXITED, SuspensionReason.UNPAID_FEES, 0) is FeeAction.NOTHING
