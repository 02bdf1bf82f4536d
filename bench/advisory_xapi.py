"""xAPI import: 1,000 statements accepted, and the same 1,000 again changing nothing.

Target (issue 14): 1,000 statements accepted in at most 2 seconds; a repeat changes nothing.

advisory runs as its own process against a fresh database. A course, an e-learning session and 1,000
pseudonymous participants are set up (participants written straight into the table to save time); then one
`POST /v1/xapi/statements` carries 1,000 `completed` statements with scores, timed from request to response; the
same request is sent again and must accept none, and the stored statements and enrolments must be unchanged.

    .venv/bin/python bench/advisory_xapi.py [--statements 1000] [--rounds 3]
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
from typing import Any

import httpx
from advisory_common import ADVISORY_ENV, COUNTRY, bearer
from local_platform import LocalPlatform, ServiceProcess, local_platform, percentile, progress, verdict, wait_ready

from servicekit.auth import Role

TARGET_S = 2.0
SESSION_IRI = "https://platform.betterwork.org/xapi/training-sessions/"


async def participants(platform: LocalPlatform, count: int) -> list[str]:
    accounts = [f"lms-{uuid.uuid4().hex[:12]}" for _ in range(count)]
    conn = await platform.admin_connection()
    try:
        await conn.executemany(
            "INSERT INTO advisory.participant (id, country, account, role, sex, migrant, buyer_id, created_at)"
            " VALUES ($1, $2, $3, 'worker', $4, false, $5, now())",
            [(uuid.uuid4(), COUNTRY, a, ("female", "male")[n % 2], uuid.uuid4()) for n, a in enumerate(accounts)],
        )
    finally:
        await conn.close()
    return accounts


def statements(accounts: list[str], session_id: str) -> list[dict[str, Any]]:
    now = datetime.now(UTC).isoformat()
    return [
        {
            "id": str(uuid.uuid4()),
            "actor": {"account": {"homePage": "https://lms.example.org", "name": a}},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
            "object": {"id": f"{SESSION_IRI}{session_id}"},
            "result": {"completion": True, "score": {"scaled": 0.5 + (n % 50) / 100}},
            "timestamp": now,
        }
        for n, a in enumerate(accounts)
    ]


async def counts(platform: LocalPlatform, session_id: str) -> tuple[int, int, int]:
    conn = await platform.admin_connection()
    try:
        sid = uuid.UUID(session_id)
        stored = await conn.fetchval("SELECT count(*) FROM advisory.xapi_statement WHERE session_id = $1", sid)
        completed = await conn.fetchval(
            "SELECT count(*) FROM advisory.enrolment WHERE session_id = $1 AND completed", sid
        )
        changed = await conn.fetchval("SELECT max(updated_at) FROM advisory.enrolment WHERE session_id = $1", sid)
        return stored, completed, hash(changed)
    finally:
        await conn.close()


async def measure(platform: LocalPlatform, args: argparse.Namespace) -> int:
    staff = bearer(platform, Role.STAFF, subject="bench-ea", country=COUNTRY)
    with tempfile.TemporaryDirectory(prefix="bw-advisory-bench-") as folder:
        advisory = ServiceProcess(platform, "advisory", Path(folder), ADVISORY_ENV)
        try:
            await wait_ready([advisory], timeout=90)
            async with httpx.AsyncClient(base_url=advisory.url, timeout=60, headers=staff) as client:
                firsts, repeats, ok = [], [], True
                for round_no in range(args.rounds):
                    course = await client.post(
                        "/v1/training/courses",
                        json={
                            "country": COUNTRY,
                            "code": f"EL-{round_no}-{uuid.uuid4().hex[:4].upper()}",
                            "title": "Industrial relations (e-learning)",
                            "topic": "industrial_relations",
                            "modules": [{"title": "Bargaining", "hours": 2}],
                            "languages": ["km", "en"],
                            "completion_rule": "completed",
                        },
                    )
                    course.raise_for_status()
                    session = await client.post(
                        "/v1/training/sessions",
                        json={
                            "course_id": course.json()["id"],
                            "session_date": datetime.now(UTC).date().isoformat(),
                            "language": "km",
                            "trainer_organisation": "LMS",
                            "mode": "e_learning",
                        },
                    )
                    session.raise_for_status()
                    sid = session.json()["id"]
                    batch = statements(await participants(platform, args.statements), sid)
                    progress(f"round {round_no + 1}: importing {len(batch)} statements, then again ...")
                    started = time.perf_counter()
                    first = await client.post("/v1/xapi/statements", json={"statements": batch})
                    firsts.append(time.perf_counter() - started)
                    first.raise_for_status()
                    before = await counts(platform, sid)
                    started = time.perf_counter()
                    again = await client.post("/v1/xapi/statements", json={"statements": batch})
                    repeats.append(time.perf_counter() - started)
                    again.raise_for_status()
                    after = await counts(platform, sid)
                    ok &= first.json()["accepted"] == len(batch) and not first.json()["rejected"]
                    ok &= again.json()["accepted"] == 0 and again.json()["repeats"] == len(batch)
                    ok &= before == after and before[0] == before[1] == len(batch)
        finally:
            advisory.stop()
    firsts.sort()
    repeats.sort()
    print()
    print(
        f"import of {args.statements} statements   p50 {percentile(firsts, 0.5) * 1000:.0f} ms, "
        f"max {firsts[-1] * 1000:.0f} ms over {len(firsts)} rounds"
    )
    print(
        f"the same again (0 accepted)   p50 {percentile(repeats, 0.5) * 1000:.0f} ms, max {repeats[-1] * 1000:.0f} ms"
    )
    print(f"repeat changed nothing, all accepted once: {ok}")
    passed = ok and firsts[-1] <= TARGET_S
    print(f"target <= {TARGET_S:g} s and a repeat changes nothing: {verdict(passed)}")
    return 0 if passed else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--statements", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with local_platform(topic_prefix=f"bench{uuid.uuid4().hex[:4]}.") as platform:
        return asyncio.run(measure(platform, args))


if __name__ == "__main__":
    sys.exit(main())
