"""The public portal: server-rendered HTML (Jinja2), usable without JavaScript, in English, Khmer, Vietnamese and
Arabic (right to left). Pages: home, search and filter, factory, country overview with SVG charts and their data
tables and CSV links, issue pages. Cached and revalidated like the JSON API."""

from __future__ import annotations

import uuid
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape

from servicekit.edge import DatabaseDep
from servicekit.errors import NotFound
from servicekit.pagination import PageParams
from transparency.api.caching import cached
from transparency.domain.rules import shipped_rule_sets
from transparency.portal.charts import Bar, bar_chart
from transparency.portal.i18n import LANGUAGES, direction, language_of, translator
from transparency.service import public

router = APIRouter(tags=["portal"], include_in_schema=False)
HTML = "text/html; charset=utf-8"
PAGE_SIZE = 25

templates = Environment(
    loader=PackageLoader("transparency.portal", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)

Lang = Annotated[str | None, Query(max_length=5)]
Country = Annotated[str, Path(pattern=r"^[A-Z]{2}$")]


def render(request: Request, template: str, lang: str, **context: Any) -> tuple[bytes, str]:
    params = dict(request.query_params)

    def query_for(code: str) -> str:
        return urlencode({**params, "lang": code})

    page = templates.get_template(template).render(
        lang=lang,
        dir=direction(lang),
        _=translator(lang),
        languages=[(code, name) for code, (name, _) in LANGUAGES.items()],
        query_for=query_for,
        **context,
    )
    return page.encode("utf-8"), HTML


@router.get("/portal", response_class=HTMLResponse)
async def portal_home(request: Request, database: DatabaseDep, lang: Lang = None) -> Response:
    language = language_of(lang)

    async def produce() -> tuple[bytes, str]:
        async with database.unit_of_work() as uow:
            releases = await public.countries(uow)
        return render(request, "home.html", language, releases=releases, filters={})

    return await cached(request, produce)


@router.get("/portal/factories", response_class=HTMLResponse)
async def portal_search(
    request: Request,
    database: DatabaseDep,
    lang: Lang = None,
    country: Annotated[str | None, Query(max_length=2)] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    province: Annotated[str | None, Query(max_length=200)] = None,
    issue: Annotated[str | None, Query(max_length=64)] = None,
    status: Annotated[str | None, Query(max_length=20)] = None,
    year: Annotated[str | None, Query(max_length=4)] = None,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> Response:
    """A plain GET form: every filter is optional, an empty field means "any"."""
    language = language_of(lang)
    filters: dict[str, Any] = {
        "country": country or None,
        "q": q or None,
        "province": province or None,
        "issue": issue or None,
        "status": status if status in ("compliant", "non_compliant") else None,
        "year": int(year) if year and year.isdigit() else None,
    }

    async def produce() -> tuple[bytes, str]:
        async with database.unit_of_work() as uow:
            releases = await public.countries(uow)
            found, next_cursor = await public.search(
                uow,
                params=PageParams(limit=PAGE_SIZE, cursor=cursor, sort=None),
                country=filters["country"],
                q=filters["q"],
                province=filters["province"],
                issue=filters["issue"],
                status=filters["status"],
                year=filters["year"],
            )
        next_url = None
        if next_cursor:
            kept = {k: v for k, v in request.query_params.items() if k != "cursor"}
            next_url = "/portal/factories?" + urlencode({**kept, "cursor": next_cursor})
        return render(
            request, "factories.html", language, releases=releases, filters=filters, factories=found, next_url=next_url
        )

    return await cached(request, produce)


@router.get("/portal/factories/{factory_id}", response_class=HTMLResponse)
async def portal_factory(factory_id: uuid.UUID, request: Request, database: DatabaseDep, lang: Lang = None) -> Response:
    language = language_of(lang)

    async def produce() -> tuple[bytes, str]:
        async with database.unit_of_work() as uow:
            page = await public.factory(uow, factory_id=factory_id)
        name = (page.document or page.history[0][1])["name"]
        return render(
            request,
            "factory.html",
            language,
            name=name,
            current=page.document,
            release=page.release,
            history=page.history,
            factory_id=factory_id,
        )

    try:
        return await cached(request, produce)
    except public.MergedFactory as merged:
        return RedirectResponse(f"/portal/factories/{merged.survivor_id}?lang={language}", status_code=308)


def _issue_titles(rule_set: str) -> dict[str, str]:
    rules = shipped_rule_sets().get(rule_set)
    return dict(rules.issues.titles) if rules else {}


@router.get("/portal/countries/{country}", response_class=HTMLResponse)
async def portal_country(country: Country, request: Request, database: DatabaseDep, lang: Lang = None) -> Response:
    language = language_of(lang)
    _ = translator(language)

    async def produce() -> tuple[bytes, str]:
        async with database.unit_of_work() as uow:
            overview = await public.country_overview(uow, country=country)
        clusters = [r for r in overview.aggregates if r["question_code"] == "" and r["province"] == ""]
        year = max((r["year"] for r in clusters), default="")
        table: list[dict[str, Any]] = []
        for r in sorted((r for r in clusters if r["year"] == year), key=lambda r: r["cluster"]):
            if r["status"] != "published":
                table.append({"cluster": r["cluster"], "suppressed": True})
                continue
            assessed, non = int(r["factories_assessed"]), int(r["factories_non_compliant"])
            table.append(
                {
                    "cluster": r["cluster"],
                    "assessed": assessed,
                    "non_compliant": non,
                    "share": f"{non / assessed:.0%}",
                    "value": non / assessed,
                }
            )
        bars = [Bar(row["cluster"], row["value"], row["share"]) for row in table if not row.get("suppressed")]
        titles = _issue_titles(overview.release.rule_set)
        codes = sorted({i["question_code"] for d in overview.documents for i in d["issues"]})
        issues = [(code, titles.get(code, code)) for code in codes]
        chart = bar_chart(bars, title=_("Non-compliance by cluster, {year}", year=year))
        return render(
            request,
            "country.html",
            language,
            country=country,
            release=overview.release,
            listed=len(overview.documents),
            year=year,
            table=table,
            bars=bars,
            chart=chart,
            issues=issues,
        )

    return await cached(request, produce)


@router.get("/portal/countries/{country}/issues/{code}", response_class=HTMLResponse)
async def portal_issue(
    country: Country,
    code: Annotated[str, Path(max_length=64)],
    request: Request,
    database: DatabaseDep,
    lang: Lang = None,
) -> Response:
    language = language_of(lang)
    _ = translator(language)

    async def produce() -> tuple[bytes, str]:
        async with database.unit_of_work() as uow:
            overview = await public.country_overview(uow, country=country)
        shown = [(d, i) for d in overview.documents for i in d["issues"] if i["question_code"] == code]
        if not shown:
            raise NotFound("The latest release of this country publishes no such issue.")
        non_compliant = [(d, i) for d, i in shown if i["result"] == "non_compliant"]
        title = shown[0][1]["title"]
        share = len(non_compliant) / len(shown)
        chart = bar_chart(
            [Bar(_("Non-compliant"), share, f"{share:.0%}"), Bar(_("Compliant"), 1 - share, f"{1 - share:.0%}")],
            title=title,
        )
        return render(
            request,
            "issue.html",
            language,
            country=country,
            release=overview.release,
            title=title,
            assessed=len(shown),
            non_compliant=non_compliant,
            chart=chart,
        )

    return await cached(request, produce)
