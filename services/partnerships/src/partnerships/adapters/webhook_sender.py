"""The HTTP sender of webhooks: resolves and checks the target, pins the connection to the checked address,
signs and posts; keep-alive connections in a small pool per receiving origin.

Target URLs are checked again at each delivery (the name may now resolve elsewhere: DNS rebinding). In
production the connection then goes to the checked address itself, with the name kept for TLS (SNI and
certificate) and the Host header, so nothing can re-resolve in between.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import certifi
import httpx

from partnerships.adapters.secret_box import secret_box
from partnerships.domain import webhooks as rules
from partnerships.domain.deliveries import Outcome
from partnerships.settings import PartnershipsSettings

USER_AGENT = "BetterWork-Webhooks/1.0"
MAX_RESPONSE_BYTES = 64 * 1024  # read at most this much of an answer (a receiver could send gigabytes)
MAX_ERROR_CHARS = 500
DNS_TIMEOUT_S = 5.0

Resolver = Callable[[str, int], Awaitable[list[str]]]


async def resolve_host(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (IPv4 and IPv6), by the system resolver, within DNS_TIMEOUT_S."""
    loop = asyncio.get_running_loop()
    try:
        infos = await asyncio.wait_for(
            loop.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP), DNS_TIMEOUT_S
        )
    except (OSError, TimeoutError) as exc:
        raise rules.TargetRefused(f"{host} does not resolve ({exc}).") from exc
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


async def check_target(
    url: str, *, allow_private: bool, resolver: Resolver | None = None, ports: Sequence[int] | None = None
) -> list[str]:
    """Raise TargetRefused unless `url` is a target this deployment delivers to; the addresses it may use.

    With private targets allowed nothing is resolved (local names such as a compose service are fine).
    """
    target = rules.check_url(url, allow_private=allow_private, ports=ports)
    if allow_private:
        return []
    if target.is_ip_literal:
        return [target.host]
    addresses = await (resolver or resolve_host)(target.host, target.port)
    rules.check_addresses(target, addresses, allow_private=False)
    return addresses


@dataclass
class _OriginPool:
    """The connections to one origin: a small pool, never asked for more than it holds."""

    client: httpx.AsyncClient
    slots: asyncio.Semaphore
    in_flight: int = 0


