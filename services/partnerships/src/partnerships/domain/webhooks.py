"""Signed webhooks, the rules without I/O: secrets, signatures, bodies, retries, disabling, target URLs.

Deliveries follow the Standard Webhooks specification
(https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md):
headers `webhook-id`, `webhook-timestamp` (Unix seconds) and `webhook-signature`
(`v1,<base64 HMAC-SHA256>` of `"{id}.{timestamp}.{body}"` keyed with the base64-decoded secret,
several space-separated while a rotated secret still overlaps). A receiver verifies with any
Standard Webhooks library; the tests do so with the `standardwebhooks` package.

DNS lookups happen in the sender (`adapters/webhook_sender.py`); here only the resulting addresses are judged.
"""

from __future__ import annotations

import base64
import email.utils
import hashlib
import hmac
import ipaddress
import json
import secrets
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any, Protocol
from urllib.parse import urlsplit

# ---- what can be subscribed to ---------------------------------------------------------------------------------

# Every event type this service sends to endpoints, and which owners (`buyer`, `service`) may ever receive it.
# Each is filtered by authorization when it is queued (see README, "Webhooks"): an alert goes to the buyers alerted
# and the protocol parties named; a release only to buyers whose report access for that factory and cycle is
# granted; an access change only to the buyer concerned; a case update only to the protocol parties of the case.
EVENT_AUDIENCES: dict[str, frozenset[str]] = {
    "alert.raised": frozenset({"buyer", "service"}),
    "assessment.released": frozenset({"buyer"}),
    "report_access.granted": frozenset({"buyer"}),
    "report_access.revoked": frozenset({"buyer"}),
    "progress_report_access.granted": frozenset({"buyer"}),
    "progress_report_access.revoked": frozenset({"buyer"}),
    "zero_tolerance.case_updated": frozenset({"service"}),
    "zero_tolerance.case_not_confirmed": frozenset({"service"}),
}
EVENT_TYPES: tuple[str, ...] = tuple(EVENT_AUDIENCES)  # the event types this service sends to endpoints
ANY_EVENT = "*"
SUBSCRIBABLE: tuple[str, ...] = (*EVENT_TYPES, ANY_EVENT)  # what an endpoint's `event_types` may hold


def subscribes(event_types: Iterable[str], event_type: str) -> bool:
    return any(t in (event_type, ANY_EVENT) for t in event_types)


def never_received(event_types: Iterable[str], owner_type: str) -> list[str]:
    """The types among `event_types` an owner of `owner_type` can never be sent (`*` means those it can)."""
    return sorted({t for t in event_types if t != ANY_EVENT and owner_type not in EVENT_AUDIENCES.get(t, ())})


# ---- secrets ---------------------------------------------------------------------------------------------------

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32  # the spec asks for 24 to 64 random bytes
DEFAULT_SECRET_OVERLAP = timedelta(hours=24)


def generate_secret(nbytes: int = SECRET_BYTES) -> str:
    """A fresh signing secret as Standard Webhooks libraries take it: `whsec_` + base64 of random bytes."""
    if not 24 <= nbytes <= 64:
        raise ValueError("a webhook secret has 24 to 64 random bytes")
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(nbytes)).decode()


@lru_cache(maxsize=4096)
def _key(secret: str) -> bytes:
    """The HMAC key of a secret (decoded once per secret: every delivery signs with it)."""
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


class SecretBox(Protocol):
    """Seals secrets for storage and opens them again (the deployment's key; see `adapters/secret_box.py`)."""

    def seal(self, secret: str) -> str: ...

    def open(self, sealed: str) -> str: ...


