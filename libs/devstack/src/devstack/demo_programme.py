"""The demo country programme as data: Cambodia's factories, buyers, sourcing links, visits and trainings.

Everything here is made up but shaped like Better Factories Cambodia's lists: names as the registry holds
them (a romanised Khmer or an investor's Chinese, Taiwanese or Korean brand, a trade word, a legal form),
addresses by plot, road, commune, district and province (Phnom Penh, Kandal, Kampong Speu, Svay Rieng...),
mostly women workforces, foreign owners. The same seed gives the same programme, so a re-run finds what an
earlier run loaded. Name material follows `bench/registry_data.py` and `bench/matching_sets/vocabulary.py`.

No I/O: `devstack.demo` loads a programme through the services' HTTP APIs.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

COUNTRY = "KH"

# Romanised Khmer brand words with their Khmer spelling (the registry folds both to the same keys).
KHMER_WORDS = (
    ("Sok", "សុខ"),
    ("Dara", "តារា"),
    ("Pich", "ពេជ្រ"),
    ("Rathana", "រតនា"),
    ("Sophal", "សុផល"),
    ("Vanna", "វណ្ណា"),
    ("Mekong", "មេគង្គ"),
    ("Angkor", "អង្គរ"),
    ("Bopha", "បុប្ផា"),
    ("Samnang", "សំណាង"),
    ("Kosal", "កុសល"),
    ("Mongkol", "មង្គល"),
    ("Sovann", "សុវណ្ណ"),
    ("Reaksmey", "រស្មី"),
    ("Chantrea", "ចន្ទ្រា"),
    ("Serey", "សេរី"),
    ("Vimean", "វិមាន"),
    ("Kampuchea", "កម្ពុជា"),
    ("Tonle", "ទន្លេ"),
    ("Meas", "មាស"),
)
# Investors' brands, as Cambodian lists spell them.
INVESTOR_WORDS = (
    "Hong Sheng",
    "Jin Da",
    "Yu Long",
    "Tai Yang",
    "Xin Yi",
    "Fu Hua",
    "Wing Tai",
    "Yee Tung",
    "Kin Tai",
    "Hung Wah",
    "Sheng Li",
    "Heng Fung",
    "Da Cheng",
    "Ming Feng",
    "Hao Yuan",
    "Dae Young",
    "Sung Won",
    "Han Il",
    "Jeil Moolsan",
    "Kwang Jin",
    "Chia Hsin",
    "Lian Fa",
    "Tian Run",
    "Bao Xiang",
    "Rui Feng",
    "Zhong Yi",
    "Yi Da",
    "Xing Hui",
    "Wah Kwong",
    "Chun Yip",
)
TRADES = ("Garment", "Apparel", "Textile", "Knitwear", "Fashion", "Sweater", "Denim", "Washing", "Embroidery")
FOOTWEAR, TRAVEL_GOODS = "Footwear", "Bags"
LEGAL_FORMS = ("Co., Ltd.", "(Cambodia) Co., Ltd.", "Company Limited", "Co., Ltd", "Industrial Co., Ltd.")
INVESTOR_COUNTRIES = ("CN", "CN", "CN", "TW", "TW", "HK", "KR", "KR", "SG", "MY")
GROUPS = ("Crystal Group", "Yida Holdings", "Eastern Textile Group", "Quantum Clothing", "Sabrina Group")


@dataclass(frozen=True)
class Place:
    province: str
    districts: tuple[str, ...]
    communes: tuple[str, ...]
    roads: tuple[str, ...]
    zones: tuple[str, ...]
    share: int  # weight among the programme's factories


PLACES = (
    Place(
        "Phnom Penh",
        ("Khan Por Senchey", "Khan Dangkao", "Khan Meanchey", "Khan Chbar Ampov", "Khan Russey Keo"),
        ("Sangkat Kantouk", "Sangkat Chaom Chau", "Sangkat Stueng Meanchey", "Sangkat Trapeang Krasang"),
        ("National Road 4", "Veng Sreng Boulevard", "Street 2011", "National Road 2", "Hanoi Road (1019)"),
        ("Phnom Penh SEZ",),
        40,
    ),
    Place(
        "Kandal",
        ("Srok Ang Snuol", "Srok Kandal Stueng", "Srok Ponhea Leu", "Srok Khsach Kandal"),
        ("Khum Baek Chan", "Khum Kampong Kong", "Khum Preaek Thmei", "Khum Vihear Luong"),
        ("National Road 4", "National Road 2", "National Road 21", "National Road 5"),
        ("Kandal Stung Industrial Park",),
        25,
    ),
    Place(
        "Kampong Speu",
        ("Srok Samraong Tong", "Srok Chbar Mon", "Srok Kong Pisei"),
        ("Khum Trapeang Kong", "Khum Rokar Thum", "Khum Sopoar Tep"),
        ("National Road 4", "National Road 44", "National Road 51"),
        ("Kampong Speu SEZ",),
        15,
    ),
    Place(
        "Svay Rieng",
        ("Krong Bavet", "Srok Chantrea", "Srok Svay Teab"),
        ("Sangkat Bavet", "Sangkat Prasat", "Khum Chrak Mtes"),
        ("National Road 1", "National Road 13"),
        ("Manhattan SEZ", "Tai Seng SEZ", "Dragon King SEZ"),
        10,
    ),
    Place(
        "Kampong Chhnang",
        ("Srok Kampong Tralach", "Srok Rolea B'ier"),
        ("Khum Longveaek", "Khum Chhnok Tru"),
        ("National Road 5",),
        (),
        5,
    ),
    Place(
        "Takeo",
        ("Srok Bati", "Srok Samrong"),
        ("Khum Trapeang Sab", "Khum Chambak"),
        ("National Road 2", "National Road 3"),
        (),
        5,
    ),
)


@dataclass(frozen=True)
class DemoFactory:
    key: int  # its place in the programme; also fixes its findings
    name: str
    local_name: str | None
    address: str
    province: str
    sector: str
    workers_women: int
    workers_men: int
    ownership: str
    investor_country: str | None
    group_name: str | None
    enrolled_on: date
    visits: tuple[date, ...]  # first visit day of each assessment, oldest first: one per cycle
    upcoming: date | None  # first day of an assessment scheduled after today
    strictness: float  # how often its assessments find a non-compliance (0..1)

    def registration(self) -> dict[str, object]:
        """The body of `POST /v1/factories`."""
        return {
            "name": self.name,
            "local_name": self.local_name,
            "country": COUNTRY,
            "address": self.address,
            "province": self.province,
            "sector": self.sector,
            "workforce": {
                "total": self.workers_women + self.workers_men,
                "women": self.workers_women,
                "men": self.workers_men,
            },
            "ownership": self.ownership,
            "investor_country": self.investor_country,
            "group_name": self.group_name,
            "factory_type": "direct_exporter",
            "union_present": self.key % 3 != 0,
        }


@dataclass(frozen=True)
class DemoBuyer:
    name: str
    headquarters_country: str
    tier: str
    pays: bool  # whether it pays its credit invoice during the demo


@dataclass(frozen=True)
class DemoCourse:
    code: str
    title: str
    topic: str
    hours: tuple[tuple[str, int], ...]  # modules (title, hours)
    completion_rule: str
    pass_score: int | None


@dataclass(frozen=True)
class DemoSession:
    course: int  # index into `courses`
    factory: int | None  # index into `factories` (in-factory sessions), None for open classroom sessions
    held_on: date
    participants: int


@dataclass(frozen=True)
class Programme:
    seed: int
    today: date
    factories: tuple[DemoFactory, ...]
    buyers: tuple[DemoBuyer, ...]
    links: tuple[tuple[int, int], ...]  # (buyer index, factory index)
    zero_tolerance_factory: int  # its latest assessment finds a zero-tolerance issue
    courses: tuple[DemoCourse, ...]
    sessions: tuple[DemoSession, ...]

    @property
    def assessments(self) -> int:
        return sum(len(f.visits) for f in self.factories)

    def published(self) -> list[DemoFactory]:
        """Factories the Cambodian rule set names: assessed in two distinct closed calendar years by `today`."""
        return [f for f in self.factories if len({v.year for v in f.visits if v.year < self.today.year}) >= 2]

    def buyers_of(self, factory: int) -> list[int]:
        return [b for b, f in self.links if f == factory]


BUYERS = (
    DemoBuyer("Nordic Outdoor AB", "SE", "partner", True),
    DemoBuyer("Harbour & Pine Ltd", "GB", "partner", True),
    DemoBuyer("Kestrel Sportswear Inc.", "US", "partner", True),
    DemoBuyer("Maison Solène SAS", "FR", "participant", True),
    DemoBuyer("Rheinwald Textil GmbH", "DE", "partner", True),
    DemoBuyer("Kaito Retail K.K.", "JP", "participant", False),
    DemoBuyer("Fjellstad Sport AS", "NO", "partner", True),
    DemoBuyer("Blue Meridian Denim Co.", "US", "participant", True),
    DemoBuyer("Oakridge Kids Ltd", "CA", "participant", True),
    DemoBuyer("Verde Moda S.L.", "ES", "partner", True),
    DemoBuyer("Southern Cross Workwear Pty Ltd", "AU", "participant", True),
    DemoBuyer("Van Houten Mode B.V.", "NL", "partner", True),
)

COURSES = (
    DemoCourse(
        "KH-PICC-01",
        "Workplace cooperation: the PICC in practice",
        "industrial_relations",
        (("Roles of the committee", 3), ("Running a meeting", 3)),
        "completed",
        None,
    ),
    DemoCourse(
        "KH-OSH-01",
        "Occupational safety and health basics",
        "osh",
        (("Risk assessment", 2), ("Fire safety and evacuation", 2), ("Chemicals", 2)),
        "completed_and_passed",
        70,
    ),
    DemoCourse(
        "KH-SHP-01",
        "Preventing sexual harassment",
        "sexual_harassment_prevention",
        (("What harassment is", 2), ("Policies and grievance handling", 2)),
        "completed",
        None,
    ),
    DemoCourse(
        "KH-SST-01",
        "Supervisory skills training",
        "supervisory_skills",
        (("Communication", 4), ("Productivity and quality", 4)),
        "completed_or_passed",
        60,
    ),
)


def _weighted_place(rng: random.Random) -> Place:
    return rng.choices(PLACES, weights=[p.share for p in PLACES])[0]


def _address(rng: random.Random, place: Place, plot: int) -> str:
    road = rng.choice(place.roads)
    parts = [f"Plot {plot}", road]
    if place.zones and rng.random() < 0.35:
        parts = [f"Plot {plot}", rng.choice(place.zones), road]
    parts += [rng.choice(place.communes), rng.choice(place.districts), place.province]
    return ", ".join(parts)


def _visits(rng: random.Random, today: date, seniority: int) -> tuple[date, ...]:
    """A visit in each of the `seniority` calendar years before this one (spring), then one in the last year."""
    earlier = [date(today.year - years, rng.randint(2, 6), rng.randint(1, 28)) for years in range(seniority, 0, -1)]
    first_possible = max([today - timedelta(days=350)] + [v + timedelta(days=90) for v in earlier])
    last_possible = today - timedelta(days=21)
    span = (last_possible - first_possible).days
    recent = first_possible + timedelta(days=rng.randint(0, span)) if span > 0 else last_possible
    return (*earlier, recent)


def cambodia(factories: int, *, seed: int = 2026, today: date | None = None) -> Programme:
    """A Cambodian programme of `factories` factories: a third assessed since two years before this one (the
    factories the public portal names), a third since last year, a third new this year; about one buyer for
    every 25 factories (at least three), most factories supplying one to three of them."""
    if factories < 3:
        raise ValueError("a demo programme needs at least 3 factories")
    today = today or date.today()
    rng = random.Random(seed)
    plots = rng.sample(range(1, 20 * factories + 100), factories)  # distinct plots: no two factories alike
    seen: set[str] = set()
    made: list[DemoFactory] = []
    while len(made) < factories:
        key = len(made)
        khmer = rng.random() < 0.3
        words = rng.sample(KHMER_WORDS, 2) if khmer else [(rng.choice(INVESTOR_WORDS), "")]
        brand = " ".join(w for w, _ in words)
        sector = rng.choices(("garment", "footwear", "travel_goods"), weights=(85, 10, 5))[0]
        trade = {"footwear": FOOTWEAR, "travel_goods": TRAVEL_GOODS}.get(sector) or rng.choice(TRADES)
        alike = " ".join([*sorted(brand.lower().split()), trade.lower()])  # "Sok Dara" and "Dara Sok" are alike
        if alike in seen:
            continue
        seen.add(alike)
        place = _weighted_place(rng)
        total = int(min(8000, max(120, rng.lognormvariate(7.0, 0.7))))
        women = round(total * rng.uniform(0.72, 0.92))
        ownership = "local" if khmer and rng.random() < 0.6 else rng.choices(("foreign", "joint_venture"), (9, 1))[0]
        seniority = (2, 1, 0)[key % 3]
        visits = _visits(rng, today, seniority)
        made.append(
            DemoFactory(
                key=key,
                name=f"{brand} {trade} {rng.choice(LEGAL_FORMS)}",
                local_name="ក្រុមហ៊ុន " + "".join(k for _, k in words) if khmer else None,
                address=_address(rng, place, plots[key]),
                province=place.province,
                sector=sector,
                workers_women=women,
                workers_men=total - women,
                ownership=ownership,
                investor_country=None if ownership == "local" else rng.choice(INVESTOR_COUNTRIES),
                group_name=rng.choice(GROUPS) if not khmer and rng.random() < 0.15 else None,
                enrolled_on=visits[0] - timedelta(days=rng.randint(30, 120)),
                visits=visits,
                upcoming=today + timedelta(days=rng.randint(7, 40)) if key % 17 == 5 else None,
                strictness=rng.betavariate(2, 14),
            )
        )
    buyers = BUYERS[: max(3, min(len(BUYERS), factories // 25))]
    links: list[tuple[int, int]] = []
    for factory in made:
        if factory.key % 5 == 4:
            continue  # a fifth of the factories sell to brands outside the programme
        for b in sorted(rng.sample(range(len(buyers)), rng.choice((1, 1, 2, 3)))):
            links.append((b, factory.key))
    linked = sorted({f for _, f in links})
    # the zero-tolerance case: a linked factory assessed for the first time this year, so buyers are alerted
    zero_tolerance = next((f for f in linked if made[f].visits and len(made[f].visits) == 1), linked[0])
    sessions = [
        DemoSession(
            course=i % len(COURSES),
            factory=None if i % 3 == 0 else rng.randrange(factories),
            held_on=today - timedelta(days=rng.randint(14, 340)),
            participants=rng.randint(6, 16),
        )
        for i in range(max(4, factories // 20))
    ]
    return Programme(
        seed=seed,
        today=today,
        factories=tuple(made),
        buyers=buyers,
        links=tuple(links),
        zero_tolerance_factory=zero_tolerance,
        courses=COURSES,
        sessions=tuple(sessions),
    )


@dataclass(frozen=True)
class Question:
    """What the demo needs of a tool question (from `GET /v1/tools/{id}`)."""

    code: str
    tags: tuple[str, ...]
    zero_tolerance_category: str | None

    @property
    def zero_tolerance(self) -> bool:
        return "zero_tolerance" in self.tags

    @property
    def publicly_reported(self) -> bool:
        return "publicly_reported" in self.tags


# Where Cambodian factories most often fall short: overtime, OSH, wages and contracts (BFC's synthesis reports).
COMMON_CLUSTERS = ("-OS-", "-WT-", "-CO-", "-CH-")
EVIDENCE = (
    "Seen on the floor during the walk-through; confirmed in management interview.",
    "Payroll records of three months checked against time cards.",
    "Worker interviews (group of six, sewing line) and the posted notices.",
)
EXPLANATION = "Found during the assessment; see the compliance point's guidance for what the law requires."


def findings(
    programme: Programme, factory: DemoFactory, cycle: int, questions: list[Question]
) -> list[dict[str, object]]:
    """A finding for every question of the tool: compliant unless the factory's strictness says otherwise.

    Zero-tolerance questions are compliant, except the one the programme's zero-tolerance factory fails in its
    latest assessment; a factory's later cycles find somewhat less than its first.
    """
    rng = random.Random(f"{programme.seed}/{factory.key}/{cycle}")
    rate = factory.strictness * (0.8 ** (cycle - 1))
    zero_tolerance_case = factory.key == programme.zero_tolerance_factory and cycle == len(factory.visits)
    case_code = next((q.code for q in questions if q.zero_tolerance_category == "child_labour"), None)
    workers = factory.workers_women + factory.workers_men
    rows: list[dict[str, object]] = []
    for question in questions:
        weight = 1.8 if any(c in question.code for c in COMMON_CLUSTERS) else 0.6
        if question.zero_tolerance:
            failed = zero_tolerance_case and question.code == case_code
        else:
            failed = rng.random() < min(0.9, rate * weight)
        if not failed:
            rows.append({"question_code": question.code, "result": "compliant"})
            continue
        rows.append(
            {
                "question_code": question.code,
                "result": "non_compliant",
                "severity": "critical" if question.zero_tolerance else rng.choice(("low", "medium", "medium", "high")),
                "workers_affected": 1 if question.zero_tolerance else rng.randint(1, max(1, workers // 4)),
                "evidence": rng.choice(EVIDENCE),
                "explanation": EXPLANATION,
            }
        )
    return rows
