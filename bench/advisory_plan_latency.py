"""`assessment.released` (60 non-compliances of a 250-question assessment) to its improvement plan items
committed in advisory, while 200 other events a second flow through the same consumer.

Target (issue 14): p99 at most 2 seconds.

advisory runs as its own process against a fresh database and a dedicated Tansu broker. A background task puts
`factory.registered` events on `registry.factory` at `--rate` a second (advisory keeps them in its factory read
model); meanwhile the benchmark puts one `assessment.released` a second (`--interval`) on
`assessments.assessment` for a known factory, each with 60 non-compliances (the released event carries only the
non-compliant questions, so the other 190 of a 250-question assessment do not travel). Latency: from just
before the release is produced to the moment all 60 items of its plan are visible in advisory's tables (polled
every 10 ms, so figures are up to 10 ms late).

    .venv/bin/python bench/advisory_plan_latency.py [--releases 40] [--rate 200] [--interval 0.5]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from advisory_common import ADVISORY_ENV, COUNTRY, EventWriter, put_factories, released
from local_platform import (
    CpuMeter,
    LocalPlatform,
    ServiceProcess,
    local_platform,
    percentile,
    progress,
    verdict,
    wait_ready,
)

from betterwork_contracts.events.registry import FactoryRegistered

TARGET_P99_S = 2.0
ITEMS = 60


async def wait_items(platform: LocalPlatform, factory_id: uuid.UUID, sent: float, timeout: float = 60) -> float:
    conn = await platform.admin_connection()
    try:
        while True:
            count = await conn.fetchval(
                "SELECT count(*) FROM advisory.improvement_item WHERE factory_id = $1", factory_id
            )
            if count >= ITEMS:
                return time.time() - sent
            if time.time() - sent > timeout:
                raise SystemExit(f"plan of {factory_id} not complete after {timeout:g}s ({count} items)")
            await asyncio.sleep(0.01)
    finally:
        await conn.close()


async def background(writer: EventWriter, rate: float, stop: asyncio.Event, sent: list[int]) -> None:
    """`rate` factory registrations a second, in batches every 50 ms."""
    per_tick = max(int(rate / 20), 1)
    next_tick = time.monotonic()
    while not stop.is_set():
        for _ in range(per_tick):
            event = FactoryRegistered(
                factory_id=uuid.uuid4(), version=1, country=COUNTRY, name="Background", registered_at=datetime.now(UTC)
            )
            await writer.send(event, source="/registry", wait=False)
            sent[0] += 1
        next_tick += per_tick / rate
        await asyncio.sleep(max(next_tick - time.monotonic(), 0))


async def measure(platform: LocalPlatform, args: argparse.Namespace) -> int:
    factories = await put_factories(platform, args.releases + 1)
    with tempfile.TemporaryDirectory(prefix="bw-advisory-bench-") as folder:
        advisory = ServiceProcess(platform, "advisory", Path(folder), ADVISORY_ENV)
        try:
            await wait_ready([advisory], timeout=90)
            async with EventWriter(platform) as writer:
                progress("warming up: the first release waits for the consumer group to form ...")
                warm = time.time()
                await writer.send(released(factories[0], ITEMS), source="/assessments")
                await wait_items(platform, factories[0], warm, timeout=120)

                meter = CpuMeter()
                meter.add("advisory", [advisory.process.pid])
                meter.add("postgres", await platform.backend_pids())
                meter.add("broker", [platform.broker_pid])
                stop, sent = asyncio.Event(), [0]
                flow = asyncio.create_task(background(writer, args.rate, stop, sent))
                await asyncio.sleep(2)  # let the background flow settle
                meter.start()
                started = time.monotonic()
                progress(
                    f"{args.releases} releases of {ITEMS} non-compliances, one every {args.interval:g} s, "
                    f"with {args.rate:g} factory events/s beside them ..."
                )
                waits = []
                for factory_id in factories[1:]:
                    sent_at = time.time()
                    await writer.send(released(factory_id, ITEMS), source="/assessments")
                    waits.append(asyncio.create_task(wait_items(platform, factory_id, sent_at)))
                    await asyncio.sleep(args.interval)
                latencies = sorted(await asyncio.gather(*waits))
                elapsed = time.monotonic() - started
                meter.stop()
                stop.set()
                await flow
                background_rate = sent[0] / (elapsed + 2)
        finally:
            advisory.stop()
    p99 = percentile(latencies, 0.99)
    print()
    print(f"releases measured           {len(latencies)} (each {ITEMS} items)")
    print(f"background events produced  {sent[0]} ({background_rate:.0f}/s)")
    print(
        f"release -> items committed  p50 {percentile(latencies, 0.5) * 1000:.0f} ms, "
        f"p95 {percentile(latencies, 0.95) * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, max {latencies[-1] * 1000:.0f} ms"
    )
    print(f"CPU                         {meter.report()}")
    print(f"target p99 <= {TARGET_P99_S:g} s: {verdict(p99 <= TARGET_P99_S)}")
    return 0 if p99 <= TARGET_P99_S else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--releases", type=int, default=40)
    parser.add_argument("--rate", type=float, default=200.0, help="background events a second")
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between releases")
    args = parser.parse_args()
    with local_platform(topic_prefix=f"bench{uuid.uuid4().hex[:4]}.") as platform:
        return asyncio.run(measure(platform, args))


if __name__ == "__main__":
    sys.exit(main())
