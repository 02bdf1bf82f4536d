"""A factory merge on the real broker: links, consents, entitlements and access decisions of the retired record
follow the survivor (one open link per buyer, the most permissive kept), alerts of the survivor reach buyers
linked through the retired id, and new consents, entitlements and links naming the retired id answer 409 with
the survivor's id."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from betterwork_contracts.events.assessments import AssessmentCyclesRenumbered, CycleMove, ZeroToleranceCaseOpened
from betterwork_contracts.events.registry import FactoryMerged
from devstack.broker import TansuBroker
from devstack.pytest_plugin import TestPlatform, serve_in_process
from devstack.testkit.access import buyer, factory, staff
from devstack.testkit.advisory import publish
from devstack.testkit.events import on
from devstack.testkit.partnerships import known_factory, linked_buyer, registered_buyer
from devstack.testkit.waiting import wait_until
from partnerships.domain.merge import consents_closed_by_merge, fold_links
from partnerships.domain.relationships import Consent, LinkStatus, Scope, Side, SourcingLink, confirm, declare

NOW = datetime(2026, 11, 1, tzinfo=UTC)


def test_one_open_link_per_buyer_survives_and_the_confirmed_one_is_kept() -> None:
    survivor, retired, buyer_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()

    def link(factory_id: uuid.UUID, side: Side, start: str) -> SourcingLink:
        return declare(
            link_id=uuid.uuid4(), buyer_id=buyer_id, factory_id=factory_id, side=side, subject="s",
            start_date=datetime.fromisoformat(start).date(), now=NOW,
        )  # fmt: skip

    declared_on_survivor = link(survivor, Side.BUYER, "2025-01-01")
    confirmed_on_retired = confirm(link(retired, Side.BUYER, "2024-06-01"), Side.FACTORY, "f", NOW)
    fold = fold_links([declared_on_survivor, confirmed_on_retired], survivor=survivor, now=NOW)
    (kept,) = fold.kept
    assert (kept.id, kept.factory_id, kept.status) == (confirmed_on_retired.id, survivor, LinkStatus.CONFIRMED)
    assert kept.start_date == datetime(2024, 6, 1).date()  # the relationship began with the earlier link
    assert fold.folded == [declared_on_survivor.id]


def test_a_merge_never_reopens_what_the_factory_revoked_last() -> None:
    buyer_id, survivor, retired = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    old = Consent(uuid.uuid4(), retired, buyer_id, [Scope.ASSESSMENT_REPORTS], NOW - timedelta(days=90), "f", None)
    revoked = Consent(
        uuid.uuid4(), survivor, buyer_id, [Scope.ASSESSMENT_REPORTS], NOW - timedelta(days=60), "f", None,
        revoked_at=NOW - timedelta(days=30), revoked_by="f", revoke_reason="revoked",
    )  # fmt: skip
    assert consents_closed_by_merge([old, revoked]) == [old.id]
    again = Consent(uuid.uuid4(), retired, buyer_id, [Scope.ASSESSMENT_REPORTS], NOW - timedelta(days=1), "f", None)
    assert consents_closed_by_merge([old, revoked, again]) == []  # consented again after revoking: yes stands


async def test_links_consents_entitlements_and_alerts_follow_the_survivor(
    test_platform: TestPlatform, dedicated_broker: TansuBroker, topic_prefix: str
) -> None:
    app = test_platform.app(
        "partnerships",
        **on(dedicated_broker, topic_prefix, kafka_fetch_max_wait_ms=25),
        webhook_allow_private_targets=True,
        webhook_worker_enabled=False,
    )
    survivor, retired = await known_factory(test_platform), await known_factory(test_platform)
    as_staff = staff(test_platform)
    async with serve_in_process(app) as client:
        through_retired = await linked_buyer(client, test_platform, retired, cycle=1)
        both = await linked_buyer(client, test_platform, retired, cycle=None)
        declared = await client.post(
            "/v1/sourcing-links",
            json={"buyer_id": str(both.buyer_id), "factory_id": str(survivor)},
            headers=buyer(test_platform, both.buyer_id),
        )
        assert declared.status_code == 201 and declared.json()["status"] == "declared"
        of_survivor = await linked_buyer(client, test_platform, survivor, cycle=1)

        merged = FactoryMerged(
            factory_id=retired, version=4, survivor_id=survivor, country="KH", merged_at=datetime.now(UTC)
        )
        renumbered = AssessmentCyclesRenumbered(
            factory_id=survivor,
            retired_id=retired,
            country="KH",
            moves=[
                CycleMove(factory_id=retired, from_cycle=1, to_cycle=1),
                CycleMove(factory_id=survivor, from_cycle=1, to_cycle=2),
            ],
            renumbered_at=datetime.now(UTC),
        )
        for event, source in ((merged, "/registry"), (merged, "/registry"), (renumbered, "/assessments")):
            await publish(dedicated_broker.bootstrap_servers, topic_prefix, event, source=source)

        async def access_of(buyer_id: uuid.UUID) -> list[tuple[int, bool]]:
            answer = await client.get(
                "/v1/report-access", params={"buyer_id": str(buyer_id), "factory_id": str(survivor)}, headers=as_staff
            )
            return [(d["cycle"], d["granted"]) for d in answer.json()]

        # the buyer entitled to the retired record's cycle 1 reads it as the survivor's cycle 1; the survivor's
        # own buyer keeps its report, now the survivor's cycle 2
        assert await wait_until(lambda: access_of(through_retired.buyer_id), lambda d: d == [(1, True)], timeout=30)
        assert await wait_until(lambda: access_of(of_survivor.buyer_id), lambda d: d == [(2, True)], timeout=30)

        links = await client.get("/v1/sourcing-links", params={"factory_id": str(survivor)}, headers=as_staff)
        open_links = {(link["buyer_id"], link["status"]) for link in links.json()["items"]}
        assert open_links == {
            (str(through_retired.buyer_id), "confirmed"),
            (str(both.buyer_id), "confirmed"),  # one link, the confirmed one, not the declared duplicate
            (str(of_survivor.buyer_id), "confirmed"),
        }
        left = await client.get("/v1/sourcing-links", params={"factory_id": str(retired)}, headers=as_staff)
        assert left.json()["items"] == []

        other = (await registered_buyer(client, test_platform))["id"]
        for answer in (
            await client.post(
                f"/v1/factories/{retired}/consents",
                json={"buyer_id": other, "scopes": ["assessment_reports"]},
                headers=factory(test_platform, retired),
            ),
            await client.post(
                "/v1/entitlements", json={"buyer_id": other, "factory_id": str(retired), "cycle": 1}, headers=as_staff
            ),
            await client.post(
                "/v1/sourcing-links", json={"buyer_id": other, "factory_id": str(retired)}, headers=as_staff
            ),
        ):
            assert answer.status_code == 409, answer.text
            assert answer.json()["survivor_id"] == str(survivor)

        for case_factory in (survivor, retired):  # a case still naming the retired id is the survivor's too
            opened = ZeroToleranceCaseOpened(
                case_id=uuid.uuid4(), factory_id=case_factory, country="KH", category="forced_labour",
                source="hotline", opened_at=datetime.now(UTC), notify=[],
            )  # fmt: skip
            await publish(dedicated_broker.bootstrap_servers, topic_prefix, opened, source="/assessments")

        async def alerts() -> list[dict[str, object]]:
            answer = await client.get("/v1/alerts", params={"factory_id": str(survivor)}, headers=as_staff)
            found: list[dict[str, object]] = answer.json()["items"]
            return found

        raised = await wait_until(alerts, lambda found: len(found) == 2, timeout=30)
        expected = sorted(str(b) for b in (through_retired.buyer_id, both.buyer_id, of_survivor.buyer_id))
        assert [sorted(a["buyer_ids"]) for a in raised] == [expected, expected]  # type: ignore[call-overload]
        mine = await client.get("/v1/alerts", headers=buyer(test_platform, through_retired.buyer_id))
        assert len(mine.json()["items"]) == 2
