"""`betterwork demo` end to end: the platform started by `betterwork run` (six service processes, a database of
its own, topics of its own), a 12-factory Cambodian programme loaded through the public APIs, then looked at as
its users would: staff list the factories and see the zero-tolerance case, an entitled buyer reads a released
report (and not another factory's), the factory's plan has an issued progress report, finance sees paid
invoices, the public API and portal show the factories the publication named. A second run says the programme
is loaded already and changes nothing, and no event went to a dead-letter topic on the way.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from devstack.demo_programme import Programme, cambodia
from devstack.net import free_port
from devstack.provision import drop_database
from devstack.pytest_plugin import TestPlatform
from servicekit.auth.local_issuer import LOCAL_AUDIENCE, LOCAL_ISSUER, LocalSigningKey
from servicekit.auth.principal import Role
from servicekit.settings import libpq_dsn

pytestmark = pytest.mark.slow

BETTERWORK = str(Path(sys.executable).with_name("betterwork"))
FACTORIES, SEED = 12, 7


@pytest.fixture
def own_database(test_platform: TestPlatform) -> Iterator[str]:
    """A database the launcher creates itself, so the demo meets no other test's factories."""
    url = test_platform.admin_url.set(database=f"{test_platform.admin_url.database}_demo")
    yield libpq_dsn(url)
    asyncio.run(drop_database(url))


class Users:
    """Headers of the programme's people, signed with the key the launcher made (as `betterwork token` does)."""

    def __init__(self, state_dir: Path) -> None:
        self.key = LocalSigningKey.load_or_create(state_dir / "keys")

    def _as(self, *roles: Role, **claims: Any) -> dict[str, str]:
        token = self.key.mint(roles=roles, issuer=LOCAL_ISSUER, audience=LOCAL_AUDIENCE, **claims)
        return {"Authorization": f"Bearer {token}"}

    def staff(self, *scopes: str) -> dict[str, str]:
        return self._as(Role.STAFF, country="KH", subject="ea-test", scopes=scopes)

    def buyer(self, buyer_id: str) -> dict[str, str]:
        return self._as(Role.BUYER, organisation_id=buyer_id, subject="brand-test")

    def factory(self, factory_id: str) -> dict[str, str]:
        return self._as(Role.FACTORY, organisation_id=factory_id, country="KH", subject="factory-test")


def test_demo_loads_a_programme_every_user_can_see(
    test_platform: TestPlatform, own_database: str, tmp_path: Path
) -> None:
    ports = {name: free_port() for name in test_platform.services}
    state = tmp_path / "state"
    env = {
        **os.environ,
        "BW_STATE_DIR": str(state),
        "DATABASE_URL": own_database,
        "KAFKA_BOOTSTRAP_SERVERS": test_platform.kafka_bootstrap_servers,
        "KAFKA_TOPIC_PREFIX": f"demo{os.getpid()}.",
        "COLUMNS": "160",
        **{f"{name.upper()}_PORT": str(port) for name, port in ports.items()},
    }
    for name in ("AUTH_JWKS_URL", "AUTH_PUBLIC_KEY", "AUTH_PUBLIC_KEY_FILE"):
        env.pop(name, None)
    url = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    log_path = tmp_path / "run.log"
    log = log_path.open("w")
    launcher = subprocess.Popen([BETTERWORK, "run"], env=env, stdout=log, stderr=subprocess.STDOUT, text=True)
    try:
        _wait_until_ready(launcher, url.values(), log_path, timeout=120)
        demo = [BETTERWORK, "demo", "--factories", str(FACTORIES), "--seed", str(SEED), "--wait", "60"]
        loaded = subprocess.run(demo, env=env, capture_output=True, text=True, timeout=240)
        assert loaded.returncode == 0, loaded.stdout + loaded.stderr
        out = loaded.stdout
        assert "Factories registered and enrolled" in out and f"{FACTORIES}/{FACTORIES}" in out, out
        assert "Publication: compute, review, approve" in out and "approved and released" in out, out
        assert f"{url['transparency']}/portal/factories?country=KH" in out
        assert f"{url['registry']}/docs" in out and "betterwork token --role staff --country KH" in out

        programme = cambodia(FACTORIES, seed=SEED)
        users = Users(state)
        with httpx.Client(timeout=10) as client:
            _staff_see_the_programme(client, url, users, programme)
            _an_entitled_buyer_reads_a_released_report(client, url, users)
            _finance_sees_paid_invoices(client, url, users)
            _the_public_sees_the_published_factories(client, url, [f.name for f in programme.published()])

        again = subprocess.run(demo, env=env, capture_output=True, text=True, timeout=120)
        assert again.returncode == 0, again.stdout + again.stderr
        assert "loaded already" in again.stdout and "Where to look" in again.stdout
        with httpx.Client(timeout=10) as client:
            listed = client.get(
                f"{url['registry']}/v1/factories", params={"country": "KH", "limit": 200}, headers=users.staff()
            )
            assert len(listed.json()["items"]) == FACTORIES  # nothing registered twice

        # A year of a programme through all six services leaves no event behind: no dead letter in any topic.
        letters = subprocess.run([BETTERWORK, "dlq", "list"], env=env, capture_output=True, text=True, timeout=60)
        assert letters.returncode == 0 and letters.stdout.strip() == "no dead letters", letters.stdout + letters.stderr

        launcher.send_signal(signal.SIGINT)
        launcher.wait(60)
    finally:
        if launcher.poll() is None:
            launcher.kill()
            launcher.wait()
        log.close()


