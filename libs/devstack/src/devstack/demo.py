"""`betterwork demo`: load a Cambodian country programme into a running platform through its public HTTP APIs.

A client like any other: it mints local tokens for the roles a programme has (advisors, a team leader for the
four eyes, finance staff, factory and brand users), and asks each service to do what its users would do, in the
order a programme lives it: price list, buyers, factories registered and enrolled, sourcing links and consents,
a year of assessments (scheduled, assessed, checked and released by a team leader, finalised after the factory's
comment period), a zero-tolerance case taken through its protocol, improvement plans worked on with progress
reports, trainings, invoices issued and paid, credits bought and spent, and a publication computed, reviewed and
approved by three people. Where a stage needs another service to have heard an event first (the assessments
service to know a factory is active, advisory to have built a plan), it asks again until the answer changes,
within `wait_s`, and otherwise stops saying what it waited for.

Run twice with the same seed, it finds the programme it loaded and says so instead of loading it again.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeVar

import httpx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Column, Table

from devstack.demo_programme import COUNTRY, DemoFactory, Programme, Question, cambodia, findings
from servicekit.auth.local_issuer import LocalSigningKey
from servicekit.auth.principal import Role

SERVICES = ("registry", "assessments", "advisory", "partnerships", "invoicing", "transparency")
TEAM_LEADER_SCOPE = "assessments:team_leader"
FINANCE_SCOPE = "invoicing:finance"
T = TypeVar("T")


class DemoFailed(RuntimeError):
    """A service refused a step, or an effect did not show in time; the message says which and why."""


class AlreadyLoaded(RuntimeError):
    """This seed's programme is in the platform already."""


@dataclass(frozen=True)
class Callers:
    """Request headers for the people of the programme, signed with the local key `make run` trusts."""

    key: LocalSigningKey
    issuer: str
    audience: str
    country: str = COUNTRY
    ttl_s: int = 6 * 3600

    def _as(self, *roles: Role, subject: str, **claims: Any) -> dict[str, str]:
        token = self.key.mint(
            roles=roles, subject=subject, issuer=self.issuer, audience=self.audience, ttl_s=self.ttl_s, **claims
        )
        return {"Authorization": f"Bearer {token}"}

    def staff(self, subject: str = "ea-dara") -> dict[str, str]:
        """An enterprise advisor of the country's programme."""
        return self._as(Role.STAFF, subject=subject, country=self.country)

    def team_leader(self) -> dict[str, str]:
        """The other pair of eyes on an assessment: quality check and release."""
        return self._as(Role.STAFF, subject="tl-sophea", country=self.country, scopes=(TEAM_LEADER_SCOPE,))

    def finance(self) -> dict[str, str]:
        return self._as(Role.STAFF, subject="finance-mealea", country=self.country, scopes=(FINANCE_SCOPE,))

    def factory(self, factory_id: str) -> dict[str, str]:
        return self._as(Role.FACTORY, subject="factory-hr", organisation_id=factory_id, country=self.country)

    def buyer(self, buyer_id: str) -> dict[str, str]:
        return self._as(Role.BUYER, subject="brand-sourcing", organisation_id=buyer_id)


def _problem(response: httpx.Response) -> str:
    """The status and what an RFC 9457 answer says about it."""
    try:
        body = response.json()
    except ValueError:
        return f"{response.status_code} {response.text[:300]}"
    if isinstance(body, dict):
        return f"{response.status_code} {body.get('detail') or body.get('title') or response.reason_phrase}"
    return f"{response.status_code} {response.reason_phrase}"


