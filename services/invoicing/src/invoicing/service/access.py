"""Who may do what in invoicing (issue 15, item 8).

- Finance staff: staff of the invoice's country holding the scope `invoicing:finance` (the setting
  `INVOICING_FINANCE_SCOPE`), or an admin. They create drafts, issue, record payments, credit, write off,
  enter programme costs and exchange rates.
- Staff of the country (any): create price list versions, read the country's invoices and wallets.
- A buyer sees its own wallet and invoices and spends its own credits; a factory sees its own invoices.
- Nothing crosses tenants: an invoice the caller may not see is answered 404, so ids do not leak.
"""

from __future__ import annotations

import uuid

from invoicing.domain.invoice import CustomerKind, Invoice
from invoicing.settings import InvoicingSettings
from servicekit.auth import Principal, Role, check_staff
from servicekit.errors import Forbidden, NotFound


def check_finance(principal: Principal, settings: InvoicingSettings, country: str) -> None:
    """Finance staff of `country` (and of this instance's country, when it has one), or an admin."""
    check_staff(principal, country, instance_country=settings.country)
    if not principal.is_admin and not principal.has_scopes(settings.finance_scope):
        raise Forbidden(f"Only finance staff may do this: the token lacks the scope {settings.finance_scope}.")


def customer_of(principal: Principal) -> tuple[CustomerKind, uuid.UUID] | None:
    """The buyer or factory the caller acts for (None for staff, services and admins)."""
    for role, kind in ((Role.BUYER, CustomerKind.BUYER), (Role.FACTORY, CustomerKind.FACTORY)):
        organisation = principal.organisation(role)
        if organisation is not None:
            return kind, organisation
    return None


def may_see(principal: Principal, invoice: Invoice) -> bool:
    if principal.is_staff_of(invoice.country):
        return True
    return customer_of(principal) == (invoice.customer.kind, invoice.customer.id)


def require_visible(principal: Principal, invoice: Invoice | None, invoice_id: uuid.UUID) -> Invoice:
    if invoice is None or not may_see(principal, invoice):
        raise NotFound(f"No invoice {invoice_id}.")
    return invoice


def wallet_owner(principal: Principal, buyer_id: uuid.UUID | None) -> uuid.UUID:
    """The buyer whose wallet the caller acts on: its own as a buyer; any, named, as staff or admin."""
    own = principal.organisation(Role.BUYER)
    if own is not None and not principal.has_any_role(Role.STAFF):
        if buyer_id is not None and buyer_id != own:
            raise NotFound(f"No wallet of buyer {buyer_id}.")
        return own
    if buyer_id is None:
        raise Forbidden("Name the buyer whose wallet this is (`buyer_id`).")
    if not principal.has_any_role(Role.STAFF):
        raise NotFound(f"No wallet of buyer {buyer_id}.")
    return buyer_id
