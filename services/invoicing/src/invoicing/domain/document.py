"""The structured document of an issued invoice or credit note: EN 16931 business terms, in UBL 2.1 names.

It is built once, when the document is issued; its SHA-256 over the canonical JSON is stored beside it, so
the PDF and the XML, both rendered from it, show what was issued and nothing else. `problems` checks the
rules an accounting system relies on (mandatory terms, BR-CO-10 sum of lines, BR-CO-15 totals, amount due
and due date or terms, preceding invoice on a credit note).

The programme's fees are outside the scope of VAT here (category `O`); a country that charges VAT adds it
in its own price list version and the tax total follows.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from decimal import Decimal
from typing import Any

from invoicing.domain.invoice import DocumentType, Invoice
from invoicing.domain.issuers import IssuingEntity
from invoicing.domain.money import format_amount
from invoicing.domain.pricing import PricedLine

CUSTOMIZATION_ID = "urn:cen.eu:en16931:2017"


def build(invoice: Invoice, issuer: IssuingEntity, *, number: str, issue_date: date, due_date: date) -> dict[str, Any]:
    """The document as issued (`number`, dates and totals fixed from now on)."""
    cur = invoice.currency

    def amount(minor: int) -> str:
        return format_amount(minor, cur)

    credit_note = invoice.doc_type is DocumentType.CREDIT_NOTE
    total = invoice.total
    lines = [
        {
            "ID": str(i),  # BT-126
            "InvoicedQuantity": line.quantity,  # BT-129
            "UnitCode": "C62",  # BT-130: one (unit)
            "LineExtensionAmount": amount(line.net),  # BT-131
            "Item": {"Name": line.description, "SellersItemIdentification": line.service.value},  # BT-153, BT-155
            "Price": {"PriceAmount": amount(line.unit_price), "BaseQuantity": 1},  # BT-146
            "AllowanceCharge": [
                {
                    "ChargeIndicator": False,
                    "AllowanceChargeReason": d.reason,  # BT-139
                    "MultiplierFactorNumeric": str(Decimal(d.basis_points) / 100),  # BT-138 (percent)
                    "Amount": amount(d.amount),  # BT-136
                }
                for d in line.discounts
            ],
            "Tier": line.tier,
            "GrossAmount": amount(line.gross),
            **_object_identifier(line),
        }
        for i, line in enumerate(invoice.lines, start=1)
    ]
    document: dict[str, Any] = {
        "CustomizationID": CUSTOMIZATION_ID,  # BT-24
        "ID": number,  # BT-1
        "IssueDate": issue_date.isoformat(),  # BT-2
        "DocumentTypeCode": invoice.doc_type.type_code,  # BT-3: 380 invoice, 381 credit note
        "DocumentCurrencyCode": cur,  # BT-5
        "Note": invoice.reason,  # BT-22
        "AccountingSupplierParty": {  # BG-4 seller
            "RegistrationName": issuer.name,  # BT-27
            "CompanyID": issuer.code,  # BT-30
            "PostalAddress": {"AddressLine": issuer.address, "Country": issuer.country},  # BT-35, BT-40
            "ServiceDeliveredBy": issuer.delivered_by,
        },
        "AccountingCustomerParty": {  # BG-7 buyer
            "RegistrationName": invoice.customer.name,  # BT-44
            "PartyIdentification": str(invoice.customer.id),  # BT-46
            "PartyKind": invoice.customer.kind.value,
            "PostalAddress": {"AddressLine": invoice.customer.address, "Country": invoice.customer.country},  # BT-55
        },
        "TaxTotal": {
            "TaxAmount": amount(0),  # BT-110
            "TaxSubtotal": [{"TaxCategory": "O", "TaxableAmount": amount(total), "TaxAmount": amount(0)}],
            "TaxExemptionReason": "Not subject to VAT",  # BT-120
        },
        "LegalMonetaryTotal": {  # BG-22
            "LineExtensionAmount": amount(total),  # BT-106
            "TaxExclusiveAmount": amount(total),  # BT-109
            "TaxInclusiveAmount": amount(total),  # BT-112
            "PayableAmount": amount(0 if credit_note else total),  # BT-115
        },
        "InvoiceLines": lines,
    }
    if credit_note:
        document["BillingReference"] = {"InvoiceDocumentReference": {"ID": invoice.preceding_number}}  # BT-25
    else:
        document["DueDate"] = due_date.isoformat()  # BT-9
        document["PaymentTerms"] = {"Note": f"Net {invoice.terms_days} days"}  # BT-20
    if invoice.cycle is not None:
        document["InvoicePeriod"] = {"Description": f"Factory cycle {invoice.cycle}"}
    return document


def _object_identifier(line: PricedLine) -> dict[str, Any]:
    """BT-128 invoice line object identifier: the assessment a per-assessment line charges (absent otherwise)."""
    if line.assessment_id is None:
        return {}
    return {"DocumentReference": {"ID": str(line.assessment_id), "SchemeID": "assessment", "DocumentTypeCode": "130"}}


def canonical(document: dict[str, Any]) -> bytes:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def digest(document: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(document)).hexdigest()


_REQUIRED = (
    ("ID", "BT-1 invoice number"),
    ("IssueDate", "BT-2 issue date"),
    ("DocumentTypeCode", "BT-3 type code"),
    ("DocumentCurrencyCode", "BT-5 currency"),
)


def problems(document: dict[str, Any]) -> list[str]:
    """EN 16931 rules this service promises; an empty list means the document passes."""
    found = [f"{term} is missing" for key, term in _REQUIRED if not document.get(key)]
    if document.get("DocumentTypeCode") not in ("380", "381"):
        found.append("BT-3 must be 380 (invoice) or 381 (credit note)")
    seller = document.get("AccountingSupplierParty") or {}
    buyer = document.get("AccountingCustomerParty") or {}
    if not seller.get("RegistrationName"):
        found.append("BT-27 seller name is missing")
    if not (seller.get("PostalAddress") or {}).get("Country"):
        found.append("BT-40 seller country is missing")
    if not buyer.get("RegistrationName"):
        found.append("BT-44 buyer name is missing")
    if not (buyer.get("PostalAddress") or {}).get("Country"):
        found.append("BT-55 buyer country is missing")
    lines = document.get("InvoiceLines") or []
    if not lines:
        found.append("BG-25 an invoice has at least one line")
    for line in lines:
        if not line.get("ID") or not (line.get("Item") or {}).get("Name") or "LineExtensionAmount" not in line:
            found.append(f"line {line.get('ID')}: BT-126, BT-131 and BT-153 are mandatory")
    totals = document.get("LegalMonetaryTotal") or {}
    line_sum = sum((Decimal(line["LineExtensionAmount"]) for line in lines), Decimal(0))
    if Decimal(totals.get("LineExtensionAmount", "NaN")) != line_sum:
        found.append("BR-CO-10 BT-106 must equal the sum of the line net amounts")
    tax = Decimal((document.get("TaxTotal") or {}).get("TaxAmount", "0"))
    if Decimal(totals.get("TaxInclusiveAmount", "NaN")) != Decimal(totals.get("TaxExclusiveAmount", "NaN")) + tax:
        found.append("BR-CO-15 BT-112 must equal BT-109 plus BT-110")
    payable = Decimal(totals.get("PayableAmount", "NaN"))
    if payable > 0 and not (document.get("DueDate") or (document.get("PaymentTerms") or {}).get("Note")):
        found.append("BR-CO-25 an amount due needs a due date or payment terms")
    reference = ((document.get("BillingReference") or {}).get("InvoiceDocumentReference") or {}).get("ID")
    if document.get("DocumentTypeCode") == "381" and not reference:
        found.append("BT-25 a credit note names the invoice it credits")
    return found
