"""The public side without a token: JSON API with ETag and 304, the change feed, cursor pages, open data per
release (CSV + a data package that validates, DCAT with the previous version, stable URLs, `latest`, one-file
download) and the portal's HTML pages."""

from __future__ import annotations

import csv
import hashlib
import io
import uuid
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import frictionless
import httpx
import pytest

from devstack.pytest_plugin import TestPlatform, serve_in_process
from devstack.testkit.transparency import deliver, finalised, merged, registered, release
from transparency.domain.datapackage_check import problems_in_package

pytestmark = pytest.mark.asyncio


@pytest.fixture
async def client(test_platform: TestPlatform) -> AsyncIterator[httpx.AsyncClient]:
    app = test_platform.app("transparency", relay_enabled=False, consumer_enabled=False)
    async with serve_in_process(app) as c:
        yield c


@pytest.fixture
async def jordan(client: httpx.AsyncClient, test_platform: TestPlatform) -> dict[str, Any]:
    """Three Jordanian factories released twice (the second release adds a fourth)."""
    tag = uuid.uuid4().hex[:6]
    names = [f"Amman Apparel {tag}", f"Irbid Knit {tag}", f"Zarqa Denim {tag}"]
    events = [registered("JO", n, province="Irbid" if n.startswith("Irbid") else "Amman") for n in names]
    for e in events:
        await deliver(
            test_platform, e, finalised(e.factory_id, "JO", {"JO-OSH-02": "non_compliant", "JO-CL-01": "compliant"})
        )
    first = await release(client, test_platform, "JO")
    late = registered("JO", f"Aqaba Textiles {tag}", province="Aqaba")
    await deliver(
        test_platform, late, finalised(late.factory_id, "JO", {"JO-OSH-02": "compliant", "JO-CL-01": "compliant"})
    )
    second = await release(client, test_platform, "JO")
    return {
        "first": first,
        "second": second,
        "ids": [str(e.factory_id) for e in events],
        "late": str(late.factory_id),
        "tag": tag,
    }