@dataclass(frozen=True)
class EndpointSecret:
    """One signing secret of an endpoint; a rotated-out one signs alongside the new one until `expires_at`."""

    secret: str
    created_at: datetime
    expires_at: datetime | None = None

    def active(self, now: datetime) -> bool:
        return self.expires_at is None or now < self.expires_at

    def to_json(self, box: SecretBox | None = None) -> dict[str, Any]:
        """As stored: sealed when the deployment has a key, as it is otherwise."""
        value = {"sealed": box.seal(self.secret)} if box is not None else {"secret": self.secret}
        return {
            **value,
            "created_at": self.created_at.isoformat(),
            "expires_at": self.expires_at.isoformat() if self.expires_at else None,
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any], box: SecretBox | None = None) -> EndpointSecret:
        if "sealed" in raw:
            if box is None:
                raise ValueError("this secret is sealed; the deployment's webhook secret key opens it")
            secret = box.open(raw["sealed"])
        else:
            secret = raw["secret"]
        expires = raw.get("expires_at")
        return cls(
            secret=secret,
            created_at=datetime.fromisoformat(raw["created_at"]),
            expires_at=datetime.fromisoformat(expires) if expires else None,
        )


def secrets_of(raw: Iterable[Mapping[str, Any]], box: SecretBox | None = None) -> list[EndpointSecret]:
    return [EndpointSecret.from_json(r, box) for r in raw]


def secret_dates(raw: Iterable[Mapping[str, Any]]) -> list[dict[str, datetime | None]]:
    """When each stored secret was made and stops signing (never its value, sealed or not)."""
    return [
        {
            "created_at": datetime.fromisoformat(r["created_at"]),
            "expires_at": datetime.fromisoformat(r["expires_at"]) if r.get("expires_at") else None,
        }
        for r in raw
    ]


def first_secret(now: datetime) -> tuple[list[EndpointSecret], str]:
    """An endpoint's secrets at registration, and the secret to show once."""
    secret = generate_secret()
    return [EndpointSecret(secret, now)], secret


def rotate(
    current: Sequence[EndpointSecret], *, now: datetime, overlap: timedelta = DEFAULT_SECRET_OVERLAP
) -> tuple[list[EndpointSecret], str]:
    """A new secret first; secrets still in use keep signing for `overlap` more (or less, if they ended sooner).

    The overlap lets the receiver switch to the new secret without rejecting a single delivery: during it
    every delivery carries one signature per live secret. An overlap of zero retires the old ones at once
    (for a secret that leaked). Expired secrets are dropped here, so the list never grows.
    """
    if overlap < timedelta(0):
        raise ValueError("the overlap cannot be negative")
    ends = now + overlap
    retiring = [
        EndpointSecret(s.secret, s.created_at, ends if s.expires_at is None or s.expires_at > ends else s.expires_at)
        for s in current
    ]
    secret = generate_secret()
    return [EndpointSecret(secret, now), *(s for s in retiring if s.active(now))], secret


def signing_secrets(current: Iterable[EndpointSecret], now: datetime) -> list[str]:
    return [s.secret for s in current if s.active(now)]


# ---- signatures and bodies -------------------------------------------------------------------------------------


def sign(secret: str, msg_id: str, timestamp: int, body: str) -> str:
    """One `v1,<base64>` signature of a delivery (Standard Webhooks, symmetric scheme)."""
    digest = hmac.new(_key(secret), f"{msg_id}.{timestamp}.{body}".encode(), hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_header(signing: Iterable[str], msg_id: str, timestamp: int, body: str) -> str:
    """The `webhook-signature` value: one signature per live secret, space-separated (newest first)."""
    return " ".join(sign(secret, msg_id, timestamp, body) for secret in signing)


def delivery_headers(signing: Sequence[str], msg_id: str, timestamp: int, body: str) -> dict[str, str]:
    if not signing:
        raise ValueError("an endpoint without a live secret cannot be delivered to")
    return {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(signing, msg_id, timestamp, body),
    }


def _json_default(value: Any) -> Any:
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    if isinstance(value, datetime):
        return iso8601(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, set | frozenset | tuple):
        return sorted(value) if isinstance(value, set | frozenset) else list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def iso8601(at: datetime) -> str:
    """UTC, `Z`-suffixed, as in the spec's examples (`2022-11-03T20:26:10.344522Z`)."""
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def build_body(event_type: str, data: Mapping[str, Any], at: datetime) -> str:
    """The payload `{"type", "timestamp", "data"}`, serialised once and compactly.

    The exact string is stored with the message: every attempt sends (and signs) the same bytes, so
    a receiver's signature check never depends on how the JSON was re-encoded.
    """
    payload = {"type": event_type, "timestamp": iso8601(at), "data": dict(data)}
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False, default=_json_default)


