"""CloudEvents 1.0 in Kafka binary mode.

Spec: https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/bindings/kafka-protocol-binding.md
(section 3.2: attributes as `ce_` headers, `content-type` for datacontenttype,
the value is the data). Extensions `country` and `correlationid` travel as
`ce_country` and `ce_correlationid`; the W3C `traceparent` header carries the
creation context of the event (OpenTelemetry messaging conventions).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from messaging.errors import InvalidEnvelope

SPECVERSION = "1.0"
CONTENT_TYPE = "application/json"
REQUIRED = ("ce_id", "ce_source", "ce_specversion", "ce_type")


@dataclass(frozen=True)
class Envelope:
    id: str
    source: str
    type: str
    subject: str | None
    time: datetime | None
    country: str | None
    correlation_id: str | None
    traceparent: str | None
    tracestate: str | None
    headers: dict[str, str]

    @classmethod
    def from_headers(cls, raw: Sequence[tuple[str, bytes]] | None) -> Envelope:
        try:
            headers = {k.lower(): v.decode() for k, v in (raw or ())}
        except UnicodeDecodeError as exc:
            raise InvalidEnvelope("a header is not UTF-8") from exc
        missing = [h for h in REQUIRED if not headers.get(h)]
        if missing:
            raise InvalidEnvelope(f"missing CloudEvents header(s): {', '.join(missing)}")
        if headers["ce_specversion"] != SPECVERSION:
            raise InvalidEnvelope(f"unsupported ce_specversion {headers['ce_specversion']!r}")
        content_type = headers.get("content-type", CONTENT_TYPE)
        if not content_type.startswith(CONTENT_TYPE):
            raise InvalidEnvelope(f"unsupported content-type {content_type!r}")
        time = None
        if headers.get("ce_time"):
            try:
                time = datetime.fromisoformat(headers["ce_time"].replace("Z", "+00:00"))
            except ValueError as exc:
                raise InvalidEnvelope("ce_time is not an RFC 3339 timestamp") from exc
        return cls(
            id=headers["ce_id"],
            source=headers["ce_source"],
            type=headers["ce_type"],
            subject=headers.get("ce_subject"),
            time=time,
            country=headers.get("ce_country"),
            correlation_id=headers.get("ce_correlationid"),
            traceparent=headers.get("traceparent"),
            tracestate=headers.get("tracestate"),
            headers=headers,
        )


def build_headers(
    *,
    event_id: str,
    source: str,
    event_type: str,
    subject: str,
    time: datetime,
    country: str | None,
    correlation_id: str | None,
    trace_carrier: dict[str, str],
) -> dict[str, str]:
    """The Kafka headers of one event, as stored in the outbox row (the relay only encodes them)."""
    headers = {
        "ce_id": event_id,
        "ce_source": source,
        "ce_specversion": SPECVERSION,
        "ce_type": event_type,
        "ce_time": time.isoformat().replace("+00:00", "Z"),
        "ce_subject": subject,
        "content-type": CONTENT_TYPE,
    }
    if country:
        headers["ce_country"] = country
    if correlation_id:
        headers["ce_correlationid"] = correlation_id
    for key in ("traceparent", "tracestate"):
        if trace_carrier.get(key):
            headers[key] = trace_carrier[key]
    return headers
