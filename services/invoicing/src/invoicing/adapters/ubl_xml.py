"""The issued document as UBL 2.1 XML (an `Invoice` or a `CreditNote`), for accounting systems that read it.

Built from the stored structured document with the standard library only; element names and order follow
the UBL 2.1 schema for the EN 16931 core terms this service fills.
"""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree as ET

NS = {
    "": "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}
CREDIT_NOTE_NS = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"


def _cbc(parent: ET.Element, name: str, text: object, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{NS['cbc']}}}{name}", attrs)
    element.text = str(text)
    return element


def _cac(parent: ET.Element, name: str) -> ET.Element:
    return ET.SubElement(parent, f"{{{NS['cac']}}}{name}")


def _party(parent: ET.Element, role: str, party: dict[str, Any]) -> None:
    node = _cac(_cac(parent, role), "Party")
    address = _cac(node, "PostalAddress")
    if party["PostalAddress"].get("AddressLine"):
        _cbc(_cac(address, "AddressLine"), "Line", party["PostalAddress"]["AddressLine"])
    _cbc(_cac(address, "Country"), "IdentificationCode", party["PostalAddress"]["Country"])
    _cbc(_cac(node, "PartyLegalEntity"), "RegistrationName", party["RegistrationName"])


def render(document: dict[str, Any]) -> bytes:
    credit_note = document["DocumentTypeCode"] == "381"
    root_ns = CREDIT_NOTE_NS if credit_note else NS[""]
    ET.register_namespace("cac", NS["cac"])
    ET.register_namespace("cbc", NS["cbc"])
    ET.register_namespace("", root_ns)
    root = ET.Element(f"{{{root_ns}}}{'CreditNote' if credit_note else 'Invoice'}")
    cur = document["DocumentCurrencyCode"]
    _cbc(root, "CustomizationID", document["CustomizationID"])
    _cbc(root, "ID", document["ID"])
    _cbc(root, "IssueDate", document["IssueDate"])
    if "DueDate" in document:
        _cbc(root, "DueDate", document["DueDate"])
    _cbc(root, "CreditNoteTypeCode" if credit_note else "InvoiceTypeCode", document["DocumentTypeCode"])
    if document.get("Note"):
        _cbc(root, "Note", document["Note"])
    _cbc(root, "DocumentCurrencyCode", cur)
    if credit_note:
        _cbc(
            _cac(_cac(root, "BillingReference"), "InvoiceDocumentReference"),
            "ID",
            document["BillingReference"]["InvoiceDocumentReference"]["ID"],
        )
    _party(root, "AccountingSupplierParty", document["AccountingSupplierParty"])
    _party(root, "AccountingCustomerParty", document["AccountingCustomerParty"])
    if "PaymentTerms" in document:
        _cbc(_cac(root, "PaymentTerms"), "Note", document["PaymentTerms"]["Note"])
    tax = _cac(root, "TaxTotal")
    _cbc(tax, "TaxAmount", document["TaxTotal"]["TaxAmount"], currencyID=cur)
    totals = _cac(root, "LegalMonetaryTotal")
    for name in ("LineExtensionAmount", "TaxExclusiveAmount", "TaxInclusiveAmount", "PayableAmount"):
        _cbc(totals, name, document["LegalMonetaryTotal"][name], currencyID=cur)
    for line in document["InvoiceLines"]:
        node = _cac(root, "CreditNoteLine" if credit_note else "InvoiceLine")
        _cbc(node, "ID", line["ID"])
        _cbc(
            node,
            "CreditedQuantity" if credit_note else "InvoicedQuantity",
            line["InvoicedQuantity"],
            unitCode=line["UnitCode"],
        )
        _cbc(node, "LineExtensionAmount", line["LineExtensionAmount"], currencyID=cur)
        if "DocumentReference" in line:  # BT-128, with its scheme; type code 130 (invoiced object)
            reference = _cac(node, "DocumentReference")
            _cbc(reference, "ID", line["DocumentReference"]["ID"], schemeID=line["DocumentReference"]["SchemeID"])
            _cbc(reference, "DocumentTypeCode", line["DocumentReference"]["DocumentTypeCode"])
        for allowance in line["AllowanceCharge"]:
            charge = _cac(node, "AllowanceCharge")
            _cbc(charge, "ChargeIndicator", "false")
            _cbc(charge, "AllowanceChargeReason", allowance["AllowanceChargeReason"])
            _cbc(charge, "MultiplierFactorNumeric", allowance["MultiplierFactorNumeric"])
            _cbc(charge, "Amount", allowance["Amount"], currencyID=cur)
        item = _cac(node, "Item")
        _cbc(item, "Name", line["Item"]["Name"])
        _cbc(_cac(item, "SellersItemIdentification"), "ID", line["Item"]["SellersItemIdentification"])
        _cbc(_cac(node, "Price"), "PriceAmount", line["Price"]["PriceAmount"], currencyID=cur)
    xml: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return xml
