"""The per-cycle service package of a factory: which cycle an enrolment bills next, and which drafts become
redundant when two factory records turn out to be one factory (a registry merge).

A package invoice is an invoice with a cycle and no assessment (a per-assessment charge also names its cycle,
but it is not a package). Cycles follow the factory's whole billing history, its merged records' included, so a
survivor of a merge continues the history instead of being charged a second initial package.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence

from invoicing.domain.invoice import DocumentType, Invoice, Status


def is_package(invoice: Invoice) -> bool:
    return invoice.doc_type is DocumentType.INVOICE and invoice.cycle is not None and invoice.assessment_id is None


def next_package_cycle(invoices: Iterable[Invoice]) -> int:
    """The cycle the factory's next service package is for: one after the last one billed."""
    return max((i.cycle or 0 for i in invoices if is_package(i)), default=0) + 1


def waiting_package_draft(invoices: Iterable[Invoice]) -> Invoice | None:
    """A package draft not yet issued: a further enrolment adds none beside it (finance staff issue this one)."""
    return next((i for i in invoices if is_package(i) and i.status is Status.DRAFT), None)


IN_ENROLMENT = frozenset({"enrolled", "active", "suspended"})


def redundant_package_drafts(invoices: Sequence[Invoice], *, duplicate_status: str) -> list[uuid.UUID]:
    """Package drafts a merge makes redundant: those of a cycle the factory is already charged for by another
    package (one that was issued first, else the earliest draft).

    Only when the duplicate was in an enrolment too: then both records stood for one service agreement, and two
    packages of one cycle would charge the one factory twice. A duplicate that had exited (or never enrolled)
    leaves history the survivor continues, and the survivor's own draft stays.
    """
    if duplicate_status not in IN_ENROLMENT:
        return []
    by_cycle: dict[int, list[Invoice]] = {}
    for invoice in invoices:
        if is_package(invoice) and invoice.status is not Status.VOID:
            by_cycle.setdefault(invoice.cycle or 0, []).append(invoice)
    redundant: list[uuid.UUID] = []
    for packages in by_cycle.values():
        _kept, *others = sorted(packages, key=lambda i: (i.status is Status.DRAFT, i.created_at, str(i.id)))
        redundant += [i.id for i in others if i.status is Status.DRAFT]
    return redundant
