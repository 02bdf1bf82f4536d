"""End to end across registry, assessments and partnerships, through real events and HTTP:

a factory registered and enrolled; a buyer linked with consent and an entitlement; an assessment released
(the buyer can read it); a zero-tolerance finding recorded (the buyer's webhook receives a valid signed
alert); consent revoked (the buyer can no longer read the report).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import uvicorn
from standardwebhooks import Webhook
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from devstack.broker import TansuBroker
from devstack.pytest_plugin import TestPlatform, serve_in_process
from devstack.testkit.access import team_leader
from devstack.testkit.assessments import all_compliant, kh_tool, move, release, schedule, status_in_assessments
from devstack.testkit.database import fetch
from devstack.testkit.events import on
from devstack.testkit.registry import new_factory
from devstack.testkit.waiting import wait_until
from servicekit.auth import Role


class Receiver:
    """A buyer's webhook endpoint: keeps every delivery whose signature verifies, counts those that do not."""

    def __init__(self) -> None:
        self.secret: str | None = None
        self.verified: list[dict[str, Any]] = []
        self.rejected = 0

    async def receive(self, request: Request) -> Response:
        body = await request.body()
        try:
            assert self.secret is not None
            payload = Webhook(self.secret).verify(body, dict(request.headers))
        except Exception:
            self.rejected += 1
            return Response(status_code=400)
        self.verified.append(payload)
        return Response(status_code=204)


@contextlib.contextmanager
def serve_receiver(receiver: Receiver) -> Iterator[str]:
    app = Starlette(routes=[Route("/hook", receiver.receive, methods=["POST"])])
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}/hook"
    finally:
        server.should_exit = True
        thread.join(10)


async def test_consent_entitlement_report_alert_and_revocation_across_three_services(
    test_platform: TestPlatform, dedicated_broker: TansuBroker, topic_prefix: str
) -> None:
    staff = {"Authorization": f"Bearer {test_platform.token(Role.STAFF, country='KH', subject='ea-chan')}"}
    common = on(dedicated_broker, topic_prefix)
    receiver = Receiver()
    with serve_receiver(receiver) as hook_url:
        async with (
            serve_in_process(test_platform.app("registry", **common)) as registry,
            serve_in_process(test_platform.app("assessments", **common)) as assessments,
            serve_in_process(
                test_platform.app("partnerships", **common, webhook_allow_private_targets=True)
            ) as partnerships,
        ):
            # The factory is registered and enrolled at the registry.
            created = await registry.post("/v1/factories", json=new_factory(), headers=staff)
            factory_id = created.json()["factory"]["id"]
            enrolled = await registry.post(
                f"/v1/factories/{factory_id}/status-changes",
                json={"change": "enrolled", "service_package": "core", "start_date": "2027-01-01"},
                headers=staff,
            )
            assert enrolled.status_code == 201

            # A buyer, linked, with consent and an entitlement; its webhook endpoint.
            buyer = await partnerships.post(
                "/v1/buyers",
                json={"name": "Nordic Outdoor", "headquarters_country": "NO", "tier": "partner"},
                headers=staff,
            )
            buyer_id = buyer.json()["id"]
            as_buyer = {"Authorization": f"Bearer {test_platform.token(Role.BUYER, organisation_id=buyer_id)}"}
            as_factory = {"Authorization": f"Bearer {test_platform.token(Role.FACTORY, organisation_id=factory_id)}"}

            async def factory_known_to(service: str) -> bool:
                rows = await fetch(
                    test_platform,
                    service,
                    f"SELECT 1 FROM {service}.factory_ref WHERE factory_id = $1",
                    uuid.UUID(factory_id),
                )
                return bool(rows)

            await wait_until(lambda: factory_known_to("partnerships"), bool, timeout=60)
            link = await partnerships.post(
                "/v1/sourcing-links", json={"buyer_id": buyer_id, "factory_id": factory_id}, headers=as_buyer
            )
            confirmed = await partnerships.post(f"/v1/sourcing-links/{link.json()['id']}/confirm", headers=as_factory)
            assert confirmed.json()["status"] == "confirmed", confirmed.text
            consent = await partnerships.post(
                f"/v1/factories/{factory_id}/consents",
                json={"buyer_id": buyer_id, "scopes": ["assessment_reports", "zero_tolerance_alerts"]},
                headers=as_factory,
            )
            assert consent.status_code == 201, consent.text
            entitled = await partnerships.post(
                "/v1/entitlements", json={"buyer_id": buyer_id, "factory_id": factory_id, "cycle": 1}, headers=staff
            )
            assert entitled.status_code == 201, entitled.text
            endpoint = await partnerships.post(
                "/v1/webhook-endpoints", json={"url": hook_url, "event_types": ["alert.raised"]}, headers=as_buyer
            )
            assert endpoint.status_code == 201, endpoint.text
            receiver.secret = endpoint.json()["secret"]

            # An assessment is released: the buyer can read it.
            await wait_until(
                lambda: status_in_assessments(test_platform, uuid.UUID(factory_id)),
                lambda s: s == "enrolled",
                timeout=60,
            )
            assessment = await schedule(assessments, staff, uuid.UUID(factory_id))
            aid = assessment["id"]
            await move(assessments, staff, aid, "in_progress")
            await assessments.put(f"/v1/assessments/{aid}/findings", json={"findings": all_compliant()}, headers=staff)
            await release(assessments, staff, team_leader(test_platform), aid)
            report = f"/v1/assessments/{aid}/report"

            async def buyer_reads() -> int:
                return (await assessments.get(report, headers=as_buyer)).status_code

            await wait_until(buyer_reads, lambda status: status == 200, timeout=60)

            # A zero-tolerance finding: the buyer's webhook receives a valid signed alert.
            follow_up = await schedule(assessments, staff, uuid.UUID(factory_id), assessment_type="follow_up")
            await move(assessments, staff, follow_up["id"], "in_progress")
            question = next(q for q in kh_tool()["questions"] if "zero_tolerance" in (q.get("tags") or []))
            recorded = await assessments.put(
                f"/v1/assessments/{follow_up['id']}/findings/{question['code']}",
                json={"result": "non_compliant", "evidence": "Worker Dara, 14, line 3", "workers_affected": 1},
                headers=staff,
            )
            (case_id,) = recorded.json()["zero_tolerance_cases_opened"]
            await wait_until(lambda: asyncio.sleep(0, receiver.verified), lambda got: len(got) >= 1, timeout=60)
            alert = receiver.verified[0]
            assert alert["type"] == "alert.raised"
            assert alert["data"]["case_id"] == case_id and alert["data"]["factory_id"] == factory_id
            assert alert["data"]["category"] == question["zero_tolerance_category"]
            assert "Dara" not in json.dumps(alert) and receiver.rejected == 0

            # The factory revokes its consent: the buyer can no longer read the report.
            revoked = await partnerships.post(f"/v1/consents/{consent.json()['id']}/revoke", headers=as_factory)
            assert revoked.status_code == 200
            await wait_until(buyer_reads, lambda status: status == 404, timeout=60)
