"""What unpaid programme fees do to a factory's enrolment (DOMAIN.md section 5: overdue consequences).

Invoicing decides when an invoice is overdue enough to suspend the factory it bills and tells the registry
(`invoice.overdue` with action `suspend_factory`); it tells it again when the factory owes nothing that
suspends any more (`invoice.paid`, `invoice.written_off`, `credit_note.issued` with
`open_suspending_invoices` 0). The registry owns the enrolment, so the rule about what that means is here:

- overdue: an enrolled or active factory is suspended for `unpaid_fees`; a factory that is registered,
  already suspended (for whatever reason) or exited is left as it is.
- settled: a factory suspended for `unpaid_fees` is reactivated; one suspended for another reason stays
  suspended (paying a bill does not lift a programme decision), and any other status is left alone.
"""

from __future__ import annotations

from enum import Enum

from registry.domain.enrolment import Status, SuspensionReason


class FeeAction(Enum):
    SUSPEND = "suspend"
    REACTIVATE = "reactivate"
    NOTHING = "nothing"


def on_overdue(status: Status) -> FeeAction:
    return FeeAction.SUSPEND if status in (Status.ENROLLED, Status.ACTIVE) else FeeAction.NOTHING


def on_settled(status: Status, suspended_for: SuspensionReason | None, open_suspending_invoices: int) -> FeeAction:
    if open_suspending_invoices > 0 or status is not Status.SUSPENDED:
        return FeeAction.NOTHING
    return FeeAction.REACTIVATE if suspended_for is SuspensionReason.UNPAID_FEES else FeeAction.NOTHING
