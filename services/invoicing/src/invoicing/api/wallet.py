"""A buyer's wallet over HTTP: buy credits, spend one on a factory cycle, see the ledger; staff reverse."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request

from invoicing.api.schemas import (
    EntryOut,
    InvoiceOut,
    LotOut,
    PurchaseCreate,
    PurchaseOut,
    ReversalIn,
    SpendCreate,
    SpendOut,
    WalletOut,
)
from invoicing.service import wallet
from invoicing.service.invoices import today
from invoicing.settings import InvoicingSettings
from servicekit.edge import AnyPrincipal, StaffPrincipal, UnitOfWorkDep, settings_of
from servicekit.errors import PROBLEM_RESPONSES

router = APIRouter(prefix="/v1/wallet", tags=["wallet"], responses=PROBLEM_RESPONSES)


@router.post("/purchases", status_code=201, summary="Buy report credits")
async def buy_credits(
    body: PurchaseCreate, request: Request, uow: UnitOfWorkDep, principal: AnyPrincipal
) -> PurchaseOut:
    """An invoice for the credits, priced at the tier of the quantity and issued at once; the credits become
    spendable when it is paid."""
    invoice, lot = await wallet.buy_credits(
        uow,
        principal=principal,
        settings=settings_of(request, InvoicingSettings),
        buyer_id=body.buyer_id,
        quantity=body.quantity,
        country=body.country,
        billing=body.billing.domain() if body.billing else None,
    )
    return PurchaseOut(invoice=InvoiceOut.of(invoice), lot=LotOut.of(lot))


@router.post("/spends", status_code=201, summary="Spend one credit on a factory's reporting cycle")
async def spend_credit(body: SpendCreate, uow: UnitOfWorkDep, principal: AnyPrincipal) -> SpendOut:
    """Takes the credit that expires first; publishes `entitlement.purchased` (partnerships grants access)."""
    spent = await wallet.spend_credit(
        uow,
        wallet.SqlCreditLedger(uow),
        principal=principal,
        buyer_id=body.buyer_id,
        factory_id=body.factory_id,
        cycle=body.cycle,
    )
    return SpendOut(**spent.__dict__)


@router.get("", summary="The wallet: balance, lots and ledger entries")
async def get_wallet(uow: UnitOfWorkDep, principal: AnyPrincipal, buyer_id: uuid.UUID | None = None) -> WalletOut:
    """A buyer sees its own; staff name the buyer and see the credits their country's programme sold (404 if
    none); admins see all."""
    found = await wallet.wallet(uow, principal=principal, buyer_id=buyer_id)
    return WalletOut(
        buyer_id=found.buyer_id,
        balance=found.balance(today()),
        pending=found.pending(),
        lots=[LotOut.of(lot) for lot in found.lots],
        entries=[EntryOut(**{k: e[k] for k in EntryOut.model_fields}) for e in found.entries],
    )


@router.post("/{buyer_id}/entries/{entry_id}/reversal", status_code=201, summary="Give a spent credit back")
async def reverse_spend(
    buyer_id: uuid.UUID, entry_id: int, body: ReversalIn, request: Request, uow: UnitOfWorkDep, staff: StaffPrincipal
) -> EntryOut:
    """Finance staff; a correction entry, the spend itself stays in the ledger."""
    entry = await wallet.reverse_spend(
        uow,
        principal=staff,
        settings=settings_of(request, InvoicingSettings),
        buyer_id=buyer_id,
        entry_id=entry_id,
        reason=body.reason,
    )
    return EntryOut(**{k: entry[k] for k in EntryOut.model_fields})