class WebhookSender:
    """Signs and posts deliveries: keep-alive connections, a pool per origin, redirects never followed.

    A pool per origin rather than one shared pool: httpcore looks at every connection of a pool for every
    request, so one pool of a hundred connections costs several times more CPU per request than ten pools
    of ten (measured in bench/webhook_delivery.py). It also keeps one slow receiver from holding every
    connection: an origin gets at most `webhook_connections_per_host` at once, and tasks waiting for it
    hold no global slot.
    """

    MAX_POOLS = 512  # origins kept warm; the least recently used idle one is closed beyond that

    def __init__(self, settings: PartnershipsSettings, *, resolver: Resolver | None = None) -> None:
        self.box = secret_box(settings)
        self.settings = settings
        self._resolver = resolver or resolve_host
        self._slots = asyncio.Semaphore(settings.webhook_concurrency)
        self._pools: OrderedDict[tuple[str, str, int, str | None], _OriginPool] = OrderedDict()
        self._ssl = ssl.create_default_context(cafile=certifi.where())  # loaded once, shared by every pool
        self._closing: set[asyncio.Future[None]] = set()

    async def aclose(self) -> None:
        pools, self._pools = list(self._pools.values()), OrderedDict()
        for pool in pools:
            await pool.client.aclose()

    def _pool(self, url: httpx.URL, sni: str | None) -> _OriginPool:
        key = (url.scheme, url.host, url.port or (443 if url.scheme == "https" else 80), sni)
        pool = self._pools.get(key)
        if pool is None:
            per_host = self.settings.webhook_connections_per_host
            pool = self._pools[key] = _OriginPool(
                httpx.AsyncClient(
                    verify=self._ssl,
                    timeout=httpx.Timeout(self.settings.webhook_timeout_s),
                    limits=httpx.Limits(
                        max_connections=per_host, max_keepalive_connections=per_host, keepalive_expiry=30
                    ),
                    follow_redirects=False,
                    headers={"user-agent": USER_AGENT},
                    trust_env=False,  # a proxy from the environment would bypass the address checks
                ),
                asyncio.Semaphore(per_host),
            )
            self._evict()
        self._pools.move_to_end(key)
        return pool

    def _evict(self) -> None:
        for key in [k for k, p in self._pools.items() if p.in_flight == 0][: len(self._pools) - self.MAX_POOLS]:
            closing = asyncio.ensure_future(self._pools.pop(key).client.aclose())
            self._closing.add(closing)
            closing.add_done_callback(self._closing.discard)

    async def _route(
        self, url: str, dns: dict[tuple[str, int], asyncio.Task[list[str]]] | None
    ) -> tuple[httpx.URL, dict[str, str], str | None]:
        """Where to connect. Without private targets: the checked address itself, the name kept for TLS."""
        if self.settings.webhook_allow_private_targets:
            return httpx.URL(url), {}, None
        target = rules.check_url(url, allow_private=False, ports=self.settings.webhook_allowed_ports)
        if target.is_ip_literal:
            return httpx.URL(url), {}, None
        key = (target.host, target.port)
        cache = {} if dns is None else dns
        if key not in cache:
            cache[key] = asyncio.ensure_future(self._resolver(target.host, target.port))
        addresses = await asyncio.shield(cache[key])
        rules.check_addresses(target, addresses, allow_private=False)
        pinned = httpx.URL(url)
        host_header = pinned.netloc.decode("ascii")
        return pinned.copy_with(host=addresses[0]), {"host": host_header}, target.host

    async def send(
        self,
        *,
        url: str,
        signing: Sequence[str],
        msg_id: str,
        body: str,
        dns: dict[tuple[str, int], asyncio.Task[list[str]]] | None = None,
    ) -> Outcome:
        """One attempt; never raises for what the receiver or the network did (that is the outcome).

        Signed when it leaves (after any wait for a connection), so `webhook-timestamp` is fresh.
        """
        at = datetime.now(UTC)
        started = time.perf_counter()
        try:
            target, headers, sni = await self._route(url, dns)
            pool = self._pool(target, sni)
            async with pool.slots, self._slots:
                pool.in_flight += 1
                try:
                    at, started = datetime.now(UTC), time.perf_counter()
                    headers.update(rules.delivery_headers(signing, msg_id, int(time.time()), body))
                    request = pool.client.build_request(
                        "POST",
                        target,
                        content=body.encode(),
                        headers=headers,
                        extensions={"sni_hostname": sni} if sni else None,
                    )
                    response = await pool.client.send(request, stream=True)
                    try:
                        received = bytearray()
                        async for chunk in response.aiter_raw():
                            received += chunk
                            if len(received) >= MAX_RESPONSE_BYTES:
                                break
                    finally:
                        await response.aclose()
                finally:
                    pool.in_flight -= 1
            latency = (time.perf_counter() - started) * 1000
            error, retry_after = None, None
            if not rules.is_success(response.status_code):
                snippet = bytes(received[:200]).decode("utf-8", "replace").strip()
                error = f"HTTP {response.status_code}" + (f": {snippet}" if snippet else "")
                retry_after = rules.parse_retry_after(response.status_code, response.headers.get("retry-after"), at)
                if retry_after is not None:
                    error = f"{error} (asked to retry after {retry_after.total_seconds():g} s)"[:MAX_ERROR_CHARS]
            return Outcome(at, response.status_code, round(latency, 3), error, retry_after)
        except rules.TargetRefused as exc:
            return Outcome(at, None, None, f"refused: {exc}")
        except httpx.TimeoutException:
            latency = (time.perf_counter() - started) * 1000
            return Outcome(at, None, round(latency, 3), f"no answer within {self.settings.webhook_timeout_s:g} s")
        except (httpx.HTTPError, OSError, ValueError) as exc:
            latency = (time.perf_counter() - started) * 1000
            reason = str(exc) or type(exc).__name__
            return Outcome(at, None, round(latency, 3), f"{type(exc).__name__}: {reason}"[:MAX_ERROR_CHARS])