# ---- retries and disabling -------------------------------------------------------------------------------------

# Delay before each retry: a receiver that is down for a deploy is caught within minutes, one that is down
# for a day still gets every message. 11 attempts over about 23.7 hours in all.
RETRY_SCHEDULE: tuple[timedelta, ...] = (
    timedelta(seconds=5),
    timedelta(seconds=30),
    timedelta(minutes=2),
    timedelta(minutes=10),
    timedelta(minutes=30),
    timedelta(hours=1),
    timedelta(hours=2),
    timedelta(hours=4),
    timedelta(hours=8),
    timedelta(hours=8),
)
MAX_ATTEMPTS = len(RETRY_SCHEDULE) + 1


# A receiver's Retry-After is honoured up to this: longer would let one answer park a message for the whole day.
MAX_RETRY_AFTER = timedelta(hours=1)
RETRY_AFTER_STATUSES = frozenset({429, 503})


def next_delay(attempt: int, *, scale: float = 1.0, retry_after: timedelta | None = None) -> timedelta | None:
    """How long after failed attempt number `attempt` (1 = the first) to try again; None: give up.

    `scale` shrinks the whole schedule (tests run it in milliseconds). A receiver that asked for more time
    (`retry_after`, see `parse_retry_after`) gets it, up to `MAX_RETRY_AFTER`; never less than the schedule.
    """
    if attempt < 1:
        raise ValueError("attempts are counted from 1")
    if attempt > len(RETRY_SCHEDULE):
        return None
    scheduled = RETRY_SCHEDULE[attempt - 1] * scale
    if retry_after is None:
        return scheduled
    return max(scheduled, min(retry_after, MAX_RETRY_AFTER))


def parse_retry_after(status_code: int | None, value: str | None, now: datetime) -> timedelta | None:
    """The wait a 429 or 503 asks for in its Retry-After header (RFC 9110 §10.2.3): seconds or an HTTP date.

    None when there is no usable header or the status does not carry one; a date in the past means no wait.
    """
    if status_code not in RETRY_AFTER_STATUSES or not value:
        return None
    value = value.strip()
    if value.isdigit():
        return timedelta(seconds=int(value))
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None  # an HTTP date is always GMT; one without a zone is not one
    return max(when - now, timedelta(0))


def is_success(status_code: int | None) -> bool:
    """Only a 2xx counts: redirects are not followed (they could lead to an address never checked)."""
    return status_code is not None and 200 <= status_code < 300


def consecutive_failures(previous: int, outcomes: Iterable[bool]) -> int:
    """Failures in a row after `outcomes` (True = delivered), in the order the attempts ended."""
    count = previous
    for ok in outcomes:
        count = 0 if ok else count + 1
    return count


DEFAULT_DISABLE_AFTER = 20


def should_disable(failures_in_a_row: int, disable_after: int = DEFAULT_DISABLE_AFTER) -> bool:
    """An endpoint that failed this many attempts in a row is switched off until its owner enables it again.

    Counting attempts rather than messages means a receiver that is gone for good stops costing retries
    within hours, while one that failed a single message's early retries is not touched.
    """
    return failures_in_a_row >= disable_after


def disable_notice(failures_in_a_row: int, last_status_code: int | None, last_error: str | None) -> str:
    """The notice an owner reads on the disabled endpoint."""
    last = f"HTTP {last_status_code}" if last_status_code is not None else (last_error or "no answer")
    return (
        f"disabled after {failures_in_a_row} consecutive failed deliveries; last: {last}. "
        "Fix the receiver, then enable the endpoint again (PATCH with enabled=true) and redeliver what it missed."
    )


# ---- target URLs -----------------------------------------------------------------------------------------------