async def test_public_reads_need_no_token_and_revalidate_with_etag(
    client: httpx.AsyncClient, jordan: dict[str, Any]
) -> None:
    url = f"/public/v1/factories/{jordan['ids'][0]}"
    first = await client.get(url)
    assert first.status_code == 200 and first.headers["etag"].startswith('"')
    assert first.json()["current"]["name"] == f"Amman Apparel {jordan['tag']}"
    again = await client.get(url, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    other = await client.get(url, headers={"If-None-Match": '"something-else"'})
    assert other.status_code == 200 and other.content == first.content


async def test_search_filters_and_pages_with_a_cursor(client: httpx.AsyncClient, jordan: dict[str, Any]) -> None:
    found = (await client.get("/public/v1/factories", params={"country": "JO", "issue": "JO-OSH-02"})).json()
    mine = {f["factory_id"] for f in found["items"]} & set(jordan["ids"] + [jordan["late"]])
    assert mine == set(jordan["ids"])  # Aqaba is compliant on OSH-02
    by_name = (
        await client.get("/public/v1/factories", params={"country": "JO", "q": f"irbid knit {jordan['tag']}"})
    ).json()["items"]
    assert [f["name"] for f in by_name] == [f"Irbid Knit {jordan['tag']}"]
    compliant = (await client.get("/public/v1/factories", params={"country": "JO", "status": "compliant"})).json()[
        "items"
    ]
    assert jordan["late"] in {f["factory_id"] for f in compliant}

    seen: list[str] = []
    params: dict[str, Any] = {"country": "JO", "limit": 2}
    while True:
        page = (await client.get("/public/v1/factories", params=params)).json()
        seen += [f["factory_id"] for f in page["items"]]
        if not page["next_cursor"]:
            break
        params["cursor"] = page["next_cursor"]
    assert len(seen) == len(set(seen)) and set(jordan["ids"] + [jordan["late"]]) <= set(seen)


async def test_the_change_feed_lists_what_each_release_changed(
    client: httpx.AsyncClient, jordan: dict[str, Any]
) -> None:
    feed = (await client.get("/public/v1/changes", params={"country": "JO", "since": 0, "limit": 200})).json()
    mine = [
        (c["release_number"], c["factory_id"], c["change"])
        for c in feed["items"]
        if c["factory_id"] in jordan["ids"] + [jordan["late"]]
    ]
    second = jordan["second"]["release_number"]
    assert (second, jordan["late"], "listed") in mine
    assert all(not (n == second and f in jordan["ids"]) for n, f, _ in mine)  # unchanged factories are not repeated
    after = (await client.get("/public/v1/changes", params={"country": "JO", "since": feed["next_since"]})).json()
    assert after["items"] == [] and after["next_since"] == feed["next_since"]


async def test_open_data_per_release_with_stable_urls_latest_and_one_file(
    client: httpx.AsyncClient, jordan: dict[str, Any], tmp_path: Path
) -> None:
    n1, n2 = jordan["first"]["release_number"], jordan["second"]["release_number"]
    latest = await client.get("/open-data/JO/latest/factories.csv")
    assert latest.status_code == 307 and latest.headers["location"] == f"/open-data/JO/{n2}/factories.csv"
    old = (await client.get(f"/open-data/JO/{n1}/factories.csv")).text
    new = (await client.get(f"/open-data/JO/{n2}/factories.csv")).text
    aqaba = f"Aqaba Textiles {jordan['tag']}"
    assert aqaba not in old and aqaba in new  # the past release stays as it was
    assert (await client.get(f"/open-data/JO/{n2}/factories.csv")).headers["cache-control"].endswith("immutable")

    package = (await client.get(f"/open-data/JO/{n2}/datapackage.json")).json()
    tables = {r["path"]: (await client.get(f"/open-data/JO/{n2}/{r['path']}")).content for r in package["resources"]}
    assert problems_in_package(package, tables) == []
    rows = list(csv.DictReader(io.StringIO(tables["findings.csv"].decode())))
    assert {r["question_code"] for r in rows if r["factory_id"] in jordan["ids"]} == {"JO-OSH-02", "JO-CL-01"}

    dcat = (await client.get(f"/open-data/JO/{n2}/dcat.jsonld")).json()
    assert dcat["dcat:previousVersion"]["@id"].endswith(f"/open-data/JO/{n1}")
    assert dcat["dcat:version"] == str(n2)

    archive = await client.get(f"/open-data/JO/{n2}.zip")
    assert archive.headers["content-type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(archive.content)).namelist()
    assert f"betterwork-jo-{n2}/datapackage.json" in names and len(names) == 6
    # The Frictionless project's own validator reads the downloaded release as a data consumer would.
    zipfile.ZipFile(io.BytesIO(archive.content)).extractall(tmp_path)
    report = frictionless.validate(str(tmp_path / f"betterwork-jo-{n2}" / "datapackage.json"))
    assert report.valid, report.flatten(["type", "note"])
    assert report.stats["tasks"] == len(package["resources"])
    assert (
        hashlib.sha256((await client.get(f"/open-data/JO/{n2}.zip")).content).digest()
        == hashlib.sha256(archive.content).digest()
    )

    release = (await client.get(f"/public/v1/countries/JO/releases/{n2}")).json()
    assert (release["content_hash"], release["previous_release_number"]) == (jordan["second"]["content_hash"], n1)
    assert (await client.get("/public/v1/countries/JO/releases/999999")).status_code == 404
    assert (await client.get("/open-data/JO/1/secrets.csv")).status_code == 404


async def test_a_candidate_is_never_public(
    client: httpx.AsyncClient, test_platform: TestPlatform, jordan: dict[str, Any]
) -> None:
    hidden = registered("JO", "Not Yet Public")
    await deliver(test_platform, hidden, finalised(hidden.factory_id, "JO", {"JO-OSH-02": "non_compliant"}))
    from devstack.testkit.transparency import staff_member

    created = await client.post(
        "/v1/publications",
        json={"country": "JO", "cut_off": "2026-01-01"},
        headers=staff_member(test_platform, "JO", "ea-x"),
    )
    assert created.status_code == 201
    assert (await client.get(f"/public/v1/factories/{hidden.factory_id}")).status_code == 404
    search = (await client.get("/public/v1/factories", params={"q": "Not Yet Public"})).json()
    assert search["items"] == []


async def test_portal_pages_render_in_each_language(client: httpx.AsyncClient, jordan: dict[str, Any]) -> None:
    factory_id = jordan["ids"][1]
    page = await client.get(f"/portal/factories/{factory_id}")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    tag = jordan["tag"]
    assert f"Irbid Knit {tag}" in page.text and "JO-OSH-02" in page.text and "<script" not in page.text
    assert (
        await client.get(f"/portal/factories/{factory_id}", headers={"If-None-Match": page.headers["etag"]})
    ).status_code == 304
    vietnamese = (await client.get(f"/portal/factories/{factory_id}", params={"lang": "vi"})).text
    assert 'lang="vi"' in vietnamese and "Lịch sử các lần công bố" in vietnamese
    khmer = (await client.get("/portal", params={"lang": "km"})).text
    assert "វិបផតថលតម្លាភាព" in khmer
    arabic = (await client.get("/portal", params={"lang": "ar"})).text
    assert 'dir="rtl"' in arabic

    results = (await client.get("/portal/factories", params={"country": "JO", "q": f"Zarqa Denim {tag}"})).text
    assert f"Zarqa Denim {tag}" in results and "Amman Apparel" not in results
    overview = (await client.get("/portal/countries/JO")).text
    assert "<svg" in overview and "aggregates.csv" in overview and "<table>" in overview
    issue = (await client.get("/portal/countries/JO/issues/JO-OSH-02")).text
    assert f"Irbid Knit {tag}" in issue and f"Aqaba Textiles {tag}" not in issue
    assert (await client.get("/portal/countries/JO/issues/NOPE")).status_code == 404


async def test_a_merged_factory_is_published_under_its_survivor(
    client: httpx.AsyncClient, test_platform: TestPlatform
) -> None:
    tag = uuid.uuid4().hex[:6]
    survivor, duplicate = registered("JO", f"Merged Survivor {tag}"), registered("JO", f"Merged Duplicate {tag}")
    await deliver(
        test_platform,
        survivor,
        duplicate,
        finalised(duplicate.factory_id, "JO", {"JO-OSH-02": "non_compliant"}),
        merged(duplicate.factory_id, survivor.factory_id, "JO"),
    )
    await release(client, test_platform, "JO")
    moved = await client.get(f"/public/v1/factories/{duplicate.factory_id}")
    assert moved.status_code == 308 and moved.headers["location"] == f"/public/v1/factories/{survivor.factory_id}"
    page = (await client.get(f"/public/v1/factories/{survivor.factory_id}")).json()
    assert page["current"]["name"] == f"Merged Survivor {tag}"
    assert page["current"]["issues"][0]["result"] == "non_compliant"
    portal = await client.get(f"/portal/factories/{duplicate.factory_id}", params={"lang": "vi"})
    assert portal.status_code == 308 and portal.headers["location"].endswith(f"{survivor.factory_id}?lang=vi")