class PlatformApis:
    """One HTTP client per service of the running platform."""

    def __init__(self, base_urls: Mapping[str, str], *, wait_s: float) -> None:
        missing = set(SERVICES) - set(base_urls)
        if missing:
            raise DemoFailed(f"no base URL for {', '.join(sorted(missing))}")
        self.base_urls = {name: base_urls[name].rstrip("/") for name in SERVICES}
        self.wait_s = wait_s
        self._clients = {
            name: httpx.AsyncClient(base_url=url, timeout=60, limits=httpx.Limits(max_connections=32))
            for name, url in self.base_urls.items()
        }

    def client(self, service: str) -> httpx.AsyncClient:
        return self._clients[service]

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.aclose()

    async def call(
        self,
        service: str,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str] | None = None,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        ok: Iterable[int] = (200, 201),
        wait_while: Iterable[int] = (),
        waiting_for: str = "",
    ) -> httpx.Response:
        """Send a request; answers in `wait_while` mean another service has not heard an event yet, so the same
        request is sent again until `wait_s` has passed (a refused write changes nothing, so repeating it is
        safe). Anything not in `ok` stops the demo with the service's own explanation."""
        accepted, waiting = set(ok), set(wait_while)
        deadline = time.monotonic() + self.wait_s
        pause = 0.1
        while True:
            try:
                response = await self._clients[service].request(method, path, headers=headers, json=json, params=params)
            except httpx.TransportError as exc:
                if time.monotonic() > deadline:
                    raise DemoFailed(
                        f"cannot reach {service} at {self.base_urls[service]} ({exc!r}); is `make run` running?"
                    ) from None
                await asyncio.sleep(1)
                continue
            if response.status_code in accepted:
                return response
            if response.status_code == 429:
                await asyncio.sleep(float(response.headers.get("retry-after", "1")))
                continue
            if response.status_code in waiting and time.monotonic() < deadline:
                await asyncio.sleep(pause)
                pause = min(1.0, pause * 1.5)
                continue
            why = f" after waiting {self.wait_s:g}s for {waiting_for}" if response.status_code in waiting else ""
            if response.status_code == 401:
                why = " (the services do not trust the local key: was the platform started with AUTH_* settings?)"
            raise DemoFailed(f"{service} answered {method} {path} with {_problem(response)}{why}")

    async def poll(self, probe: Callable[[], Awaitable[T | None]], *, waiting_for: str) -> T:
        """`probe()` again until it finds something; DemoFailed naming `waiting_for` after `wait_s`."""
        deadline = time.monotonic() + self.wait_s
        pause = 0.1
        while True:
            found = await probe()
            if found is not None:
                return found
            if time.monotonic() > deadline:
                raise DemoFailed(f"gave up after {self.wait_s:g}s waiting for {waiting_for}")
            await asyncio.sleep(pause)
            pause = min(1.0, pause * 1.5)


@contextlib.contextmanager
def _builder_step(service: str) -> Iterator[None]:
    """The test kit's builders check answers with `assert`; say which service refused, as the demo's own steps."""
    try:
        yield
    except AssertionError as exc:
        raise DemoFailed(f"{service} refused a step: {exc}") from None


