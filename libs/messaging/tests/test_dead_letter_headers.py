"""Dead letters carry exactly the headers the AsyncAPI document promises, and a replay strips them all."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import yaml

from messaging.dlq import DeadLetter, dead_letter_headers, without_dead_letter_headers

ASYNCAPI = Path(__file__).resolve().parents[3] / "contracts" / "asyncapi.yaml"


def test_dead_letter_headers_are_the_documented_ones() -> None:
    original = [("ce_id", b"e-1"), ("x-dlq-reason", b"stale from an earlier death")]
    at = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)
    headers = dead_letter_headers(
        original,
        reason="schema-invalid",
        error=ValueError("name: field required"),
        topic="registry.factory",
        partition=3,
        offset=41,
        group="assessments",
        attempts=1,
        at=at,
    )
    document = yaml.safe_load(ASYNCAPI.read_text())
    promised = document["components"]["messages"]["dead-letter"]["headers"]
    written = [name for name, _ in headers if name.startswith("x-dlq-")]
    assert sorted(written) == sorted(promised["required"]) == sorted(promised["properties"])
    assert len(written) == len(set(written))  # the stale header from an earlier death is replaced, not repeated

    letter = DeadLetter("registry.factory.dlq.assessments", 0, 7, b"k", b"{}", tuple(headers))
    assert letter.reason == "schema-invalid" and letter.error == "ValueError: name: field required"
    assert letter.original_topic == "registry.factory" and letter.group == "assessments"
    assert letter.attempts == "1" and letter.failed_at == at.isoformat() and letter.event_id == "e-1"
    assert without_dead_letter_headers(headers) == [("ce_id", b"e-1")]
