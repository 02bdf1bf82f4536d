"""A factory merge on the real broker: the survivor's public page shows the history of both records once, its
next release counts the merged cycles as assessments gave them (two cycles 1 become 1 and 2), and the retired
id answers 308 to the survivor (404 when neither was ever published)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from betterwork_contracts.events.assessments import AssessmentCyclesRenumbered, CycleMove
from devstack.broker import TansuBroker
from devstack.pytest_plugin import TestPlatform, serve_in_process
from devstack.testkit.advisory import publish
from devstack.testkit.database import fetch
from devstack.testkit.events import on
from devstack.testkit.transparency import deliver, finalised, merged, registered, release
from devstack.testkit.waiting import wait_until


async def test_the_survivor_shows_both_histories_once_and_the_retired_id_redirects(
    test_platform: TestPlatform, dedicated_broker: TansuBroker, topic_prefix: str
) -> None:
    app = test_platform.app("transparency", **on(dedicated_broker, topic_prefix, kafka_fetch_max_wait_ms=25))
    tag = uuid.uuid4().hex[:6]
    survivor, duplicate = registered("JO", f"Merge Survivor {tag}"), registered("JO", f"Merge Duplicate {tag}")
    s, d = survivor.factory_id, duplicate.factory_id
    unpublished, its_survivor = registered("JO", f"Never Listed {tag}"), registered("JO", f"Never Listed 2 {tag}")
    await deliver(
        test_platform,
        survivor,
        duplicate,
        unpublished,
        its_survivor,
        finalised(d, "JO", {"JO-OSH-02": "non_compliant"}, on=date(2025, 1, 10)),
        finalised(s, "JO", {"JO-OSH-02": "compliant"}, on=date(2025, 3, 1)),
    )
    async with serve_in_process(app) as client:
        first = await release(client, test_platform, "JO")
        for factory_id in (s, d):  # listed apart, as two factories
            page = await client.get(f"/public/v1/factories/{factory_id}")
            assert page.status_code == 200 and page.json()["current"]["cycle"] == 1

        renumbered = AssessmentCyclesRenumbered(
            factory_id=s,
            retired_id=d,
            country="JO",
            moves=[
                CycleMove(factory_id=d, from_cycle=1, to_cycle=1),
                CycleMove(factory_id=s, from_cycle=1, to_cycle=2),
            ],
            renumbered_at=datetime.now(UTC),
        )
        for event, source in (
            (merged(d, s, "JO"), "/registry"),
            (renumbered, "/assessments"),
            (merged(unpublished.factory_id, its_survivor.factory_id, "JO"), "/registry"),
        ):
            await publish(dedicated_broker.bootstrap_servers, topic_prefix, event, source=source)

        async def merges_applied() -> int:
            rows = await fetch(
                test_platform,
                "transparency",
                "SELECT count(*) AS n FROM transparency.fact WHERE kind IN ('factory_merged', 'cycles_renumbered')"
                " AND (payload->>'factory_id' = ANY($1::text[]))",
                [str(d), str(s), str(unpublished.factory_id)],
            )
            return int(rows[0]["n"])

        await wait_until(merges_applied, lambda n: n == 3, timeout=30)
        second = await release(client, test_platform, "JO")

        page = (await client.get(f"/public/v1/factories/{s}")).json()
        current = page["current"]
        assert (current["name"], current["cycle"], current["assessments_counted"]) == (f"Merge Survivor {tag}", 2, 2)
        releases = [h["release_number"] for h in page["history"]]
        assert releases == [second["release_number"], first["release_number"]]  # each release once

        moved = await client.get(f"/public/v1/factories/{d}", follow_redirects=False)
        assert moved.status_code == 308 and moved.headers["location"] == f"/public/v1/factories/{s}"
        portal = await client.get(f"/portal/factories/{d}", params={"lang": "en"}, follow_redirects=False)
        assert portal.status_code == 308 and portal.headers["location"].endswith(f"{s}?lang=en")
        never = await client.get(f"/public/v1/factories/{unpublished.factory_id}", follow_redirects=False)
        assert never.status_code == 404  # no page to send anyone to
