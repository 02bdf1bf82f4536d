"""The PDF people read, rendered from the issued structured document (so it shows what was issued, no more).

A small PDF 1.4 writer of our own: one or more A4 pages of text in the standard Helvetica font, which every
reader has, so no font is embedded and no library is needed. Text outside Latin-1 is shown with `?` (names in
local scripts stay exact in the structured document).
"""

from __future__ import annotations

from typing import Any

_PAGE_W, _PAGE_H, _MARGIN, _LEADING = 595, 842, 50, 14
_LINES_PER_PAGE = (_PAGE_H - 2 * _MARGIN) // _LEADING


def _escape(text: str) -> str:
    latin = text.encode("latin-1", errors="replace").decode("latin-1")
    return latin.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def text_lines(document: dict[str, Any]) -> list[tuple[str, str]]:
    """(style, text) lines of the document: style `h` for headings, `b` for body."""
    seller = document["AccountingSupplierParty"]
    buyer = document["AccountingCustomerParty"]
    totals = document["LegalMonetaryTotal"]
    cur = document["DocumentCurrencyCode"]
    title = "CREDIT NOTE" if document["DocumentTypeCode"] == "381" else "INVOICE"
    out = [("h", f"{title} {document['ID']}"), ("b", f"Issue date: {document['IssueDate']}")]
    if "DueDate" in document:
        out.append(("b", f"Due date: {document['DueDate']} ({document['PaymentTerms']['Note']})"))
    if "BillingReference" in document:
        out.append(("b", f"Credits invoice {document['BillingReference']['InvoiceDocumentReference']['ID']}"))
    if document.get("Note"):
        out.append(("b", f"Reason: {document['Note']}"))
    out += [
        ("b", ""),
        ("h", "From"),
        ("b", seller["RegistrationName"]),
        ("b", f"{seller['PostalAddress']['AddressLine']}, {seller['PostalAddress']['Country']}"),
        ("b", f"Service delivered by {seller['ServiceDeliveredBy']}"),
        ("b", ""),
        ("h", "To"),
        ("b", buyer["RegistrationName"]),
        (
            "b",
            ", ".join(p for p in (buyer["PostalAddress"].get("AddressLine"), buyer["PostalAddress"]["Country"]) if p),
        ),
        ("b", ""),
        ("h", "Lines"),
    ]
    for line in document["InvoiceLines"]:
        tier = f" (tier {line['Tier']})" if line.get("Tier") else ""
        out.append(("b", f"{line['ID']}. {line['Item']['Name']}{tier}"))
        out.append(
            (
                "b",
                f"    {line['InvoicedQuantity']} x {cur} {line['Price']['PriceAmount']} = {cur} {line['GrossAmount']}",
            )
        )
        for allowance in line["AllowanceCharge"]:
            out.append(("b", f"    less {allowance['AllowanceChargeReason']}: {cur} {allowance['Amount']}"))
        out.append(("b", f"    net {cur} {line['LineExtensionAmount']}"))
    out += [
        ("b", ""),
        ("h", f"Total {cur} {totals['TaxInclusiveAmount']}"),
        ("b", f"VAT: {document['TaxTotal']['TaxExemptionReason']}"),
        ("h", f"Amount due {cur} {totals['PayableAmount']}"),
    ]
    return out


def render(document: dict[str, Any]) -> bytes:
    lines = text_lines(document)
    pages = [lines[i : i + _LINES_PER_PAGE] for i in range(0, len(lines), _LINES_PER_PAGE)] or [[]]
    objects: list[bytes] = []  # object n is objects[n - 1]
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    kids_at = len(objects)
    objects.append(b"")  # the page tree, filled in below
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>")
    page_ids = []
    for page in pages:
        ops = ["BT", f"{_MARGIN} {_PAGE_H - _MARGIN} Td", f"{_LEADING} TL"]
        for style, text in page:
            ops.append(f"/{'F2' if style == 'h' else 'F1'} {12 if style == 'h' else 10} Tf")
            ops.append(f"({_escape(text)}) '")
        ops.append("ET")
        stream = "\n".join(ops).encode("latin-1")
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
        content_id = len(objects)
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] /Contents %d 0 R"
            b" /Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> >>" % (_PAGE_W, _PAGE_H, content_id)
        )
        page_ids.append(len(objects))
    kids = " ".join(f"{i} 0 R" for i in page_ids).encode()
    objects[kids_at] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, len(page_ids))
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref_at = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref_at)
    return bytes(out)
