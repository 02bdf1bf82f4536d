"""Which event type goes to which use case (the one place where they meet)."""

from betterwork_contracts.events.invoicing import CreditNoteIssued, InvoiceOverdue, InvoicePaid, InvoiceWrittenOff
from messaging.consumer import Handler
from registry.service import unpaid_fees

EVENT_HANDLERS: dict[str, Handler] = {
    InvoiceOverdue.type: unpaid_fees.suspend_for_unpaid_fees,
    InvoicePaid.type: unpaid_fees.reactivate_when_settled,
    InvoiceWrittenOff.type: unpaid_fees.reactivate_when_settled,
    CreditNoteIssued.type: unpaid_fees.reactivate_when_settled,
}
