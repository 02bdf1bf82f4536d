"""A small HTTP/1.1 keep-alive load generator for the benchmarks, cheap in CPU per request.

Standard library only (asyncio Protocols; uvloop is used by the command line when it is importable).
It opens `connections` raw TCP connections to a server on this machine, writes pre-rendered request
bytes and parses responses minimally: the status line, Content-Length / `Transfer-Encoding: chunked` /
read-until-close, and the `Connection` header. One request is in flight per connection (no pipelining),
and everything is driven from the protocols' callbacks: no task, future or timer per request.

- `run_closed_loop`: each connection sends its next request as soon as the previous one was answered;
  latency is measured from the send.
- `run_open_loop`: requests are scheduled at t0 + i / rate and wait for a free connection; latency is
  measured from the scheduled time, so a slow server cannot hide its queueing (no coordinated omission).
- `fetch`: one request on a fresh connection, for a benchmark's setup steps.

A connection the server closes (`Connection: close`, HTTP/1.0, idle time-out) is reopened transparently.
A request whose reused keep-alive connection was closed before any byte of the answer came back is sent
again once on a new connection (the usual keep-alive race; not counted as an error). Starlette does
that on every unhandled exception: its 500 says keep-alive, then uvicorn closes the connection. Any other lost
connection, a connect failure, a malformed response or a request timing out counts as one failed request.

Command line (a closed loop unless --rate is given):

    .venv/bin/python bench/loadgen.py --url http://127.0.0.1:8000/health --connections 8 --duration 5
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import importlib
import json
import math
import socket
import time
from collections.abc import Callable, Container, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, TypeAlias, cast
from urllib.parse import urlsplit

__all__ = ["DEFAULT_EXPECTED", "Request", "Result", "fetch", "run_closed_loop", "run_open_loop"]

DEFAULT_EXPECTED: Final[range] = range(200, 400)
DEFAULT_REQUEST_TIMEOUT_S: Final = 30.0
RECONNECT_BACKOFF_S: Final = 0.05
MAX_HEAD_BYTES: Final = 64 * 1024
PACING_TICK_S: Final = 0.001  # the open loop's pacer wakes at most once a millisecond
_BODY_METHODS: Final = frozenset({"POST", "PUT", "PATCH"})

_perf = time.perf_counter

# Response parser states.
_HEAD: Final = 0
_BODY_LENGTH: Final = 1
_BODY_UNTIL_CLOSE: Final = 2
_CHUNK_SIZE: Final = 3
_CHUNK_DATA: Final = 4
_CHUNK_CRLF: Final = 5
_CHUNK_TRAILER: Final = 6


@dataclass(frozen=True)
class Request:
    """One HTTP request; `render` turns it into the bytes written on the wire."""

    method: str
    path: str
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""

    @classmethod
    def of_json(cls, method: str, path: str, payload: object, headers: Mapping[str, str] | None = None) -> Request:
        """A request whose body is `payload` as compact JSON, with `Content-Type: application/json`."""
        merged = {"Content-Type": "application/json", **(headers or {})}
        return cls(method, path, merged, json.dumps(payload, separators=(",", ":")).encode())

    def render(self, host: str) -> bytes:
        """The full request: request line, Host, the headers, Content-Length, Connection: keep-alive, body.

        Host, Content-Length and Connection are added only when `headers` lacks them (any case).
        """
        names = {name.lower() for name in self.headers}
        lines = [f"{self.method} {self.path} HTTP/1.1"]
        if "host" not in names:
            lines.append(f"Host: {host}")
        lines.extend(f"{name}: {value}" for name, value in self.headers.items())
        if (
            "content-length" not in names
            and "transfer-encoding" not in names
            and (self.body or self.method.upper() in _BODY_METHODS)
        ):
            lines.append(f"Content-Length: {len(self.body)}")
        if "connection" not in names:
            lines.append("Connection: keep-alive")
        lines.append("\r\n")
        return "\r\n".join(lines).encode("latin-1") + self.body


def _nearest_rank(sorted_values: Sequence[float], fraction: float) -> float:
    if not sorted_values:
        return float("nan")
    rank = max(math.ceil(fraction * len(sorted_values) - 1e-9), 1)
    return sorted_values[min(rank, len(sorted_values)) - 1]


@dataclass
class Result:
    """What one run measured. Only requests sent after the warm-up are counted.

    `requests` counts every measured request that finished: answered (any status) or failed.
    `errors` counts transport failures (connect errors, lost connections, time-outs, malformed
    responses) plus answers whose status is not in the expected ones. `latencies_ms` has one entry per
    answered request, whatever its status. `cpu_s` is this process's CPU time (all threads) over the run.
    """

    requests: int = 0
    errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    latencies_ms: list[float] = field(default_factory=list)
    elapsed_s: float = 0.0
    first_error: str | None = None
    cpu_s: float = 0.0

    def rate(self) -> float:
        """Requests per second over `elapsed_s`."""
        return self.requests / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def percentile(self, fraction: float) -> float:
        """Nearest-rank percentile of the latencies in ms (`fraction` 0.5 is the median); nan when none."""
        return _nearest_rank(sorted(self.latencies_ms), fraction)

    def summary(self) -> str:
        """One line: count, time, rate, p50/p90/p99/max latency, statuses and errors."""
        ordered = sorted(self.latencies_ms)
        p50, p90, p99 = (_nearest_rank(ordered, f) for f in (0.5, 0.9, 0.99))
        peak = ordered[-1] if ordered else float("nan")
        statuses = {status: self.statuses[status] for status in sorted(self.statuses)}
        line = (
            f"{self.requests} requests in {self.elapsed_s:.2f} s = {self.rate():.1f} req/s; "
            f"p50 {p50:.2f} ms, p90 {p90:.2f} ms, p99 {p99:.2f} ms, max {peak:.2f} ms; "
            f"statuses {statuses}; errors {self.errors}"
        )
        if self.errors and self.first_error:
            line += f" (first: {self.first_error})"
        return line


RequestSource: TypeAlias = Callable[[int], Request] | Sequence[Request] | Request


class _Conn(asyncio.Protocol):
    """One TCP connection: sends one request at a time and parses the answer, then tells its driver."""

    __slots__ = (
        "attempt",
        "body_parts",
        "buf",
        "busy",
        "driver",
        "failure",
        "got_bytes",
        "head",
        "is_head",
        "keep_alive",
        "keep_body",
        "record",
        "remaining",
        "request",
        "sends",
        "served",
        "start",
        "state",
        "status",
        "transport",
    )

    def __init__(self, driver: _Driver, keep_body: bool = False) -> None:
        self.driver = driver
        self.keep_body = keep_body
        self.transport: asyncio.Transport | None = None
        self.busy = False
        self.request = b""
        self.start = 0.0
        self.record = False
        self.attempt = 0
        self.sends = 0
        self.served = 0
        self.got_bytes = False
        self.is_head = False
        self.failure: str | None = None
        self.buf = b""
        self.state = _HEAD
        self.status = 0
        self.remaining = 0
        self.keep_alive = True
        self.head = b""
        self.body_parts: list[bytes] = []

    # -- driver side --------------------------------------------------------------------------------

    def send(self, request: bytes, start: float, record: bool, attempt: int) -> None:
        transport = self.transport
        assert transport is not None
        self.busy = True
        self.request = request
        self.start = start
        self.record = record
        self.attempt = attempt
        self.sends += 1
        self.got_bytes = False
        self.is_head = request.startswith(b"HEAD ")
        self.state = _HEAD
        self.driver.inflight += 1
        transport.write(request)

    def abort(self, reason: str) -> None:
        """Give up on this connection (and its request, which then counts as failed with `reason`)."""
        self.failure = reason
        if self.transport is not None:
            self.transport.abort()

    # -- asyncio side -------------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's transports do not subclass asyncio's
        self.driver.on_connected(self)

    def connection_lost(self, exc: Exception | None) -> None:
        driver = self.driver
        if self.busy:
            self.busy = False
            if self.state == _BODY_UNTIL_CLOSE and self.failure is None:
                self.served += 1
                driver.on_response(self, self.status)
            elif self.failure is None and not self.got_bytes and self.served and not self.attempt:
                driver.on_retry(self)
            else:
                reason = self.failure or (f"connection lost: {exc!r}" if exc else "connection closed by the server")
                driver.on_failure(self, reason)
        self.transport = None
        driver.on_lost(self)

    def eof_received(self) -> bool | None:
        return None  # close the transport; connection_lost decides what the EOF meant

    def data_received(self, data: bytes) -> None:
        if not self.busy:
            self.abort("unsolicited data from the server")
            return
        self.got_bytes = True
        if self.state == _BODY_LENGTH and not self.keep_body:  # fast path: count the body, keep nothing
            remaining = self.remaining - len(data)
            if remaining > 0:
                self.remaining = remaining
                return
            self._complete()
            return
        self.buf = self.buf + data if self.buf else data
        self._parse()

    # -- parsing ------------------------------------------------------------------------------------

    def _parse(self) -> None:
        while self.busy:
            buf = self.buf
            state = self.state
            if state == _HEAD:
                end = buf.find(b"\r\n\r\n")
                if end < 0:
                    if len(buf) > MAX_HEAD_BYTES:
                        self.abort("response head too large")
                    return
                if not self._start_body(buf[:end]):
                    return
                self.buf = buf[end + 4 :]
            elif state == _BODY_LENGTH:
                size = len(buf)
                if size < self.remaining:
                    self.remaining -= size
                    if self.keep_body:
                        self.body_parts.append(buf)
                    self.buf = b""
                    return
                if self.keep_body:
                    self.body_parts.append(buf[: self.remaining])
                self._complete()
                return
            elif state == _CHUNK_SIZE:
                end = buf.find(b"\r\n")
                if end < 0:
                    if len(buf) > MAX_HEAD_BYTES:
                        self.abort("chunk size line too long")
                    return
                try:
                    size = int(buf[:end].split(b";", 1)[0].strip(), 16)
                except ValueError:
                    self.abort(f"bad chunk size {buf[:end][:40]!r}")
                    return
                self.buf = buf[end + 2 :]
                self.remaining = size
                self.state = _CHUNK_DATA if size else _CHUNK_TRAILER
            elif state == _CHUNK_DATA:
                if not buf:
                    return
                take = min(self.remaining, len(buf))
                if self.keep_body:
                    self.body_parts.append(buf[:take])
                self.buf = buf[take:]
                self.remaining -= take
                if self.remaining:
                    return
                self.state = _CHUNK_CRLF
            elif state == _CHUNK_CRLF:
                if len(buf) < 2:
                    return
                self.buf = buf[2:]
                self.state = _CHUNK_SIZE
            elif state == _CHUNK_TRAILER:
                if buf.startswith(b"\r\n") or buf.find(b"\r\n\r\n") >= 0:
                    self._complete()
                elif len(buf) > MAX_HEAD_BYTES:
                    self.abort("chunked trailer too large")
                return
            else:  # _BODY_UNTIL_CLOSE
                if self.keep_body and buf:
                    self.body_parts.append(buf)
                self.buf = b""
                return

    def _start_body(self, head: bytes) -> bool:
        """Read the status line and the few headers that matter; False once nothing more is to be parsed."""
        if not head.startswith(b"HTTP/1."):
            self.abort(f"not an HTTP/1.x response: {head[:40]!r}")
            return False
        try:
            status = int(head[9:12])
        except ValueError:
            self.abort(f"bad status line {head[:40]!r}")
            return False
        if 100 <= status < 200 and status != 101:
            return True  # an interim answer (100 Continue): the real one follows; state stays _HEAD
        self.status = status
        if self.keep_body:
            self.head = head
            self.body_parts = []
        lower = head.lower()
        keep_alive = head[7] != 0x30  # HTTP/1.1 keeps the connection by default, HTTP/1.0 does not
        at = lower.find(b"\r\nconnection:")
        if at >= 0:
            value = _header_value(lower, at + 13)
            if b"close" in value:
                keep_alive = False
            elif b"keep-alive" in value:
                keep_alive = True
        self.keep_alive = keep_alive
        if self.is_head or status in (204, 304):
            self._complete()
            return False
        at = lower.find(b"\r\ntransfer-encoding:")
        if at >= 0 and b"chunked" in _header_value(lower, at + 20):
            self.state = _CHUNK_SIZE
            return True
        at = lower.find(b"\r\ncontent-length:")
        if at >= 0:
            try:
                length = int(_header_value(lower, at + 17))
            except ValueError:
                self.abort("bad Content-Length")
                return False
            if length <= 0:
                self._complete()
                return False
            self.state = _BODY_LENGTH
            self.remaining = length
            return True
        self.state = _BODY_UNTIL_CLOSE
        self.keep_alive = False
        return True

    def _complete(self) -> None:
        self.busy = False
        self.served += 1
        self.state = _HEAD
        self.buf = b""
        keep_alive = self.keep_alive
        self.driver.on_response(self, self.status)
        if keep_alive and self.transport is not None:
            self.driver.on_idle(self)
        elif self.transport is not None:
            self.transport.close()  # connection_lost follows and the driver reconnects if it still needs to


def _header_value(lower_head: bytes, start: int) -> bytes:
    end = lower_head.find(b"\r\n", start)
    return lower_head[start : end if end >= 0 else len(lower_head)].strip()


def _host_header(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


async def _resolve(host: str, port: int) -> str:
    """A numeric address, resolved once, so that reconnects skip getaddrinfo in the executor."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    if not infos:
        raise OSError(f"cannot resolve {host!r}")
    return str(infos[0][4][0])


