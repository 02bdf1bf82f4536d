"""Zero-tolerance finding recorded to signed webhook received, for 100 subscribed endpoints on 127.0.0.1.

Target (issue "Partnerships service"): p99 at most 2 seconds.

The assessments and partnerships services run as their own processes against a fresh database and a
dedicated Tansu broker. 100 buyers each have a confirmed sourcing link to one factory and a webhook
endpoint on a receiver process (`bench/webhook_receiver.py`, which verifies every signature with the
`standardwebhooks` package). The benchmark records zero-tolerance findings one after another; each opens
a case in assessments (`zero_tolerance.case_opened` through its outbox, relay and the broker), which
partnerships turns into 100 signed webhooks. Latency: from just before the finding's request to each
webhook's arrival at the receiver, over every delivery.

    .venv/bin/python bench/alert_latency.py [--endpoints 100] [--findings 30] [--interval 1.0]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import yaml
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

from devstack.net import free_port
from servicekit.auth import Role

TARGET_P99_S = 2.0
COUNTRY = "KH"
TOOL = Path(__file__).resolve().parents[1] / "services/assessments/src/assessments/data/tool_kh_garment.yaml"


async def put_factory(platform: LocalPlatform, factory_id: uuid.UUID) -> None:
    """The factory as the registry's events would have left it in both services' read models."""
    conn = await platform.admin_connection()
    try:
        await conn.execute(
            "INSERT INTO assessments.factory_ref (factory_id, name, country, version, updated_at, status)"
            " VALUES ($1, 'Bench Garment', $2, 3, now(), 'active')",
            factory_id,
            COUNTRY,
        )
        await conn.execute(
            "INSERT INTO partnerships.factory_ref (factory_id, name, country, status, version, updated_at)"
            " VALUES ($1, 'Bench Garment', $2, 'active', 3, now())",
            factory_id,
            COUNTRY,
        )
    finally:
        await conn.close()


async def subscribe(
    client: httpx.AsyncClient, platform: LocalPlatform, factory_id: uuid.UUID, count: int, receiver_port: int
) -> dict[str, str]:
    """`count` buyers linked to the factory, each with an endpoint; returns {receiver path: secret}."""
    staff = {
        "Authorization": f"Bearer {platform.signing_key.mint(roles=[Role.STAFF], subject='bench', country=COUNTRY)}"
    }
    secrets = {}
    for i in range(count):
        buyer = await client.post(
            "/v1/buyers",
            json={"name": f"Bench Brand {i}", "headquarters_country": "SE", "tier": "partner"},
            headers=staff,
        )
        buyer.raise_for_status()
        buyer_id = buyer.json()["id"]
        link = await client.post(
            "/v1/sourcing-links", json={"buyer_id": buyer_id, "factory_id": str(factory_id)}, headers=staff
        )
        link.raise_for_status()
        as_buyer = {
            "Authorization": f"Bearer {platform.signing_key.mint(roles=[Role.BUYER], organisation_id=buyer_id)}"
        }
        path = f"/hook/{i}"
        endpoint = await client.post(
            "/v1/webhook-endpoints",
            json={"url": f"http://127.0.0.1:{receiver_port}{path}", "event_types": ["alert.raised"]},
            headers=as_buyer,
        )
        endpoint.raise_for_status()
        secrets[path] = endpoint.json()["secret"]
    return secrets


def start_receiver(port: int, secrets_file: Path, log: Path) -> subprocess.Popen[bytes]:
    script = str(Path(__file__).with_name("webhook_receiver.py"))
    command = [sys.executable, script, "--port", str(port), "--secrets", str(secrets_file)]
    return subprocess.Popen(command, stdout=log.open("wb"), stderr=subprocess.STDOUT)


def token(platform: LocalPlatform, role: Role, **claims: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {platform.signing_key.mint(roles=[role], **claims)}"}


async def received(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/stats")
    response.raise_for_status()
    stats: dict[str, Any] = response.json()
    return stats


async def measure(platform: LocalPlatform, args: argparse.Namespace) -> int:
    factory_id = uuid.uuid4()
    await put_factory(platform, factory_id)
    staff = {
        "Authorization": f"Bearer {platform.signing_key.mint(roles=[Role.STAFF], subject='bench', country=COUNTRY)}"
    }
    zt_codes = [
        q["code"] for q in yaml.safe_load(TOOL.read_text())["questions"] if "zero_tolerance" in (q.get("tags") or [])
    ]
    receiver_port = free_port()
    with tempfile.TemporaryDirectory(prefix="bw-alert-bench-") as folder:
        logs = Path(folder)
        partnerships = ServiceProcess(
            platform, "partnerships", logs, {"PARTNERSHIPS_WEBHOOK_ALLOW_PRIVATE_TARGETS": "true"}
        )
        assessments = ServiceProcess(platform, "assessments", logs, {})
        receiver: subprocess.Popen[bytes] | None = None
        try:
            await wait_ready([partnerships, assessments], timeout=90)
            async with httpx.AsyncClient(base_url=partnerships.url, timeout=30) as p_client:
                progress(f"registering {args.endpoints} buyers, links and webhook endpoints ...")
                secrets = await subscribe(p_client, platform, factory_id, args.endpoints, receiver_port)
            secrets_file = logs / "secrets.json"
            secrets_file.write_text(json.dumps(secrets))
            receiver = start_receiver(receiver_port, secrets_file, logs / "receiver.log")
            async with (
                httpx.AsyncClient(base_url=assessments.url, timeout=30, headers=staff) as a_client,
                httpx.AsyncClient(base_url=f"http://127.0.0.1:{receiver_port}", timeout=10) as r_client,
            ):
                for _ in range(100):
                    try:
                        await received(r_client)
                        break
                    except httpx.HTTPError:
                        await asyncio.sleep(0.1)
                assessments_needed = (args.findings + 1) // len(zt_codes) + 1
                slots: list[tuple[str, str]] = []
                for n in range(assessments_needed):
                    kind = "initial" if n == 0 else "follow_up"
                    body = {
                        "factory_id": str(factory_id),
                        "assessment_type": kind,
                        "start_date": "2026-11-02",
                        "end_date": "2026-11-03",
                    }
                    scheduled = await a_client.post("/v1/assessments", json=body)
                    scheduled.raise_for_status()
                    aid = scheduled.json()["id"]
                    (
                        await a_client.post(f"/v1/assessments/{aid}/transitions", json={"to": "in_progress"})
                    ).raise_for_status()
                    slots += [(aid, code) for code in zt_codes]

                async def record(slot: tuple[str, str]) -> tuple[str, float]:
                    sent = time.time()
                    response = await a_client.put(
                        f"/v1/assessments/{slot[0]}/findings/{slot[1]}",
                        json={"result": "non_compliant", "evidence": "bench evidence", "workers_affected": 1},
                    )
                    response.raise_for_status()
                    (case_id,) = response.json()["zero_tolerance_cases_opened"]
                    return case_id, sent

                progress("warming up: the first alert waits for the consumer group to form ...")
                warm_case, _ = await record(slots.pop())
                deadline = time.monotonic() + 120
                while sum(1 for r in (await received(r_client))["received"] if r[2] == warm_case) < args.endpoints:
                    if time.monotonic() > deadline:
                        raise SystemExit("the warm-up alert did not reach every endpoint within 120 s")
                    await asyncio.sleep(0.2)

                meter = CpuMeter()
                meter.add("assessments", [assessments.process.pid])
                meter.add("partnerships", [partnerships.process.pid])
                meter.add("receiver", [receiver.pid])
                meter.add("postgres", await platform.backend_pids())
                meter.add("broker", [platform.broker_pid])
                meter.start()
                progress(f"{args.findings} zero-tolerance findings, one every {args.interval:g} s ...")
                sent_at: dict[str, float] = {}
                for _ in range(args.findings):
                    case_id, sent = await record(slots.pop())
                    sent_at[case_id] = sent
                    await asyncio.sleep(args.interval)
                expected = args.findings * args.endpoints
                deadline = time.monotonic() + 60
                while True:
                    stats = await received(r_client)
                    got = [r for r in stats["received"] if r[2] in sent_at]
                    if len(got) >= expected or time.monotonic() > deadline:
                        break
                    await asyncio.sleep(0.2)
                meter.stop()
        finally:
            if receiver is not None:
                receiver.terminate()
                receiver.wait(10)
            for service in (assessments, partnerships):
                service.stop()

    latencies = sorted(r[3] - sent_at[r[2]] for r in got)
    unique = {(r[0], r[1]) for r in got}
    progress(
        f"deliveries: {len(got):,} received of {expected:,} expected ({len(unique):,} distinct), "
        f"{stats['rejected']} failed signature verification"
    )
    progress(
        "finding -> signed webhook received: "
        f"p50 {percentile(latencies, 0.5) * 1000:.0f} ms, p90 {percentile(latencies, 0.9) * 1000:.0f} ms, "
        f"p99 {percentile(latencies, 0.99) * 1000:.0f} ms, max {latencies[-1] * 1000:.0f} ms"
    )
    progress(f"  {meter.report()}")
    ok = len(unique) == expected and stats["rejected"] == 0 and percentile(latencies, 0.99) <= TARGET_P99_S
    progress(f"  target p99 <= {TARGET_P99_S:g} s, every delivery verified: {verdict(ok)}")
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--endpoints", type=int, default=100)
    parser.add_argument("--findings", type=int, default=30)
    parser.add_argument("--interval", type=float, default=1.0)
    args = parser.parse_args()
    with local_platform(topic_prefix=f"bench{uuid.uuid4().hex[:6]}.") as platform:
        return asyncio.run(measure(platform, args))


if __name__ == "__main__":
    sys.exit(main())
