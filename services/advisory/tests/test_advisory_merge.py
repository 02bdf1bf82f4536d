"""A factory merge on the real broker: the retired factory's committee, visits, training and cases follow the
survivor with `factory.merged`; its plans and report access follow with `cycles.renumbered`, under the cycle
numbers assessments gave the survivor's merged history; a write naming the retired id answers 409 with the
survivor; repeats change nothing."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from betterwork_contracts.events.assessments import AssessmentCyclesRenumbered, CycleMove
from betterwork_contracts.events.registry import FactoryMerged
from devstack.broker import TansuBroker
from devstack.pytest_plugin import TestPlatform, serve_in_process
from devstack.testkit.access import buyer, factory, staff
from devstack.testkit.advisory import access, deliver, items_of, known_factory, non_compliance, publish, released
from devstack.testkit.events import on
from devstack.testkit.waiting import wait_until

MEMBER = {
    "display_name": "Sokha",
    "side": "worker",
    "selection": "elected",
    "sex": "female",
    "role": "member",
    "term_start": "2026-01-01",
}


async def test_a_merge_moves_records_and_renumbers_plans_to_the_survivors_history(
    test_platform: TestPlatform, dedicated_broker: TansuBroker, topic_prefix: str
) -> None:
    app = test_platform.app("advisory", **on(dedicated_broker, topic_prefix, kafka_fetch_max_wait_ms=25))
    survivor, retired = await known_factory(test_platform), await known_factory(test_platform)
    as_staff = staff(test_platform)
    reader = uuid.uuid4()
    await deliver(
        test_platform,
        released(survivor, [non_compliance("KH-OSH-03")], released_on=date(2026, 10, 1)),
        released(retired, [non_compliance("KH-OSH-03"), non_compliance("KH-WT-07")], released_on=date(2026, 9, 1)),
        released(retired, [non_compliance("KH-CL-01", zero_tolerance=True)], cycle=2, released_on=date(2026, 11, 1)),
        access(retired, reader, 1),
    )
    async with serve_in_process(app) as client:
        member = await client.post(f"/v1/factories/{retired}/committee/members", json=MEMBER, headers=as_staff)
        assert member.status_code == 201, member.text

        merged = FactoryMerged(
            factory_id=retired, version=4, survivor_id=survivor, country="KH", merged_at=datetime.now(UTC)
        )
        # assessments numbered the cycles by date: the retired factory's first is the survivor's cycle 1
        renumbered = AssessmentCyclesRenumbered(
            factory_id=survivor,
            retired_id=retired,
            country="KH",
            moves=[
                CycleMove(factory_id=retired, from_cycle=1, to_cycle=1),
                CycleMove(factory_id=survivor, from_cycle=1, to_cycle=2),
                CycleMove(factory_id=retired, from_cycle=2, to_cycle=3),
            ],
            renumbered_at=datetime.now(UTC),
        )
        for event, source in ((merged, "/registry"), (renumbered, "/assessments"), (merged, "/registry")):
            await publish(dedicated_broker.bootstrap_servers, topic_prefix, event, source=source)

        async def survivors_plans() -> dict[int, str]:
            listed = await client.get("/v1/improvement-plans", params={"factory_id": str(survivor)}, headers=as_staff)
            return {p["cycle"]: p["id"] for p in listed.json()["items"]}

        async def committee() -> list[str]:
            found = await client.get(f"/v1/factories/{survivor}/committee", headers=factory(test_platform, survivor))
            return [m["display_name"] for m in found.json()["members"]]

        by_cycle = await wait_until(survivors_plans, lambda plans: len(plans) == 3, timeout=30)
        assert set(await items_of(client, as_staff, by_cycle[1])) == {"KH-OSH-03", "KH-WT-07"}
        assert set(await items_of(client, as_staff, by_cycle[2])) == {"KH-OSH-03"}
        assert set(await items_of(client, as_staff, by_cycle[3])) == {"KH-CL-01"}
        left = await client.get("/v1/improvement-plans", params={"factory_id": str(retired)}, headers=as_staff)
        assert left.json()["items"] == []
        assert await wait_until(committee, lambda names: names == ["Sokha"], timeout=30)

        refused = await client.post(f"/v1/factories/{retired}/committee/members", json=MEMBER, headers=as_staff)
        assert refused.status_code == 409 and refused.json()["survivor_id"] == str(survivor)

        # the buyer granted the retired factory's cycle 1 reads the survivor's cycle 1, and only that one
        for cycle, readable in ((1, True), (2, False)):
            issued = await client.post(
                f"/v1/improvement-plans/{by_cycle[cycle]}/progress-reports", json={"kind": "pr1"}, headers=as_staff
            )
            assert issued.status_code == 201, issued.text
            read = await client.get(f"/v1/progress-reports/{issued.json()['id']}", headers=buyer(test_platform, reader))
            assert (read.status_code == 200) is readable