class TargetRefused(ValueError):
    """A URL or address this deployment will not deliver to; the message says why, for the owner."""


MAX_URL_LENGTH = 2000
_LOCAL_NAMES = ("localhost", "localhost.localdomain")
_LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".home.arpa")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052 well-known prefix: the IPv4 address is the last 32 bits
# Forms that carry an IPv4 address in their last 32 bits: IPv4-compatible (deprecated, RFC 4291) and
# IPv4-translated (RFC 2765). Packets to them reach the embedded IPv4 address through a translator.
_LOW32_EMBEDDING = (ipaddress.ip_network("::/96"), ipaddress.ip_network("::ffff:0:0:0/96"))
# Local-use NAT64 (RFC 8215): the operator picks where the IPv4 address sits, so it cannot be judged.
_LOCAL_NAT64 = ipaddress.ip_network("64:ff9b:1::/48")
DEFAULT_PORTS = (443,)


@dataclass(frozen=True)
class Target:
    """A checked URL: what the service resolves and where it connects."""

    url: str
    scheme: str
    host: str  # lower case, without IPv6 brackets
    port: int
    is_ip_literal: bool


def check_url(url: str, *, allow_private: bool, ports: Sequence[int] | None = None) -> Target:
    """Refuse what can never be a public HTTPS receiver; the addresses a name resolves to are judged later.

    Only `ports` are accepted (443 unless configured), so a webhook cannot probe other services of a public
    host. With `allow_private` (local runs, tests) plain HTTP, any host and, unless `ports` is given, any
    port are fine (local receivers listen on high ports).
    """
    if len(url) > MAX_URL_LENGTH:
        raise TargetRefused(f"The URL is longer than {MAX_URL_LENGTH} characters.")
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise TargetRefused(f"The URL is not valid: {exc}.") from exc
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http"):
        raise TargetRefused("The URL must start with https://.")
    if scheme != "https" and not allow_private:
        raise TargetRefused("Webhook URLs must use HTTPS.")
    if parts.username is not None or parts.password is not None:
        raise TargetRefused("The URL must not carry a user name or password; authenticate with the signature.")
    if parts.fragment:
        raise TargetRefused("The URL must not have a fragment (#...).")
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise TargetRefused("The URL has no host.")
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    local = host in _LOCAL_NAMES or host.endswith(_LOCAL_SUFFIXES) or "." not in host
    if literal is None and local and not allow_private:
        raise TargetRefused(f"{host} is a local name; webhook URLs must name a public host.")
    target = Target(
        url=url.strip(),
        scheme=scheme,
        host=host,
        port=port or (443 if scheme == "https" else 80),
        is_ip_literal=literal is not None,
    )
    allowed = ports if ports is not None else (None if allow_private else DEFAULT_PORTS)
    if allowed is not None and target.port not in allowed:
        names = ", ".join(str(p) for p in allowed)
        raise TargetRefused(f"Port {target.port} is not accepted for webhooks; use {names}.")
    if literal is not None:
        check_addresses(target, [host], allow_private=allow_private)
    return target


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one stands for (mapped, compatible, translated, 6to4, NAT64), which is where
    packets really go."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64 or any(address in net for net in _LOW32_EMBEDDING):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_public(address: str) -> bool:
    """A globally routable unicast address: not private, loopback, link-local, shared, reserved or multicast."""
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in _LOCAL_NAT64 or ip.teredo is not None:
            return False
        if (embedded := _embedded_ipv4(ip)) is not None:
            ip = embedded
    return ip.is_global and not ip.is_multicast and not ip.is_unspecified


def check_addresses(target: Target, addresses: Sequence[str], *, allow_private: bool) -> None:
    """Every address the host resolves to must be public: one private answer is enough for a rebinding attack."""
    if not addresses:
        raise TargetRefused(f"{target.host} does not resolve to any address.")
    if allow_private:
        return
    for address in addresses:
        if not is_public(address):
            raise TargetRefused(
                f"{target.host} resolves to {address}, a private, loopback or reserved address; "
                "webhooks are delivered only to public addresses."
            )
