"""Buyers, sourcing links, consent, entitlements and the access decision over HTTP against real Postgres."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from betterwork_contracts.events.assessments import ZeroToleranceCaseOpened
from betterwork_contracts.events.invoicing import EntitlementPurchased
from devstack.pytest_plugin import TestPlatform, serve_in_process
from devstack.testkit.access import as_role, buyer, factory, staff
from devstack.testkit.database import fetch
from devstack.testkit.events import cloudevent_headers
from devstack.testkit.partnerships import known_factory, linked_buyer, registered_buyer
from messaging.envelope import Envelope
from partnerships.service import events_in
from partnerships.service.consents import expire_consents
from servicekit.auth import Role

pytestmark = pytest.mark.asyncio


@pytest.fixture
async def client(test_platform: TestPlatform) -> AsyncIterator[httpx.AsyncClient]:
    app = test_platform.app(
        "partnerships",
        relay_enabled=False,
        consumer_enabled=False,
        webhook_allow_private_targets=True,
        webhook_worker_enabled=False,
    )
    async with serve_in_process(app) as c:
        yield c


async def new_buyer(client: httpx.AsyncClient, platform: TestPlatform, tier: str = "partner") -> uuid.UUID:
    return uuid.UUID((await registered_buyer(client, platform, tier=tier))["id"])


async def outbox_types(platform: TestPlatform, aggregate_id: uuid.UUID) -> list[str]:
    rows = await fetch(
        platform,
        "partnerships",
        "SELECT type FROM partnerships.outbox WHERE aggregateid = $1 ORDER BY seq",
        str(aggregate_id),
    )
    return [r["type"].removeprefix("org.betterwork.partnerships.").removesuffix(".v1") for r in rows]


async def access_events(
    platform: TestPlatform, factory_id: uuid.UUID, kind: str = "report_access"
) -> list[tuple[str, int]]:
    """(granted or revoked, cycle) published for one kind of report: `report_access` (assessment reports) or
    `progress_report_access`."""
    rows = await fetch(
        platform,
        "partnerships",
        "SELECT type, payload FROM partnerships.outbox WHERE aggregateid = $1 AND type LIKE $2 ORDER BY seq",
        str(factory_id),
        f"org.betterwork.partnerships.{kind}.%",
    )
    return [(r["type"].split(".")[-2], json.loads(r["payload"])["cycle"]) for r in rows]


async def test_tier_changes_are_kept_and_published(client: httpx.AsyncClient, test_platform: TestPlatform) -> None:
    buyer_id = await new_buyer(client, test_platform, tier="participant")
    url = f"/v1/buyers/{buyer_id}"
    up = await client.patch(
        url, json={"tier": "partner", "agreement_signed_on": "2026-01-15"}, headers=staff(test_platform)
    )
    assert up.status_code == 200 and up.json()["tier"] == "partner"
    down = await client.patch(
        url, json={"tier": "participant", "tier_reason": "commitments not met"}, headers=staff(test_platform)
    )
    assert down.json()["tier"] == "participant"
    same = await client.patch(url, json={"tier": "participant"}, headers=staff(test_platform))
    assert same.status_code == 200  # no change asked, nothing recorded
    history = [(h["from_tier"], h["to_tier"], h["reason"]) for h in down.json()["tier_history"]]
    assert history == [
        (None, "participant", "registered"),
        ("participant", "partner", None),
        ("partner", "participant", "commitments not met"),
    ]
    assert await outbox_types(test_platform, buyer_id) == [
        "buyer.registered",
        "buyer.tier_changed",
        "buyer.tier_changed",
    ]
    own = buyer(test_platform, buyer_id)
    assert (await client.patch(url, json={"tier": "partner"}, headers=own)).status_code == 403
    assert (await client.get(url, headers=own)).status_code == 200


async def test_links_are_confirmed_by_the_other_side_or_staff(
    client: httpx.AsyncClient, test_platform: TestPlatform
) -> None:
    buyer_id, factory_id = await new_buyer(client, test_platform), await known_factory(test_platform)
    as_buyer = buyer(test_platform, buyer_id)
    as_factory = factory(test_platform, factory_id)
    declared = await client.post(
        "/v1/sourcing-links",
        json={"buyer_id": str(buyer_id), "factory_id": str(factory_id), "start_date": "2026-01-01"},
        headers=as_buyer,
    )
    assert declared.status_code == 201 and declared.json()["status"] == "declared"
    link = declared.json()["id"]
    again = await client.post(
        "/v1/sourcing-links", json={"buyer_id": str(buyer_id), "factory_id": str(factory_id)}, headers=as_factory
    )
    assert again.status_code == 409
    own_confirm = await client.post(f"/v1/sourcing-links/{link}/confirm", headers=as_buyer)
    assert own_confirm.status_code == 409
    confirmed = await client.post(f"/v1/sourcing-links/{link}/confirm", headers=as_factory)
    assert confirmed.json()["status"] == "confirmed" and confirmed.json()["confirmed_by"] == "factory"
    early = await client.post(f"/v1/sourcing-links/{link}/end", json={"end_date": "2025-12-31"}, headers=as_buyer)
    assert early.status_code == 409
    ended = await client.post(f"/v1/sourcing-links/{link}/end", json={"end_date": "2026-06-30"}, headers=as_buyer)
    assert ended.json()["status"] == "ended"

    by_staff = await client.post(
        "/v1/sourcing-links",
        json={"buyer_id": str(buyer_id), "factory_id": str(factory_id)},
        headers=staff(test_platform),
    )
    assert by_staff.json()["status"] == "confirmed" and by_staff.json()["declared_by"] == "staff"
    events = await fetch(
        test_platform,
        "partnerships",
        "SELECT payload FROM partnerships.outbox WHERE aggregateid = $1 AND type LIKE '%sourcing_link%' ORDER BY seq",
        str(factory_id),
    )
    assert [json.loads(e["payload"])["status"] for e in events] == ["declared", "confirmed", "ended", "confirmed"]


@pytest.mark.parametrize(
    ("scopes", "expires_in", "entitled", "granted", "progress"),
    [
        (["assessment_reports"], None, True, True, False),
        (["assessment_reports"], None, False, False, False),
        (["progress_reports", "zero_tolerance_alerts"], None, True, False, True),
        (["assessment_reports", "progress_reports"], None, True, True, True),
        (None, None, True, False, False),  # no consent at all
        (["assessment_reports"], timedelta(days=30), True, True, False),
    ],
)
async def test_the_access_decision_needs_consent_and_entitlement(
    client: httpx.AsyncClient,
    test_platform: TestPlatform,
    scopes: list[str] | None,
    expires_in: timedelta | None,
    entitled: bool,
    granted: bool,
    progress: bool,
) -> None:
    """Each kind of report is decided on its own scope: a consent to progress reports never opens the assessment
    report, nor the other way round."""
    buyer_id, factory_id = await new_buyer(client, test_platform), await known_factory(test_platform)
    as_factory = factory(test_platform, factory_id)
    if scopes is not None:
        body: dict[str, Any] = {"buyer_id": str(buyer_id), "scopes": scopes}
        if expires_in:
            body["expires_at"] = (datetime.now(UTC) + expires_in).isoformat()
        consent = await client.post(f"/v1/factories/{factory_id}/consents", json=body, headers=as_factory)
        assert consent.status_code == 201, consent.text
    if entitled:
        entitlement = await client.post(
            "/v1/entitlements",
            json={"buyer_id": str(buyer_id), "factory_id": str(factory_id), "cycle": 1},
            headers=staff(test_platform),
        )
        assert entitlement.status_code == 201, entitlement.text
    decided = await client.get(
        "/v1/report-access",
        params={"buyer_id": str(buyer_id), "factory_id": str(factory_id)},
        headers=staff(test_platform),
    )
    decisions = [(d["cycle"], d["granted"], d["progress_reports_granted"]) for d in decided.json()]
    assert decisions == ([(1, granted, progress)] if granted or progress else [])
    assert await access_events(test_platform, factory_id) == ([("granted", 1)] if granted else [])
    assert await access_events(test_platform, factory_id, "progress_report_access") == (
        [("granted", 1)] if progress else []
    )


async def test_revoking_or_expiry_closes_access_at_once(client: httpx.AsyncClient, test_platform: TestPlatform) -> None:
    buyer_id, factory_id = await new_buyer(client, test_platform), await known_factory(test_platform)
    as_factory = factory(test_platform, factory_id)
    for cycle in (1, 2):
        await client.post(
            "/v1/entitlements",
            json={"buyer_id": str(buyer_id), "factory_id": str(factory_id), "cycle": cycle},
            headers=staff(test_platform),
        )
    consent = await client.post(
        f"/v1/factories/{factory_id}/consents",
        json={"buyer_id": str(buyer_id), "scopes": ["assessment_reports"]},
        headers=as_factory,
    )
    revoked = await client.post(f"/v1/consents/{consent.json()['id']}/revoke", headers=as_factory)
    assert revoked.status_code == 200 and revoked.json()["revoke_reason"] == "revoked"
    assert await access_events(test_platform, factory_id) == [
        ("granted", 1),
        ("granted", 2),
        ("revoked", 1),
        ("revoked", 2),
    ]
    twice = await client.post(f"/v1/consents/{consent.json()['id']}/revoke", headers=as_factory)
    assert twice.status_code == 409

    soon = (datetime.now(UTC) + timedelta(seconds=1)).isoformat()
    short = await client.post(
        f"/v1/factories/{factory_id}/consents",
        json={"buyer_id": str(buyer_id), "scopes": ["assessment_reports"], "expires_at": soon},
        headers=as_factory,
    )
    assert short.status_code == 201
    await asyncio.sleep(1.2)
    async with client._transport.app.state.database.unit_of_work() as uow:  # type: ignore[attr-defined]
        expired = await expire_consents(uow)
        await uow.commit()
    assert expired >= 1
    history = await client.get("/v1/consents", params={"factory_id": str(factory_id)}, headers=as_factory)
    assert sorted(c["revoke_reason"] for c in history.json()["items"]) == ["expired", "revoked"]
    assert (await access_events(test_platform, factory_id))[-2:] == [("revoked", 1), ("revoked", 2)]
    past = await client.post(
        f"/v1/factories/{factory_id}/consents",
        json={"buyer_id": str(buyer_id), "scopes": ["assessment_reports"], "expires_at": "2020-01-01T00:00:00Z"},
        headers=as_factory,
    )
    assert past.status_code == 409


async def test_nobody_sees_another_organisations_data(client: httpx.AsyncClient, test_platform: TestPlatform) -> None:
    mine, theirs = await new_buyer(client, test_platform), await new_buyer(client, test_platform)
    factory_id = await known_factory(test_platform)
    await client.post(
        "/v1/sourcing-links",
        json={"buyer_id": str(theirs), "factory_id": str(factory_id)},
        headers=staff(test_platform),
    )
    me = buyer(test_platform, mine)
    assert (await client.get(f"/v1/buyers/{theirs}", headers=me)).status_code == 404
    assert [b["id"] for b in (await client.get("/v1/buyers", headers=me)).json()["items"]] == [str(mine)]
    assert (await client.get("/v1/sourcing-links", params={"factory_id": str(factory_id)}, headers=me)).json()[
        "items"
    ] == []
    probe = await client.get(
        "/v1/report-access", params={"buyer_id": str(theirs), "factory_id": str(factory_id)}, headers=me
    )
    assert probe.status_code == 404
    consent = await client.post(
        f"/v1/factories/{factory_id}/consents",
        json={"buyer_id": str(mine), "scopes": ["assessment_reports"]},
        headers=me,
    )
    assert consent.status_code == 404  # a buyer cannot consent on a factory's behalf
    other_factory = factory(test_platform, uuid.uuid4())
    assert (
        await client.get("/v1/sourcing-links", params={"factory_id": str(factory_id)}, headers=other_factory)
    ).json()["items"] == []
    vn = staff(test_platform, "VN")
    assert (await client.get("/v1/sourcing-links", params={"factory_id": str(factory_id)}, headers=vn)).json()[
        "items"
    ] == []
    assert (
        await client.post("/v1/buyers", json={"name": "X", "headquarters_country": "SE"}, headers=me)
    ).status_code == 403
    assert (await client.get("/v1/buyers")).status_code == 401


def envelope_of(event: Any) -> Envelope:
    """The envelope the consumer would hand over with `event` (as our outbox writes it)."""
    return Envelope.from_headers(cloudevent_headers(event, source="/elsewhere"))


async def test_an_entitlement_bought_through_invoicing_opens_access_once(
    client: httpx.AsyncClient, test_platform: TestPlatform
) -> None:
    buyer_id, factory_id = await new_buyer(client, test_platform), await known_factory(test_platform)
    await client.post(
        f"/v1/factories/{factory_id}/consents",
        json={"buyer_id": str(buyer_id), "scopes": ["assessment_reports"]},
        headers=factory(test_platform, factory_id),
    )
    event = EntitlementPurchased(
        entitlement_id=uuid.uuid4(),
        buyer_id=buyer_id,
        factory_id=factory_id,
        cycle=2,
        source="credit",
        purchased_at=datetime.now(UTC),
    )
    database = client._transport.app.state.database  # type: ignore[attr-defined]
    for _ in range(2):  # a redelivered purchase changes nothing
        async with database.unit_of_work() as uow:
            await events_in.entitlement_purchased(uow, event, envelope_of(event))
            await uow.commit()
    assert await access_events(test_platform, factory_id) == [("granted", 2)]


async def test_a_zero_tolerance_case_alerts_linked_buyers_and_the_protocols_parties(
    client: httpx.AsyncClient, test_platform: TestPlatform
) -> None:
    linked, unlinked = await new_buyer(client, test_platform), await new_buyer(client, test_platform)
    factory_id = await known_factory(test_platform)
    await client.post(
        "/v1/sourcing-links",
        json={"buyer_id": str(linked), "factory_id": str(factory_id)},
        headers=staff(test_platform),
    )
    for owner in (linked, unlinked):
        registered = await client.post(
            "/v1/webhook-endpoints",
            json={"url": "http://127.0.0.1:9/hook", "event_types": ["alert.raised"]},
            headers=buyer(test_platform, owner),
        )
        assert registered.status_code == 201, registered.text
    ministry = await client.post(
        "/v1/webhook-endpoints",
        json={
            "url": "http://127.0.0.1:9/ministry",
            "event_types": ["*"],
            "party": "ministry_of_labour",
            "country": "KH",
        },
        headers=as_role(
            test_platform,
            Role.SERVICE,
            subject=f"inspectorate-{uuid.uuid4().hex[:6]}",
            scopes=["zt:receive:ministry_of_labour:KH"],
        ),
    )
    assert ministry.status_code == 201, ministry.text
    granted = await client.post(
        f"/v1/webhook-endpoints/{ministry.json()['id']}/party-grant",
        json={"party": "ministry_of_labour"},
        headers=staff(test_platform),
    )
    assert granted.status_code == 200, granted.text
    event = ZeroToleranceCaseOpened(
        case_id=uuid.uuid4(),
        factory_id=factory_id,
        country="KH",
        category="forced_labour",
        source="hotline",
        opened_at=datetime.now(UTC),
        notify=["ministry_of_labour", "linked_buyers"],
    )
    database = client._transport.app.state.database  # type: ignore[attr-defined]
    async with database.unit_of_work() as uow:
        await events_in.case_opened(uow, event, envelope_of(event))
        await uow.commit()
    alerts = (
        await client.get("/v1/alerts", params={"factory_id": str(factory_id)}, headers=staff(test_platform))
    ).json()["items"]
    assert [(a["buyer_ids"], a["parties"], a["endpoints"]) for a in alerts] == [
        ([str(linked)], ["ministry_of_labour", "linked_buyers"], 2)
    ]
    mine = await client.get("/v1/alerts", headers=buyer(test_platform, unlinked))
    assert [a["case_id"] for a in mine.json()["items"]] == []
    (raised,) = [t for t in await outbox_types(test_platform, factory_id) if t.startswith("alert")]
    assert raised == "alert.raised"


async def test_a_buyer_sees_its_own_alerts_and_not_the_other_buyers_alerted(
    client: httpx.AsyncClient, test_platform: TestPlatform
) -> None:
    """Who buys from whom is confidential: two buyers of one factory are alerted of one case, and each reads
    the alert naming itself only."""
    first, second = await new_buyer(client, test_platform), await new_buyer(client, test_platform)
    factory_id = await known_factory(test_platform)
    for owner in (first, second):
        linked = await client.post(
            "/v1/sourcing-links",
            json={"buyer_id": str(owner), "factory_id": str(factory_id)},
            headers=staff(test_platform),
        )
        assert linked.status_code == 201, linked.text
    event = ZeroToleranceCaseOpened(
        case_id=uuid.uuid4(),
        factory_id=factory_id,
        country="KH",
        category="child_labour",
        source="assessment",
        opened_at=datetime.now(UTC),
        notify=["linked_buyers"],
    )
    database = client._transport.app.state.database  # type: ignore[attr-defined]
    async with database.unit_of_work() as uow:
        await events_in.case_opened(uow, event, envelope_of(event))
        await uow.commit()
    as_staff = await client.get("/v1/alerts", params={"factory_id": str(factory_id)}, headers=staff(test_platform))
    assert sorted(as_staff.json()["items"][0]["buyer_ids"]) == sorted([str(first), str(second)])
    for owner in (first, second):
        seen = (
            await client.get("/v1/alerts", params={"factory_id": str(factory_id)}, headers=buyer(test_platform, owner))
        ).json()["items"]
        assert [(a["case_id"], a["buyer_ids"], a["endpoints"]) for a in seen] == [
            (str(event.case_id), [str(owner)], None)
        ]


async def test_alerts_come_in_cursor_pages_newest_first_and_narrow_by_kind(
    client: httpx.AsyncClient, test_platform: TestPlatform
) -> None:
    """Five zero-tolerance cases and one industry alert at a factory: a buyer linked to it pages through all six
    alerts two at a time (full pages, none twice, newest first), and `kind` narrows to one kind of alert."""
    factory_id = await known_factory(test_platform)
    owner = (await linked_buyer(client, test_platform, factory_id, cycle=None)).buyer_id
    database = client._transport.app.state.database  # type: ignore[attr-defined]
    cases = [uuid.uuid4() for _ in range(5)]
    for case_id in cases:
        event = ZeroToleranceCaseOpened(
            case_id=case_id,
            factory_id=factory_id,
            country="KH",
            category="child_labour",
            source="hotline",
            opened_at=datetime.now(UTC),
            notify=["linked_buyers"],
        )
        async with database.unit_of_work() as uow:
            await events_in.case_opened(uow, event, envelope_of(event))
            await uow.commit()
    issued = await client.post(
        "/v1/industry-alerts",
        json={"kind": "strike", "title": "Strike", "body": "Roads blocked.", "country": "KH",
              "factory_ids": [str(factory_id)]},
        headers=staff(test_platform),
    )  # fmt: skip
    assert issued.status_code == 201, issued.text
    as_owner = buyer(test_platform, owner)

    pages, cursor = [], None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        answer = await client.get("/v1/alerts", params=params, headers=as_owner)
        assert answer.status_code == 200, answer.text
        pages.append(answer.json()["items"])
        cursor = answer.json()["next_cursor"]
        if cursor is None:
            break
    assert [len(p) for p in pages] == [2, 2, 2]
    seen = [a for p in pages for a in p]
    assert [a["kind"] for a in seen] == ["industry_alert"] + ["zero_tolerance.case_opened"] * 5
    assert [a["case_id"] for a in seen[1:]] == [str(c) for c in reversed(cases)]
    assert [a["raised_at"] for a in seen] == sorted((a["raised_at"] for a in seen), reverse=True)

    industry = await client.get("/v1/alerts", params={"kind": "industry_alert"}, headers=as_owner)
    assert [a["industry_alert_id"] for a in industry.json()["items"]] == [issued.json()["id"]]
    cases_only = await client.get(
        "/v1/alerts",
        params={"factory_id": str(factory_id), "kind": "zero_tolerance.case_opened", "limit": 3},
        headers=staff(test_platform),
    )
    assert [a["case_id"] for a in cases_only.json()["items"]] == [str(c) for c in reversed(cases)][:3]
    assert cases_only.json()["next_cursor"] is not None
    unknown = await client.get("/v1/alerts", params={"kind": "gossip"}, headers=as_owner)
    assert unknown.status_code == 422, unknown.text


async def test_two_revocations_of_one_consent_at_once_cannot_both_win(
    client: httpx.AsyncClient, test_platform: TestPlatform
) -> None:
    """The consent's row is locked while it is revoked: the second revocation finds it revoked (409), so access
    closes once and `consent.revoked` is published once."""
    factory_id = await known_factory(test_platform)
    linked = await linked_buyer(client, test_platform, factory_id, scopes=("assessment_reports",))
    assert await access_events(test_platform, factory_id) == [("granted", 1)]
    as_factory = factory(test_platform, factory_id)
    revoke = f"/v1/consents/{linked.consent['id']}/revoke"

    first, second = await asyncio.gather(
        client.post(revoke, headers=as_factory), client.post(revoke, headers=staff(test_platform))
    )

    assert sorted([first.status_code, second.status_code]) == [200, 409], (first.text, second.text)
    assert await access_events(test_platform, factory_id) == [("granted", 1), ("revoked", 1)]
    revoked = await fetch(
        test_platform,
        "partnerships",
        "SELECT count(*) AS n FROM partnerships.outbox WHERE aggregateid = $1 AND type LIKE '%consent.revoked%'",
        str(factory_id),
    )
    assert revoked[0]["n"] == 1


async def test_a_buyer_with_text_that_cannot_be_stored_is_refused_and_the_list_still_reads(
    client: httpx.AsyncClient, test_platform: TestPlatform
) -> None:
    """Fuzzing found `POST /v1/buyers` accepting a lone surrogate in a contact, after which `GET /v1/buyers`
    answered 500 to every caller. What is accepted must read back."""
    headers = {**staff(test_platform), "Content-Type": "application/json"}
    for bad in (b"\\ud83d", b"x\\u0000y"):
        body = (
            b'{"name": "Brand Surrogate", "headquarters_country": "SE", "tier": "partner",'
            b' "contacts": [{"name": "' + bad + b'"}]}'
        )
        refused = await client.post("/v1/buyers", content=body, headers=headers)
        assert refused.status_code == 422, refused.text
    unusual = await registered_buyer(
        client, test_platform, contacts=[{"name": "Ngọc Ánh 🧵 \u200b\ufeff\U0010fffd", "role": "CSR"}]
    )
    listed = await client.get("/v1/buyers", params={"limit": 100}, headers=staff(test_platform))
    assert listed.status_code == 200, listed.text
    one = await client.get(f"/v1/buyers/{unusual['id']}", headers=staff(test_platform))
    assert one.json()["contacts"][0]["name"] == "Ngọc Ánh 🧵 \u200b\ufeff\U0010fffd"
