"""Signed webhooks, the rules on their own and the sender's routing: no database, no receiver.

Signatures are checked against the `standardwebhooks` package, an implementation of the scheme independent
of ours.
"""

from __future__ import annotations

import itertools
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks.webhooks import Webhook

from partnerships.adapters.webhook_sender import WebhookSender
from partnerships.domain import webhooks as rules
from partnerships.settings import PartnershipsSettings


def test_our_signature_is_the_reference_implementations() -> None:
    secret = rules.generate_secret()
    body = rules.build_body(
        "alert.raised", {"id": uuid.UUID(int=7), "at": datetime(2026, 1, 2, tzinfo=UTC)}, datetime.now(UTC)
    )
    msg_id, timestamp = "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", int(datetime.now(UTC).timestamp())
    reference = Webhook(secret).sign(msg_id, datetime.fromtimestamp(timestamp, UTC), body)
    assert rules.sign(secret, msg_id, timestamp, body) == reference
    assert json.loads(body)["data"] == {"id": str(uuid.UUID(int=7)), "at": "2026-01-02T00:00:00Z"}


async def test_without_private_targets_the_connection_goes_to_the_checked_address() -> None:
    settings = PartnershipsSettings(webhook_allow_private_targets=False, webhook_allowed_ports=[443, 8443])

    async def resolver(host: str, port: int) -> list[str]:
        assert (host, port) == ("hooks.example.org", 8443)
        return ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"]

    sender = WebhookSender(settings, resolver=resolver)
    try:
        url, headers, sni = await sender._route("https://Hooks.Example.org:8443/in?x=1", None)
    finally:
        await sender.aclose()
    assert str(url) == "https://93.184.215.14:8443/in?x=1"
    assert headers == {"host": "hooks.example.org:8443"} and sni == "hooks.example.org"


# ---- the rules on their own -----------------------------------------------------------------------------------------


def test_the_retry_schedule_spans_about_a_day() -> None:
    delays = []
    attempt = 1
    while (delay := rules.next_delay(attempt)) is not None:
        delays.append(delay)
        attempt += 1
    assert delays[0] == timedelta(seconds=5) and attempt == rules.MAX_ATTEMPTS
    assert timedelta(hours=23) < sum(delays, timedelta()) <= timedelta(hours=24)
    assert all(a <= b for a, b in itertools.pairwise(delays))
    assert rules.next_delay(2, scale=0.5) == timedelta(seconds=15)


def test_retry_after_stretches_the_schedule_within_bounds() -> None:
    now = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
    assert rules.parse_retry_after(429, "120", now) == timedelta(minutes=2)
    assert rules.parse_retry_after(503, "Sun, 22 Nov 2026 08:00:30 GMT", now) == timedelta(seconds=30)
    assert rules.parse_retry_after(503, "Sun, 22 Nov 2026 07:00:00 GMT", now) == timedelta(0)  # already past
    assert rules.parse_retry_after(500, "120", now) is None  # only 429 and 503 carry it
    assert rules.parse_retry_after(429, "soon", now) is None
    assert rules.parse_retry_after(429, "-5", now) is None
    assert rules.parse_retry_after(429, None, now) is None

    assert rules.next_delay(1, retry_after=timedelta(minutes=2)) == timedelta(minutes=2)
    assert rules.next_delay(6, retry_after=timedelta(minutes=2)) == timedelta(hours=1)  # never below the schedule
    assert rules.next_delay(1, retry_after=timedelta(days=3)) == rules.MAX_RETRY_AFTER
    assert rules.next_delay(rules.MAX_ATTEMPTS, retry_after=timedelta(seconds=1)) is None  # still gives up


def test_failures_in_a_row_reset_on_success() -> None:
    assert rules.consecutive_failures(3, [False, False]) == 5
    assert rules.consecutive_failures(3, [False, True, False]) == 1
    assert rules.should_disable(20) and not rules.should_disable(19)
    assert rules.should_disable(3, 3)


def test_rotation_keeps_live_secrets_for_the_overlap_only() -> None:
    now = datetime(2026, 5, 1, tzinfo=UTC)
    first, _ = rules.first_secret(now)
    second, s2 = rules.rotate(first, now=now, overlap=timedelta(hours=24))
    assert rules.signing_secrets(second, now) == [s2, first[0].secret]
    assert rules.signing_secrets(second, now + timedelta(hours=25)) == [s2]
    third, s3 = rules.rotate(second, now=now + timedelta(hours=30), overlap=timedelta(hours=24))
    assert [s.secret for s in third] == [s3, s2]  # the expired one is dropped, not carried along
    fourth, _ = rules.rotate(third, now=now + timedelta(hours=31), overlap=timedelta(hours=48))
    assert fourth[1].expires_at == now + timedelta(hours=79) and fourth[2].expires_at == now + timedelta(hours=54)


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.215.14", True),
        ("2606:2800:21f:cb07:6820:80da:af6b:8b2c", True),
        ("10.0.0.1", False),
        ("172.16.5.4", False),
        ("192.168.0.1", False),
        ("100.64.0.1", False),  # carrier-grade NAT
        ("127.0.0.1", False),
        ("0.0.0.0", False),
        ("169.254.169.254", False),  # cloud metadata
        ("224.0.0.1", False),
        ("::1", False),
        ("fe80::1%eth0", False),
        ("fd00::1", False),
        ("::ffff:10.0.0.1", False),
        ("64:ff9b::a00:1", False),  # NAT64 of 10.0.0.1
        ("2002:a00:1::", False),  # 6to4 of 10.0.0.1
    ],
)
def test_address_classification(address: str, public: bool) -> None:
    assert rules.is_public(address) is public


@pytest.mark.parametrize(
    "address",
    ["::127.0.0.1", "::ffff:0:7f00:1", "64:ff9b:1::a00:1", "64:ff9b::a00:1", "::ffff:10.0.0.1", "2002:7f00:1::"],
)
def test_ipv4_addresses_embedded_in_ipv6_are_judged_as_ipv4(address: str) -> None:
    assert not rules.is_public(address)


def test_public_addresses_in_embedding_forms_stay_public() -> None:
    assert rules.is_public("64:ff9b::8.8.8.8")
    assert rules.is_public("2606:4700::1111")


def test_only_configured_ports_are_accepted() -> None:
    assert rules.check_url("https://93.184.215.14/hook", allow_private=False).port == 443
    with pytest.raises(rules.TargetRefused, match="Port 8443"):
        rules.check_url("https://93.184.215.14:8443/hook", allow_private=False)
    assert rules.check_url("https://93.184.215.14:8443/hook", allow_private=False, ports=[443, 8443]).port == 8443
    # development: local receivers on high ports, unless ports are configured
    assert rules.check_url("http://127.0.0.1:8765/hook", allow_private=True).port == 8765
    with pytest.raises(rules.TargetRefused, match="Port 8765"):
        rules.check_url("http://127.0.0.1:8765/hook", allow_private=True, ports=[80, 443])