class _Driver:
    """Keeps `connections` connections open and decides what each idle connection sends next."""

    def __init__(
        self,
        address: str,
        port: int,
        host_header: str,
        requests: RequestSource,
        connections: int,
        expected: Container[int],
        request_timeout_s: float,
    ) -> None:
        if connections < 1:
            raise ValueError("connections must be at least 1")
        self.loop = asyncio.get_running_loop()
        self.address = address
        self.port = port
        self.expected = expected
        self.request_timeout_s = request_timeout_s
        self.result = Result()
        self.conns: set[_Conn] = set()
        self.retries: collections.deque[tuple[bytes, float, bool, int]] = collections.deque()
        self.inflight = 0
        self.running = True
        self.last_done = 0.0
        self.done: asyncio.Future[None] = self.loop.create_future()
        self.tasks: set[asyncio.Task[None]] = set()
        self.rendered: list[bytes] | None = None
        self.factory: Callable[[int], Request] | None = None
        if isinstance(requests, Request):
            self.rendered = [requests.render(host_header)]
        elif callable(requests):
            self.factory = requests
        else:
            self.rendered = [request.render(host_header) for request in requests]
            if not self.rendered:
                raise ValueError("no requests given")
        self.host_header = host_header

    def render(self, index: int) -> bytes:
        rendered = self.rendered
        if rendered is not None:
            return rendered[index % len(rendered)]
        assert self.factory is not None
        return self.factory(index).render(self.host_header)

    # -- what the subclasses decide -----------------------------------------------------------------

    def next_request(self) -> tuple[bytes, float, bool] | None:
        """The next request to send (bytes, start time, whether it is measured), or None."""
        raise NotImplementedError

    def wants_more(self) -> bool:
        """Whether requests are still to be sent (so lost connections are to be reopened)."""
        raise NotImplementedError

    def park(self, conn: _Conn) -> None:
        """An open connection has nothing to send for now."""

    # -- callbacks from the connections -------------------------------------------------------------

    def on_connected(self, conn: _Conn) -> None:
        self.conns.add(conn)
        if self.running:
            self.on_idle(conn)
        elif conn.transport is not None:
            conn.transport.close()

    def on_idle(self, conn: _Conn) -> None:
        if self.retries and not conn.served:  # a retry goes on a fresh connection: a reused one may be doomed too
            request, start, record, attempt = self.retries.popleft()
            conn.send(request, start, record, attempt)
            return
        item = self.next_request() if self.running else None
        if item is not None:
            conn.send(item[0], item[1], item[2], 0)
            return
        self.park(conn)
        self.maybe_done()

    def on_response(self, conn: _Conn, status: int) -> None:
        self.inflight -= 1
        if conn.record:
            now = _perf()
            result = self.result
            result.requests += 1
            result.latencies_ms.append((now - conn.start) * 1000.0)
            statuses = result.statuses
            statuses[status] = statuses.get(status, 0) + 1
            if status not in self.expected:
                result.errors += 1
                if result.first_error is None:
                    result.first_error = f"unexpected status {status} for {_request_line(conn.request)}"
            self.last_done = now

    def on_failure(self, conn: _Conn, reason: str) -> None:
        self.inflight -= 1
        self.fail(conn.record, f"{reason} ({_request_line(conn.request)})")
        self.maybe_done()

    def on_retry(self, conn: _Conn) -> None:
        self.inflight -= 1
        self.retries.append((conn.request, conn.start, conn.record, conn.attempt + 1))

    def on_lost(self, conn: _Conn) -> None:
        self.conns.discard(conn)
        if self.running and (self.retries or self.wants_more()):
            self.connect()
        else:
            self.maybe_done()

    # -- bookkeeping --------------------------------------------------------------------------------

    def fail(self, record: bool, reason: str) -> None:
        if record:
            now = _perf()
            result = self.result
            result.requests += 1
            result.errors += 1
            if result.first_error is None:
                result.first_error = reason
            self.last_done = now

    def maybe_done(self) -> None:
        if not self.done.done() and self.inflight <= 0 and not self.retries and not self.wants_more():
            self.done.set_result(None)

    def connect(self, delay: float = 0.0) -> None:
        task = self.loop.create_task(self.open_connection(delay))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def open_connection(self, delay: float = 0.0) -> None:
        if delay:
            await asyncio.sleep(delay)
        if not self.running:
            return
        try:
            await self.loop.create_connection(lambda: _Conn(self), self.address, self.port)
        except OSError as exc:
            self.on_connect_failed(exc)

    def on_connect_failed(self, exc: OSError) -> None:
        """Fail the request this connection would have carried, then try again a little later."""
        reason = f"connect to {self.address}:{self.port} failed: {exc!r}"
        if self.result.first_error is None:
            self.result.first_error = reason
        if self.retries:
            _, _, record, _ = self.retries.popleft()
            self.fail(record, reason)
        elif self.running:
            item = self.next_request()
            if item is not None:
                self.fail(item[2], reason)
        if self.running and (self.retries or self.wants_more()):
            self.connect(RECONNECT_BACKOFF_S)
        else:
            self.maybe_done()

    async def watchdog(self) -> None:
        """Abort connections whose request has been waiting longer than the request time-out."""
        timeout = self.request_timeout_s
        seen: dict[_Conn, tuple[int, float]] = {}
        while self.running:
            await asyncio.sleep(min(1.0, timeout / 4))
            now = _perf()
            current: dict[_Conn, tuple[int, float]] = {}
            for conn in list(self.conns):
                if not conn.busy:
                    continue
                sends, since = seen.get(conn, (-1, now))
                if sends != conn.sends:
                    since = now
                if now - since >= timeout:
                    conn.abort(f"no complete answer within {timeout:g} s")
                else:
                    current[conn] = (conn.sends, since)
            seen = current

    def start_watchdog(self) -> None:
        task = self.loop.create_task(self.watchdog())
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def finish(self, wait_s: float | None) -> None:
        """Wait for the run to end (at most `wait_s`), then close everything; what is left counts as failed."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self.done), wait_s)
        self.running = False
        for conn in list(self.conns):
            if conn.busy:
                conn.abort("still unanswered when the run ended")
            elif conn.transport is not None:
                conn.transport.close()
        while self.retries:
            _, _, record, _ = self.retries.popleft()
            self.fail(record, "still unsent when the run ended")
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await asyncio.sleep(0)  # let the aborted transports report connection_lost


def _request_line(request: bytes) -> str:
    end = request.find(b"\r\n")
    return request[: end if end >= 0 else 80].decode("latin-1", "replace")


class _ClosedLoop(_Driver):
    def __init__(self, *args: Any, duration_s: float | None, total: int | None, warmup_s: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.duration_s = duration_s
        self.total = total if total is not None else math.inf
        self.warm_end = _perf() + warmup_s
        self.measuring = False
        self.measure_start = 0.0
        self.cpu_start = 0.0
        self.deadline = math.inf
        self.issuing = True
        self.index = 0
        self.issued = 0

    def next_request(self) -> tuple[bytes, float, bool] | None:
        if not self.issuing:
            return None
        now = _perf()
        record = self.measuring
        if not record and now >= self.warm_end:
            self.measuring = record = True
            self.measure_start = now
            self.cpu_start = time.process_time()
            if self.duration_s is not None:
                self.deadline = now + self.duration_s
        if record:
            if now >= self.deadline or self.issued >= self.total:
                self.issuing = False
                return None
            self.issued += 1
        index = self.index
        self.index = index + 1
        return self.render(index), now, record

    def wants_more(self) -> bool:
        return self.issuing


class _OpenLoop(_Driver):
    def __init__(self, *args: Any, rate: float, duration_s: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.count = int(rate * duration_s)
        self.t0 = 0.0
        self.pending: collections.deque[int] = collections.deque()
        self.free: list[_Conn] = []
        self.pacing = True
        self.next_index = 0
        self.timer: asyncio.TimerHandle | None = None

    def next_request(self) -> tuple[bytes, float, bool] | None:
        if self.pending:
            index = self.pending.popleft()
        else:
            # A connection just came free (the loop is awake anyway): release a request that is due
            # without waiting for the pacer's next tick, which may be up to a millisecond away.
            index = self.next_index
            if index >= self.count or not self.t0 or self.t0 + index / self.rate > _perf():
                return None
            self.next_index = index + 1
        return self.render(index), self.t0 + index / self.rate, True

    def wants_more(self) -> bool:
        return self.pacing or bool(self.pending)

    def park(self, conn: _Conn) -> None:
        self.free.append(conn)

    def start_pacing(self) -> None:
        self.t0 = _perf()
        self.tick()

    def tick(self) -> None:
        """Release request i at t0 + i / rate, to a free connection or else into the queue.

        A plain timer callback rather than a task sleeping in a loop: wake-ups are most of what an idle
        event loop costs, so each one should do as little as possible.
        """
        self.timer = None
        if not self.running:
            return
        rate, count, free, pending, t0 = self.rate, self.count, self.free, self.pending, self.t0
        index = self.next_index
        due = min(count, int((_perf() - t0) * rate) + 1)
        while index < due:
            conn = None
            while free:
                candidate = free.pop()
                if candidate.transport is not None and not candidate.busy:
                    conn = candidate
                    break
            if conn is None or self.retries or pending:
                pending.append(index)
                if conn is not None:
                    self.on_idle(conn)
            else:
                conn.send(self.render(index), t0 + index / rate, True, 0)
            index += 1
        self.next_index = index
        if index < count:
            delay = max(PACING_TICK_S, t0 + index / rate - _perf())  # uvloop would spin on sub-ms timers
            self.timer = self.loop.call_later(delay, self.tick)
        else:
            self.pacing = False
            self.maybe_done()


async def run_closed_loop(
    host: str,
    port: int,
    requests: RequestSource,
    *,
    connections: int,
    duration_s: float | None = None,
    total: int | None = None,
    expected_statuses: Container[int] = DEFAULT_EXPECTED,
    warmup_s: float = 0.0,
    request_timeout_s: float = DEFAULT_REQUEST_TIMEOUT_S,
) -> Result:
    """Each connection sends its next request as soon as the previous one is answered.

    Request i is `requests(i)`, or `requests[i % len(requests)]` (a single Request is sent every time).
    Requests sent during the first `warmup_s` seconds are not measured. The run stops sending after
    `duration_s` seconds of measurement or after `total` measured requests (whichever comes first; at
    least one must be given), then waits for the requests in flight. Latency runs from each send.
    """
    if duration_s is None and total is None:
        raise ValueError("give duration_s or total")
    address = await _resolve(host, port)
    driver = _ClosedLoop(
        address,
        port,
        _host_header(host, port),
        requests,
        connections,
        expected_statuses,
        request_timeout_s,
        duration_s=duration_s,
        total=total,
        warmup_s=warmup_s,
    )
    if total is not None:
        connections = min(connections, max(total, 1))
    driver.start_watchdog()
    for _ in range(connections):
        driver.connect()
    cap = None if duration_s is None else warmup_s + duration_s + request_timeout_s + 5.0
    await driver.finish(cap)
    result = driver.result
    if driver.measuring:
        result.elapsed_s = max(driver.last_done - driver.measure_start, 0.0)
        result.cpu_s = time.process_time() - driver.cpu_start
    return result


async def run_open_loop(
    host: str,
    port: int,
    requests: RequestSource,
    *,
    rate: float,
    duration_s: float,
    connections: int,
    expected_statuses: Container[int] = DEFAULT_EXPECTED,
    request_timeout_s: float = DEFAULT_REQUEST_TIMEOUT_S,
) -> Result:
    """Send int(rate * duration_s) requests, request i at t0 + i / rate, on at most `connections` connections.

    A request whose time has come waits for a free connection; its latency runs from its scheduled
    time, so time spent queueing behind a slow server counts. The pacer wakes at most once a millisecond
    and releases every request then due (a connection coming free also takes one that is due), so a
    latency can include up to about 1 ms of pacing delay.
    The connections are opened before t0. After the last request is released the run waits up to
    `request_timeout_s` for the queue to drain; what is still unanswered then counts as failed.
    """
    address = await _resolve(host, port)
    driver = _OpenLoop(
        address,
        port,
        _host_header(host, port),
        requests,
        connections,
        expected_statuses,
        request_timeout_s,
        rate=rate,
        duration_s=duration_s,
    )
    await asyncio.gather(*(driver.open_connection() for _ in range(connections)))
    driver.start_watchdog()
    cpu_start = time.process_time()
    driver.start_pacing()
    await driver.finish(duration_s + request_timeout_s + 5.0)
    if driver.timer is not None:
        driver.timer.cancel()
    unsent = len(driver.pending)
    driver.pending.clear()
    for _ in range(unsent):
        driver.fail(True, "still waiting for a connection when the run ended")
    result = driver.result
    result.elapsed_s = max(driver.last_done - driver.t0, duration_s) if driver.t0 else 0.0
    result.cpu_s = time.process_time() - cpu_start
    return result


class _FetchDriver(_Driver):
    def __init__(self, *args: Any, request: bytes, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.request = request
        self.answer: asyncio.Future[tuple[int, dict[str, str], bytes]] = self.loop.create_future()

    def on_connected(self, conn: _Conn) -> None:
        self.conns.add(conn)
        conn.send(self.request, _perf(), False, 1)

    def on_idle(self, conn: _Conn) -> None:
        pass

    def on_response(self, conn: _Conn, status: int) -> None:
        self.inflight -= 1
        headers: dict[str, str] = {}
        for line in conn.head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            key = name.strip().decode("latin-1").lower()
            text = value.strip().decode("latin-1")
            headers[key] = f"{headers[key]}, {text}" if key in headers else text
        if not self.answer.done():
            self.answer.set_result((status, headers, b"".join(conn.body_parts)))

    def on_failure(self, conn: _Conn, reason: str) -> None:
        self.inflight -= 1
        if not self.answer.done():
            self.answer.set_exception(ConnectionError(reason))

    def on_lost(self, conn: _Conn) -> None:
        self.conns.discard(conn)
        if not self.answer.done():
            self.answer.set_exception(ConnectionError("connection closed before an answer"))


async def fetch(
    host: str, port: int, request: Request, *, timeout_s: float = DEFAULT_REQUEST_TIMEOUT_S
) -> tuple[int, dict[str, str], bytes]:
    """One request on a fresh connection: (status, headers with lower-cased names, body)."""
    address = await _resolve(host, port)
    host_header = _host_header(host, port)
    driver = _FetchDriver(
        address, port, host_header, request, 1, DEFAULT_EXPECTED, timeout_s, request=request.render(host_header)
    )
    transport, _ = await asyncio.wait_for(
        driver.loop.create_connection(lambda: _Conn(driver, keep_body=True), address, port), timeout_s
    )
    try:
        return await asyncio.wait_for(driver.answer, timeout_s)
    finally:
        transport.close()


def _event_loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        uvloop = importlib.import_module("uvloop")
    except ImportError:
        return None
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="HTTP/1.1 keep-alive load generator (closed loop unless --rate)")
    parser.add_argument("--url", required=True, help="http://HOST:PORT/path")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--duration", type=float, default=5.0, help="seconds (measured, after the warm-up)")
    parser.add_argument("--total", type=int, default=None, help="stop after this many requests (closed loop)")
    parser.add_argument("--warmup", type=float, default=0.0, help="seconds not measured (closed loop)")
    parser.add_argument("--rate", type=float, default=None, help="open loop at this many requests per second")
    parser.add_argument("--method", default="GET")
    parser.add_argument("--header", action="append", default=[], help="'Name: value', repeatable")
    parser.add_argument("--data", default=None, help="request body")
    parser.add_argument("--no-uvloop", action="store_true", help="use asyncio's own event loop")
    args = parser.parse_args(argv)

    url = urlsplit(args.url)
    if url.scheme != "http" or not url.hostname:
        parser.error("--url must be http://HOST[:PORT]/path")
    host, port = url.hostname, url.port or 80
    path = (url.path or "/") + (f"?{url.query}" if url.query else "")
    headers: dict[str, str] = {}
    for line in args.header:
        name, _, value = line.partition(":")
        headers[name.strip()] = value.strip()
    request = Request(args.method, path, headers, (args.data or "").encode())

    async def go() -> Result:
        if args.rate is not None:
            return await run_open_loop(
                host, port, request, rate=args.rate, duration_s=args.duration, connections=args.connections
            )
        return await run_closed_loop(
            host,
            port,
            request,
            connections=args.connections,
            duration_s=args.duration if args.total is None else None,
            total=args.total,
            warmup_s=args.warmup,
        )

    loop_factory = None if args.no_uvloop else _event_loop_factory()
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        result = runner.run(go())
    print(result.summary())
    wall = result.elapsed_s or float("nan")
    loop_name = "uvloop" if loop_factory is not None else "asyncio"
    per_request = 1e6 * result.cpu_s / result.requests if result.requests else float("nan")
    print(
        f"loadgen ({loop_name}) CPU: {result.cpu_s:.2f} s = {100 * result.cpu_s / wall:.0f}% of one core"
        f" = {per_request:.0f} us per request"
    )


if __name__ == "__main__":
    main()