def _wait_until_ready(launcher: subprocess.Popen[str], urls: Iterable[str], log_path: Path, timeout: float) -> None:
    """Until every service answers ready (the launcher prints its table then); fail with its output if it quits."""
    deadline = time.monotonic() + timeout
    pending = set(urls)
    with httpx.Client(timeout=2) as client:
        while pending:
            if launcher.poll() is not None:
                raise AssertionError(f"the launcher exited with code {launcher.returncode}: {log_path.read_text()}")
            for base in list(pending):
                with contextlib.suppress(httpx.HTTPError):
                    if client.get(f"{base}/health/ready").status_code == 200:
                        pending.discard(base)
            assert time.monotonic() < deadline, f"not ready after {timeout}s: {pending}"
            time.sleep(0.25)


def _staff_see_the_programme(client: httpx.Client, url: dict[str, str], users: Users, programme: Programme) -> None:
    staff = users.staff()
    listed = client.get(f"{url['registry']}/v1/factories", params={"country": "KH", "limit": 200}, headers=staff)
    assert listed.status_code == 200, listed.text
    held = {f["name"]: f for f in listed.json()["items"]}
    assert set(held) == {f.name for f in programme.factories}
    assert {f["status"] for f in held.values()} == {"active"}

    cases = client.get(f"{url['assessments']}/v1/zero-tolerance-cases", headers=staff).json()["items"]
    (case,) = cases
    case_factory = programme.factories[programme.zero_tolerance_factory]
    assert case["factory_id"] == held[case_factory.name]["id"]
    assert (case["category"], case["status"]) == ("child_labour", "remediation")
    detail = client.get(f"{url['assessments']}/v1/zero-tolerance-cases/{case['id']}", headers=staff).json()
    assert [(r["party"], r["acknowledged_at"] is not None) for r in detail["referrals"]] == [
        ("ministry_of_labour", True)
    ]

    reports = client.get(f"{url['advisory']}/v1/progress-reports", params={"limit": 200}, headers=staff)
    assert reports.status_code == 200, reports.text
    issued = reports.json()["items"]
    assert issued and {r["kind"] for r in issued} <= {"pr1", "pr2"}
    report = issued[0]
    as_factory = users.factory(report["factory_id"])
    plan = client.get(f"{url['advisory']}/v1/improvement-plans/{report['plan_id']}", headers=as_factory)
    assert plan.status_code == 200, plan.text
    items = client.get(f"{url['advisory']}/v1/improvement-plans/{report['plan_id']}/items", headers=as_factory)
    assert items.json()["items"], "a plan built from a released assessment has items"
    own_report = client.get(f"{url['advisory']}/v1/progress-reports/{report['id']}/pdf", headers=as_factory)
    assert own_report.status_code == 200 and own_report.content.startswith(b"%PDF-")


def _an_entitled_buyer_reads_a_released_report(client: httpx.Client, url: dict[str, str], users: Users) -> None:
    staff = users.staff()
    buyers = client.get(f"{url['partnerships']}/v1/buyers", headers=staff).json()["items"]
    assert len(buyers) == 3
    buyer = buyers[0]
    links = client.get(f"{url['partnerships']}/v1/sourcing-links", params={"buyer_id": buyer["id"]}, headers=staff)
    supplying = [link["factory_id"] for link in links.json()["items"]]
    assert supplying, links.text
    granted = []
    for factory_id in supplying:
        decided = client.get(
            f"{url['partnerships']}/v1/report-access",
            params={"buyer_id": buyer["id"], "factory_id": factory_id},
            headers=staff,
        )
        granted += [d for d in decided.json() if d["granted"]]
    assert granted, "the buyer spent a credit on each factory it buys from"
    as_buyer = users.buyer(buyer["id"])
    results = client.get(f"{url['assessments']}/v1/factories/{granted[0]['factory_id']}/results", headers=as_buyer)
    assert results.status_code == 200, results.text
    cycle = next(r for r in results.json() if r["cycle"] == granted[0]["cycle"])
    report = client.get(f"{url['assessments']}/v1/assessments/{cycle['assessment_id']}/report", headers=as_buyer)
    assert report.status_code == 200, report.text
    assert report.json()["factory"]["id"] == granted[0]["factory_id"]

    factories = client.get(f"{url['registry']}/v1/factories", params={"limit": 200}, headers=staff).json()["items"]
    entitled = {d["factory_id"] for d in granted}
    other = next(f["id"] for f in factories if f["id"] not in entitled)
    assert client.get(f"{url['assessments']}/v1/factories/{other}/results", headers=as_buyer).status_code == 404


def _finance_sees_paid_invoices(client: httpx.Client, url: dict[str, str], users: Users) -> None:
    finance = users.staff("invoicing:finance")
    paid = client.get(f"{url['invoicing']}/v1/invoices", params={"status": "paid", "limit": 200}, headers=finance)
    assert paid.status_code == 200, paid.text
    invoices = paid.json()["items"]
    assert {i["purpose"] for i in invoices} == {"services", "credits"}
    assert all(i["amount_due_minor"] == 0 and i["number"] for i in invoices)
    unpaid = client.get(f"{url['invoicing']}/v1/invoices", params={"status": "issued"}, headers=finance)
    assert unpaid.json()["items"], "some factories have not paid their service package yet"


def _the_public_sees_the_published_factories(client: httpx.Client, url: dict[str, str], names: list[str]) -> None:
    public = client.get(f"{url['transparency']}/public/v1/factories", params={"country": "KH", "limit": 200})
    assert public.status_code == 200, public.text
    shown = public.json()["items"]
    assert sorted(f["name"] for f in shown) == sorted(names) and names
    page = client.get(f"{url['transparency']}/portal/factories/{shown[0]['factory_id']}")
    assert page.status_code == 200 and html.escape(shown[0]["name"]) in page.text