@dataclass
class Loaded:
    """What the demo made, by the programme's keys, and what it counted."""

    buyer_ids: list[str] = field(default_factory=list)
    factory_ids: dict[int, str] = field(default_factory=dict)
    # per factory, (assessment id, cycle, non-compliances) of each assessment, oldest first
    assessments: dict[int, list[tuple[str, int, int]]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    def count(self, what: str, by: int = 1) -> None:
        self.counts[what] = self.counts.get(what, 0) + by


@dataclass(frozen=True)
class Stage:
    key: str
    label: str
    total: Callable[[Programme], int]


STAGES = (
    Stage("price_list", "Price list (invoicing)", lambda p: 1),
    Stage("buyers", "Buyers (partnerships)", lambda p: len(p.buyers)),
    Stage("factories", "Factories registered and enrolled", lambda p: len(p.factories)),
    Stage("links", "Sourcing links and consents", lambda p: len(p.links)),
    Stage("assessments", "Assessments: fieldwork to finalised", lambda p: p.assessments),
    Stage("case", "Zero-tolerance case", lambda p: 4),
    Stage("plans", "Improvement plans and progress reports", lambda p: len(p.factories)),
    Stage("training", "Trainings with participants", lambda p: len(p.sessions)),
    Stage("invoices", "Service invoices issued and paid", lambda p: len(p.factories)),
    Stage("credits", "Credits bought and spent", lambda p: len(p.buyers)),
    Stage("access", "Reports reach entitled buyers", lambda p: 1),
    Stage("publication", "Publication: compute, review, approve", lambda p: 3),
)


class DemoLoader:
    """The stages, in order, each with a line of the progress display."""

    def __init__(
        self, programme: Programme, apis: PlatformApis, callers: Callers, progress: Progress, *, concurrency: int
    ) -> None:
        self.programme = programme
        self.apis = apis
        self.callers = callers
        self.progress = progress
        self.concurrency = concurrency
        self.loaded = Loaded()
        self.questions: list[Question] = []
        self.staff = callers.staff()
        self.tasks: dict[str, TaskID] = {
            s.key: progress.add_task(s.label, total=s.total(programme), counts="") for s in STAGES
        }

    # --- plumbing -----------------------------------------------------------------------------------------
    def advance(self, stage: str, counts: str | None = None) -> None:
        self.progress.advance(self.tasks[stage])
        if counts is not None:
            self.progress.update(self.tasks[stage], counts=counts)

    def finish(self, stage: str, counts: str | None = None) -> None:
        task = self.progress.tasks[self.tasks[stage]]
        self.progress.update(self.tasks[stage], completed=task.total, counts=counts or task.fields["counts"])

    async def each(self, items: Sequence[T], work: Callable[[T], Awaitable[None]]) -> None:
        """`work` on every item, `concurrency` at a time; the first failure stops the others."""
        limit = asyncio.Semaphore(self.concurrency)

        async def bounded(item: T) -> None:
            async with limit:
                await work(item)

        try:
            async with asyncio.TaskGroup() as group:
                for item in items:
                    group.create_task(bounded(item))
        except BaseExceptionGroup as group_error:
            raise _first_leaf(group_error) from None

    def _factory_id(self, factory: DemoFactory) -> str | None:
        return self.loaded.factory_ids.get(factory.key)

    # --- stages -------------------------------------------------------------------------------------------
    async def price_list(self) -> None:
        from devstack.testkit.invoicing import price_list

        with _builder_step("invoicing"):
            await price_list(self.apis.client("invoicing"), self.callers.finance(), COUNTRY)
        self.advance("price_list", "USD, buyer credit tiers, core package")

    async def tool(self) -> None:
        """The questions of the country's published garment tool, as the assessments service serves them."""
        tools = await self.apis.call("assessments", "GET", "/v1/tools", headers=self.staff, params={"country": COUNTRY})
        listed = tools.json()
        versions = listed["items"] if isinstance(listed, dict) else listed
        published = [v for v in versions if v["status"] == "published" and v["sector"] == "garment"]
        if not published:
            raise DemoFailed(f"the assessments service has no published {COUNTRY} garment tool")
        detail = await self.apis.call("assessments", "GET", f"/v1/tools/{published[0]['id']}", headers=self.staff)
        self.questions = [
            Question(q["code"], tuple(q.get("tags") or ()), q.get("zero_tolerance_category"))
            for q in detail.json()["questions"]
        ]

    async def buyers(self) -> None:
        for buyer in self.programme.buyers:
            created = await self.apis.call(
                "partnerships",
                "POST",
                "/v1/buyers",
                headers=self.staff,
                json={
                    "name": buyer.name,
                    "headquarters_country": buyer.headquarters_country,
                    "tier": buyer.tier,
                    "agreement_signed_on": (self.programme.today - timedelta(days=700)).isoformat(),
                    "agreement_commitments": ["responsible purchasing", "share assessment reports"],
                },
            )
            self.loaded.buyer_ids.append(created.json()["id"])
            self.advance("buyers", f"{len(self.loaded.buyer_ids)} brands")

    async def factories(self) -> None:
        async def one(factory: DemoFactory) -> None:
            answer = await self.apis.call(
                "registry", "POST", "/v1/factories", headers=self.staff, json=factory.registration(), ok=(200, 201, 202)
            )
            if answer.status_code == 202:  # the registry asks a person whether it is a factory it holds
                self.loaded.count("sent to review")
                self.advance("factories", self._factory_counts())
                return
            self.loaded.count("created" if answer.status_code == 201 else "already held")
            factory_id = answer.json()["factory"]["id"]
            steps = (
                {"change": "enrolled", "service_package": "core", "start_date": factory.enrolled_on.isoformat()},
                {"change": "activated"},
            )
            for step in steps:
                # 409: a factory the registry held already may be enrolled already
                await self.apis.call(
                    "registry",
                    "POST",
                    f"/v1/factories/{factory_id}/status-changes",
                    headers=self.staff,
                    json=step,
                    ok=(201, 409) if answer.status_code == 200 else (201,),
                )
            self.loaded.factory_ids[factory.key] = factory_id
            self.advance("factories", self._factory_counts())

        await self.each(self.programme.factories, one)

    def _factory_counts(self) -> str:
        c = self.loaded.counts
        text = f"created {c.get('created', 0)}"
        for what in ("already held", "sent to review"):
            if c.get(what):
                text += f" · {what} {c[what]}"
        return text

    async def links(self) -> None:
        done = 0

        async def one(link: tuple[int, int]) -> None:
            nonlocal done
            buyer_index, factory_key = link
            factory_id = self.loaded.factory_ids.get(factory_key)
            if factory_id is not None:
                buyer_id = self.loaded.buyer_ids[buyer_index]
                await self.apis.call(
                    "partnerships",
                    "POST",
                    "/v1/sourcing-links",
                    headers=self.staff,
                    json={"buyer_id": buyer_id, "factory_id": factory_id},
                    wait_while=(404,),
                    waiting_for="partnerships to hear of the factory (registry events)",
                )
                await self.apis.call(
                    "partnerships",
                    "POST",
                    f"/v1/factories/{factory_id}/consents",
                    headers=self.callers.factory(factory_id),
                    json={
                        "buyer_id": buyer_id,
                        "scopes": ["assessment_reports", "progress_reports", "zero_tolerance_alerts"],
                    },
                )
                done += 1
            self.advance("links", f"{done} confirmed links, each with the factory's consent")

        await self.each(self.programme.links, one)

    async def assessments(self) -> None:
        from devstack.testkit.assessments import finalise, release

        team_leader = self.callers.team_leader()
        client = self.apis.client("assessments")

        async def one(factory: DemoFactory) -> None:
            factory_id = self._factory_id(factory)
            if factory_id is None:
                for _ in factory.visits:
                    self.advance("assessments")
                return
            as_factory = self.callers.factory(factory_id)
            done: list[tuple[str, int, int]] = []
            for cycle, first_day in enumerate(factory.visits, start=1):
                assessment_id = await self._schedule(factory_id, first_day, initial=cycle == 1)
                await self.apis.call(
                    "assessments",
                    "POST",
                    f"/v1/assessments/{assessment_id}/transitions",
                    headers=self.staff,
                    json={"to": "in_progress"},
                )
                rows = findings(self.programme, factory, cycle, self.questions)
                await self.apis.call(
                    "assessments",
                    "PUT",
                    f"/v1/assessments/{assessment_id}/findings",
                    headers=self.staff,
                    json={"findings": rows},
                )
                with _builder_step("assessments"):
                    await release(client, self.staff, team_leader, assessment_id)
                    await finalise(client, self.staff, as_factory, assessment_id)
                failed = sum(1 for r in rows if r["result"] == "non_compliant")
                done.append((assessment_id, cycle, failed))
                self.loaded.count("findings", len(rows))
                self.loaded.count("non-compliances", failed)
                self.advance(
                    "assessments",
                    f"{self.loaded.counts['findings']} findings, {self.loaded.counts['non-compliances']} non-compliant",
                )
            self.loaded.assessments[factory.key] = done
            if factory.upcoming is not None:
                await self._schedule(factory_id, factory.upcoming, initial=False)
                self.loaded.count("upcoming")

        await self.each(self.programme.factories, one)

    async def _schedule(self, factory_id: str, first_day: Any, *, initial: bool) -> str:
        scheduled = await self.apis.call(
            "assessments",
            "POST",
            "/v1/assessments",
            headers=self.staff,
            json={
                "factory_id": factory_id,
                "assessment_type": "initial" if initial else "regular",
                "mode": "unannounced",
                "start_date": first_day.isoformat(),
                "end_date": (first_day + timedelta(days=1)).isoformat(),
                "team": ["ea-dara"],
            },
            wait_while=(409,),
            waiting_for="assessments to hear that the factory is active (registry events)",
        )
        assessment_id: str = scheduled.json()["id"]
        return assessment_id

    async def zero_tolerance_case(self) -> None:
        factory = self.programme.factories[self.programme.zero_tolerance_factory]
        factory_id = self._factory_id(factory)
        if factory_id is None:
            self.finish("case", "skipped: the factory went to review")
            return
        listed = await self.apis.call(
            "assessments", "GET", "/v1/zero-tolerance-cases", headers=self.staff, params={"factory_id": factory_id}
        )
        items = listed.json()["items"]
        if not items:
            raise DemoFailed(f"no zero-tolerance case opened at {factory.name} although its assessment found one")
        case = items[0]
        self.advance("case", f"{case['category']} at {factory.name}: opened")
        party = "ministry_of_labour" if "ministry_of_labour" in case["notify"] else case["notify"][0]
        referral = await self.apis.call(
            "assessments",
            "POST",
            f"/v1/zero-tolerance-cases/{case['id']}/referrals",
            headers=self.staff,
            json={"party": party, "channel": "letter", "reference": f"MoLVT/{self.programme.today.year}/0417"},
        )
        self.advance("case", f"{case['category']} at {factory.name}: referred to {party}")
        await self.apis.call(
            "assessments",
            "POST",
            f"/v1/zero-tolerance-cases/{case['id']}/referrals/{referral.json()['id']}/acknowledgement",
            headers=self.staff,
            json={"note": "Labour inspector assigned; joint visit agreed."},
        )
        for to in ("acknowledged", "remediation"):
            await self.apis.call(
                "assessments",
                "POST",
                f"/v1/zero-tolerance-cases/{case['id']}/transitions",
                headers=self.staff,
                json={"to": to, "note": "Remediation plan agreed with the factory and the child's family."},
            )
            self.advance("case", f"{case['category']} at {factory.name}: {to}")

    async def plans(self) -> None:
        stats = {"plans": 0, "moved": 0, "verified": 0, "pr1": 0, "pr2": 0}

        def counts() -> str:
            return (
                f"{stats['plans']} plans · {stats['moved']} item moves · {stats['verified']} verified · "
                f"PR1 {stats['pr1']} · PR2 {stats['pr2']}"
            )

        async def one(factory: DemoFactory) -> None:
            factory_id = self._factory_id(factory)
            done = self.loaded.assessments.get(factory.key) or []
            if factory_id is None or not done or done[-1][2] == 0:
                self.advance("plans", counts())
                return
            _, cycle, _ = done[-1]
            plan = await self._plan(factory_id, cycle, factory.name)
            stats["plans"] += 1
            items = await self.apis.call(
                "advisory",
                "GET",
                f"/v1/improvement-plans/{plan['id']}/items",
                headers=self.staff,
                params={"limit": 200},
            )
            rng = random.Random(f"{self.programme.seed}/plan/{factory.key}")
            as_factory = self.callers.factory(factory_id)
            for item in items.json()["items"][:8]:  # the most urgent first (soonest due); the rest wait
                steps = rng.choice((0, 1, 2, 2, 3, 3))
                for to, who in (("in_progress", as_factory), ("reported_done", as_factory), ("verified", self.staff)):
                    if steps == 0:
                        break
                    steps -= 1
                    await self.apis.call(
                        "advisory",
                        "POST",
                        f"/v1/improvement-items/{item['id']}/transitions",
                        headers=who,
                        json={"to": to},
                    )
                    stats["moved"] += 1
                    stats["verified"] += to == "verified"
            if factory.key % 3 != 2:
                for kind in ("pr1", "pr2") if factory.key % 4 == 0 else ("pr1",):
                    await self.apis.call(
                        "advisory",
                        "POST",
                        f"/v1/improvement-plans/{plan['id']}/progress-reports",
                        headers=self.staff,
                        json={"kind": kind},
                    )
                    stats[kind] += 1
            self.advance("plans", counts())

        await self.each(self.programme.factories, one)
        self.loaded.counts.update({f"plan {k}": v for k, v in stats.items()})

    async def _plan(self, factory_id: str, cycle: int, name: str) -> dict[str, Any]:
        async def probe() -> dict[str, Any] | None:
            found = await self.apis.call(
                "advisory", "GET", "/v1/improvement-plans", headers=self.staff, params={"factory_id": factory_id}
            )
            return next((p for p in found.json()["items"] if p["cycle"] == cycle), None)

        return await self.apis.poll(
            probe, waiting_for=f"advisory to build the cycle {cycle} plan of {name} (assessment.released)"
        )

    async def training(self) -> None:
        course_ids = []
        for course in self.programme.courses:
            created = await self.apis.call(
                "advisory",
                "POST",
                "/v1/training/courses",
                headers=self.staff,
                json={
                    "country": COUNTRY,
                    "code": course.code,
                    "title": course.title,
                    "topic": course.topic,
                    "modules": [{"title": t, "hours": h} for t, h in course.hours],
                    "languages": ["km", "en"],
                    "completion_rule": course.completion_rule,
                    "pass_score": course.pass_score,
                },
            )
            course_ids.append(created.json()["id"])
        people = 0
        factories = [f for f in self.programme.factories if f.key in self.loaded.factory_ids]
        for number, session in enumerate(self.programme.sessions):
            rng = random.Random(f"{self.programme.seed}/session/{number}")
            course = self.programme.courses[session.course]
            held_at = self.programme.factories[session.factory] if session.factory is not None else None
            if held_at is not None and held_at.key not in self.loaded.factory_ids:
                held_at = None
            created = await self.apis.call(
                "advisory",
                "POST",
                "/v1/training/sessions",
                headers=self.staff,
                json={
                    "course_id": course_ids[session.course],
                    "factory_id": self.loaded.factory_ids[held_at.key] if held_at else None,
                    "session_date": session.held_on.isoformat(),
                    "language": "km",
                    "trainer_organisation": "Better Factories Cambodia",
                    "mode": "in_factory" if held_at else "classroom",
                },
            )
            session_id = created.json()["id"]
            participant_ids = []
            for seat in range(session.participants):
                works_at = held_at or rng.choice(factories)
                registered = await self.apis.call(
                    "advisory",
                    "POST",
                    "/v1/training/participants",
                    headers=self.staff,
                    json={
                        "country": COUNTRY,
                        "account": f"kh-demo-{self.programme.seed}-{number:03d}-{seat:02d}",
                        "role": rng.choice(("worker", "worker", "worker", "supervisor", "HR", "manager")),
                        "sex": "female" if rng.random() < 0.8 else "male",
                        "nationality": "KH",
                        "factory_id": self.loaded.factory_ids[works_at.key],
                    },
                )
                participant_ids.append(registered.json()["id"])
            await self.apis.call(
                "advisory",
                "POST",
                f"/v1/training/sessions/{session_id}/enrolments",
                headers=self.staff,
                json={"participant_ids": participant_ids},
            )
            outcomes = []
            for participant_id in participant_ids:
                attended = rng.random() < 0.9
                outcome: dict[str, Any] = {"participant_id": participant_id, "attended": attended}
                if attended:
                    outcome.update(completed=rng.random() < 0.9, evaluation=rng.randint(3, 5))
                    if course.pass_score is not None:
                        outcome["score"] = rng.randint(50, 100)
                outcomes.append(outcome)
            await self.apis.call(
                "advisory",
                "PUT",
                f"/v1/training/sessions/{session_id}/outcomes",
                headers=self.staff,
                json={"outcomes": outcomes},
            )
            await self.apis.call(
                "advisory", "POST", f"/v1/training/sessions/{session_id}/delivered", headers=self.staff
            )
            people += len(participant_ids)
            self.advance("training", f"{len(course_ids)} courses · {people} participants")
        self.loaded.count("participants", people)

    async def invoices(self) -> None:
        finance = self.callers.finance()
        stats = {"issued": 0, "paid": 0}

        async def one(factory: DemoFactory) -> None:
            factory_id = self._factory_id(factory)
            if factory_id is None:
                self.advance("invoices")
                return

            async def drafted() -> dict[str, Any] | None:
                found = await self.apis.call(
                    "invoicing",
                    "GET",
                    "/v1/invoices",
                    headers=finance,
                    params={"customer_id": factory_id, "purpose": "services"},
                )
                return next(iter(found.json()["items"]), None)

            invoice = await self.apis.poll(
                drafted, waiting_for=f"invoicing to draft the service package invoice of {factory.name} (enrolment)"
            )
            if invoice["status"] == "draft":
                issued = await self.apis.call(
                    "invoicing", "POST", f"/v1/invoices/{invoice['id']}/issue", headers=finance
                )
                invoice = issued.json()
                stats["issued"] += 1
            if invoice["status"] == "issued" and factory.key % 7 != 3:  # a few factories have not paid yet
                await self._pay(invoice, finance)
                stats["paid"] += 1
            self.advance("invoices", f"{stats['issued']} issued · {stats['paid']} paid")

        await self.each(self.programme.factories, one)
        self.loaded.counts.update({f"service invoices {k}": v for k, v in stats.items()})

    async def _pay(self, invoice: Mapping[str, Any], finance: Mapping[str, str]) -> None:
        due = invoice.get("amount_due_minor", invoice["total_minor"])
        await self.apis.call(
            "invoicing",
            "POST",
            "/v1/payments",
            headers=finance,
            json={
                "amount": f"{due / 100:.2f}",
                "currency": invoice.get("currency", "USD"),
                "received_on": self.programme.today.isoformat(),
                "invoice_id": invoice["id"],
                "reference": f"ABA bank transfer {invoice.get('number') or invoice['id'][:8]}",
            },
        )

    async def credits(self) -> None:
        from devstack.testkit.invoicing import billing

        finance = self.callers.finance()
        spent = 0
        for index, buyer in enumerate(self.programme.buyers):
            buyer_id = self.loaded.buyer_ids[index]
            as_buyer = self.callers.buyer(buyer_id)
            factories = [f for b, f in self.programme.links if b == index and f in self.loaded.assessments]
            bought = await self.apis.call(
                "invoicing",
                "POST",
                "/v1/wallet/purchases",
                headers=as_buyer,
                json={
                    "quantity": max(1, len(factories)),
                    "country": COUNTRY,
                    "billing": billing(buyer.name, buyer.headquarters_country),
                },
                wait_while=(404, 409),
                waiting_for=f"invoicing to hear of the buyer {buyer.name} (buyer.registered)",
            )
            if buyer.pays:
                await self._pay(bought.json()["invoice"], finance)
                for factory_key in factories:
                    cycle = self.loaded.assessments[factory_key][-1][1]
                    await self.apis.call(
                        "invoicing",
                        "POST",
                        "/v1/wallet/spends",
                        headers=as_buyer,
                        json={"factory_id": self.loaded.factory_ids[factory_key], "cycle": cycle},
                        wait_while=(404,),
                        waiting_for="invoicing to hear of the factory (registry events)",
                    )
                    spent += 1
            self.advance("credits", f"{spent} credits spent on factory cycles")
        self.loaded.count("credits spent", spent)

    def example_access(self) -> tuple[str, str] | None:
        """A paying buyer and the first factory it spent a credit on."""
        for index, buyer in enumerate(self.programme.buyers):
            if not buyer.pays:
                continue
            for b, f in self.programme.links:
                if b == index and f in self.loaded.assessments:
                    return self.loaded.buyer_ids[index], self.loaded.factory_ids[f]
        return None

    async def access(self) -> None:
        example = self.example_access()
        if example is None:
            self.finish("access", "no entitled buyer in this programme")
            return
        buyer_id, factory_id = example
        as_buyer = self.callers.buyer(buyer_id)

        async def readable() -> list[Any] | None:
            answer = await self.apis.call(
                "assessments", "GET", f"/v1/factories/{factory_id}/results", headers=as_buyer, ok=(200, 404)
            )
            results = answer.json() if answer.status_code == 200 else []
            return results or None

        await self.apis.poll(
            readable,
            waiting_for="an entitled buyer to read its factory's report (entitlement.purchased, report_access.granted)",
        )
        self.advance("access", "a paying buyer reads its factories' released reports")

    async def publication(self) -> None:
        preparer, reviewer, approver = (self.callers.staff(s) for s in ("ea-dara", "ea-sokha", "tl-vanna"))
        expected = {
            self.loaded.factory_ids[f.key] for f in self.programme.published() if f.key in self.loaded.factory_ids
        }
        body = {"country": COUNTRY, "cut_off": self.programme.today.isoformat()}

        async def candidate() -> dict[str, Any] | None:
            created = await self.apis.call("transparency", "POST", "/v1/publications", headers=preparer, json=body)
            publication: dict[str, Any] = created.json()
            differences = await self.apis.call(
                "transparency", "GET", f"/v1/publications/{publication['id']}/differences", headers=reviewer
            )
            listed = {d["factory_id"] for d in differences.json()}
            if expected <= listed:
                return publication
            # transparency has not heard every finalised assessment yet: set this candidate aside, compute again
            await self.apis.call(
                "transparency",
                "POST",
                f"/v1/publications/{publication['id']}/reject",
                headers=reviewer,
                json={"reason": f"computed before all assessments had arrived ({len(listed)} of {len(expected)})"},
            )
            await asyncio.sleep(1)
            return None

        publication = await self.apis.poll(
            candidate, waiting_for="transparency to hear of every finalised assessment (assessment.finalised)"
        )
        self.advance("publication", f"candidate naming {len(expected)} factories")
        await self.apis.call("transparency", "POST", f"/v1/publications/{publication['id']}/review", headers=reviewer)
        self.advance("publication", "reviewed by a second person")
        await self.apis.call("transparency", "POST", f"/v1/publications/{publication['id']}/approve", headers=approver)
        self.advance("publication", f"approved and released: {len(expected)} factories on the public portal")
        self.loaded.count("published factories", len(expected))

    async def run(self) -> Loaded:
        await self.tool()
        stages: dict[str, Callable[[], Awaitable[None]]] = {
            "price_list": self.price_list,
            "buyers": self.buyers,
            "factories": self.factories,
            "links": self.links,
            "assessments": self.assessments,
            "case": self.zero_tolerance_case,
            "plans": self.plans,
            "training": self.training,
            "invoices": self.invoices,
            "credits": self.credits,
            "access": self.access,
            "publication": self.publication,
        }
        for key, stage in stages.items():
            started = time.monotonic()
            await stage()
            self.stage_done(key, time.monotonic() - started)
        return self.loaded

    def stage_done(self, stage: str, seconds: float) -> None:
        """Where no live display runs (output to a file or a pipe), a line per finished stage instead."""
        if not self.progress.disable:
            return
        task = self.progress.tasks[self.tasks[stage]]
        done = f"{task.completed:g}/{task.total:g}"
        self.progress.console.print(
            f"{task.description:<40} {done:>9} {seconds:6.1f}s  {task.fields['counts']}", soft_wrap=True
        )


def _first_leaf(group: BaseExceptionGroup[Any]) -> BaseException:
    """The first failure inside a task group: a DemoFailed if there is one."""
    leaves: list[BaseException] = []

    def walk(error: BaseException) -> None:
        if isinstance(error, BaseExceptionGroup):
            for inner in error.exceptions:
                walk(inner)
        else:
            leaves.append(error)

    walk(group)
    return next((e for e in leaves if isinstance(e, DemoFailed | AlreadyLoaded)), leaves[0])


@dataclass(frozen=True)
class DemoResult:
    programme: Programme
    already_loaded: bool
    counts: Mapping[str, int]
    example: tuple[str, str] | None  # (buyer id, factory id) the buyer may read


async def load_demo(
    *,
    factories: int,
    seed: int,
    base_urls: Mapping[str, str],
    callers: Callers,
    console: Console,
    wait_s: float = 120,
    concurrency: int = 6,
) -> DemoResult:
    """Load the programme of `factories` factories (same seed, same programme) into the platform at `base_urls`."""
    programme = cambodia(factories, seed=seed)
    apis = PlatformApis(base_urls, wait_s=wait_s)
    try:
        await _check_ready(apis)
        try:
            await _check_not_loaded(apis, callers, programme)
        except AlreadyLoaded as exc:
            console.print(str(exc), soft_wrap=True)
            return DemoResult(programme, True, {}, await _example_from_platform(apis, callers))
        console.print(
            f"[bold]Loading a Cambodian programme[/] (seed {seed}): {len(programme.factories)} factories, "
            f"{len(programme.buyers)} buyers, {len(programme.links)} sourcing links, "
            f"{programme.assessments} assessments, {len(programme.sessions)} training sessions",
            soft_wrap=True,
        )
        with Progress(
            TextColumn("{task.description}", table_column=Column(no_wrap=True, min_width=40)),
            BarColumn(bar_width=20, table_column=Column(no_wrap=True)),
            MofNCompleteColumn(table_column=Column(no_wrap=True)),
            TimeElapsedColumn(table_column=Column(no_wrap=True)),
            TextColumn("{task.fields[counts]}", table_column=Column(overflow="fold")),
            console=console,
            transient=False,
            disable=not console.is_terminal,
        ) as progress:
            loader = DemoLoader(programme, apis, callers, progress, concurrency=concurrency)
            loaded = await loader.run()
        return DemoResult(programme, False, loaded.counts, loader.example_access())
    finally:
        await apis.aclose()


async def _check_ready(apis: PlatformApis) -> None:
    """Every service answers ready (DemoFailed naming the one that does not)."""
    for service in SERVICES:
        await apis.call(service, "GET", "/health/ready", waiting_for=f"{service} to be ready")


async def _check_not_loaded(apis: PlatformApis, callers: Callers, programme: Programme) -> None:
    """AlreadyLoaded if this seed's programme is in the platform; DemoFailed if a run left it half loaded."""
    first = programme.factories[0]
    found = await apis.call(
        "registry", "GET", "/v1/factories", headers=callers.staff(), params={"country": COUNTRY, "q": first.name}
    )
    if not any(item["name"] == first.name for item in found.json()["items"]):
        return
    releases = await apis.call("transparency", "GET", "/public/v1/releases", params={"country": COUNTRY})
    if releases.json()["items"]:
        raise AlreadyLoaded(
            f"The demo programme of seed {programme.seed} is loaded already (the registry holds {first.name!r} "
            f"and {COUNTRY} has a publication); nothing was changed."
        )
    raise DemoFailed(
        f"a demo run of seed {programme.seed} stopped part-way earlier (the registry holds {first.name!r} but "
        f"{COUNTRY} has no publication yet). Load it into a fresh platform (stop `make run`, remove .local/postgres, "
        "start it again) or pick another --seed."
    )


async def _example_from_platform(apis: PlatformApis, callers: Callers) -> tuple[str, str] | None:
    """A buyer with report access and the factory, as partnerships records them (for the closing examples)."""
    staff = callers.staff()
    buyers = await apis.call("partnerships", "GET", "/v1/buyers", headers=staff)
    for buyer in buyers.json()["items"]:
        links = await apis.call(
            "partnerships", "GET", "/v1/sourcing-links", headers=staff, params={"buyer_id": buyer["id"]}
        )
        for link in links.json()["items"]:
            decided = await apis.call(
                "partnerships",
                "GET",
                "/v1/report-access",
                headers=staff,
                params={"buyer_id": buyer["id"], "factory_id": link["factory_id"]},
            )
            if any(d["granted"] for d in decided.json()):
                return buyer["id"], link["factory_id"]
    return None


def where_to_look(result: DemoResult, base_urls: Mapping[str, str], *, console: Console, betterwork: str) -> None:
    """The portal, each service's docs, and calls to try with a token."""
    urls = {name: url.rstrip("/") for name, url in base_urls.items()}
    programme = result.programme
    if not result.already_loaded:
        c = result.counts
        console.print(
            f"\n[bold green]Loaded[/] {len(programme.factories)} factories, {len(programme.buyers)} buyers, "
            f"{c.get('findings', 0)} findings ({c.get('non-compliances', 0)} non-compliant), "
            f"{c.get('plan plans', 0)} improvement plans with {c.get('plan pr1', 0) + c.get('plan pr2', 0)} progress "
            f"reports, {c.get('participants', 0)} training participants, "
            f"{c.get('service invoices paid', 0)} service invoices paid, {c.get('credits spent', 0)} credits spent, "
            f"{c.get('published factories', 0)} factories published."
        )
    table = Table(title="Where to look", title_justify="left")
    for column in ("what", "where"):
        table.add_column(column, no_wrap=True)
    table.add_row("public portal (no login)", f"{urls['transparency']}/portal/factories?country={COUNTRY}")
    table.add_row("public API (no login)", f"{urls['transparency']}/public/v1/factories?country={COUNTRY}")
    for name in SERVICES:
        table.add_row(f"{name} API docs", f"{urls[name]}/docs")
    console.print(table)
    staff = f"{betterwork} token --role staff --country {COUNTRY}"
    lines = [
        f"TOKEN=$({staff})",
        f"curl -s -H \"Authorization: Bearer $TOKEN\" '{urls['registry']}/v1/factories?country={COUNTRY}&limit=5'",
        f"curl -s -H \"Authorization: Bearer $TOKEN\" '{urls['assessments']}/v1/zero-tolerance-cases'",
        f"curl -s -H \"Authorization: Bearer $TOKEN\" '{urls['advisory']}/v1/progress-reports?limit=5'",
        f"FINANCE=$({staff} --scope {FINANCE_SCOPE})",
        f"curl -s -H \"Authorization: Bearer $FINANCE\" '{urls['invoicing']}/v1/invoices?status=paid&limit=5'",
    ]
    if result.example is not None:
        buyer_id, factory_id = result.example
        lines += [
            f"BUYER=$({betterwork} token --role buyer --org {buyer_id})",
            f"curl -s -H \"Authorization: Bearer $BUYER\" '{urls['assessments']}/v1/factories/{factory_id}/results'",
        ]
    lines.append(f"curl -s '{urls['transparency']}/public/v1/factories?country={COUNTRY}&limit=5'")
    console.print("[bold]Try[/]\n" + "\n".join(f"  {line}" for line in lines), soft_wrap=True)
