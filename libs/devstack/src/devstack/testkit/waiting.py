"""Wait for an effect that happens elsewhere (a consumer, a worker), and read Prometheus figures."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

T = TypeVar("T")


async def wait_until(
    probe: Callable[[], Awaitable[T]], done: Callable[[T], Any], *, timeout: float = 30, interval: float = 0.1
) -> T:
    """Poll `probe` until `done(result)`; fail with the last result after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = await probe()
        if done(result):
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not reached within {timeout}s; last value: {result!r}")
        await asyncio.sleep(interval)


def metric_value(metrics_text: str, name: str, **labels: str) -> float:
    """Sum of a Prometheus sample family whose labels include `labels` (0 when absent)."""
    total = 0.0
    for line in metrics_text.splitlines():
        if not line.startswith(name) or line.startswith("#"):
            continue
        head, _, value = line.rpartition(" ")
        if all(f'{k}="{v}"' in head for k, v in labels.items()):
            total += float(value)
    return total
