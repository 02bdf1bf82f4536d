"""The shared limits where the services use them: the zero-tolerance protocol upload (YAML without aliases),
the tool export (`Content-Disposition` for any label), the registry's list results (CSV a spreadsheet will not
run) and its CSV upload (a cap of its own above the 1 MB default)."""

from __future__ import annotations

import asyncio
import csv
import io
import time
import uuid

import yaml

from devstack.pytest_plugin import TestPlatform, serve_in_process
from devstack.testkit.access import staff
from devstack.testkit.assessments import kh_tool

from .test_files import ALIAS_BOMB

QUIET = {"relay_enabled": False, "consumer_enabled": False}


async def test_a_yaml_alias_bomb_sent_as_a_protocol_is_refused(test_platform: TestPlatform) -> None:
    async with serve_in_process(test_platform.app("assessments", **QUIET)) as client:
        headers = {**staff(test_platform, "KH"), "Content-Type": "application/yaml"}
        started = time.monotonic()
        refused = await client.put("/v1/zero-tolerance-protocol", content=ALIAS_BOMB, headers=headers)
        assert refused.status_code == 422, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert "alias" in refused.json()["detail"]
        assert time.monotonic() - started < 2


async def test_a_tool_with_a_khmer_label_exports(test_platform: TestPlatform) -> None:
    async with serve_in_process(test_platform.app("assessments", **QUIET)) as client:
        headers = staff(test_platform, "KH")
        label = f"ឧបករណ៍ សម្លៀកបំពាក់ {uuid.uuid4().hex[:6]}"
        tool = {**kh_tool(), "label": label}
        draft = await client.post(
            "/v1/tools",
            content=yaml.safe_dump(tool, allow_unicode=True).encode(),
            headers={**headers, "Content-Type": "application/yaml"},
        )
        assert draft.status_code == 201, draft.text
        exported = await client.get(f"/v1/tools/{draft.json()['id']}/export", headers=headers)
        assert exported.status_code == 200, exported.text
        disposition = exported.headers["content-disposition"]
        assert disposition.startswith('attachment; filename="') and "filename*=UTF-8''" in disposition
        assert yaml.safe_load(exported.text)["tool"]["label"] == label


async def test_list_results_do_not_carry_formulas(test_platform: TestPlatform) -> None:
    async with serve_in_process(test_platform.app("registry", **QUIET)) as client:
        headers = staff(test_platform, "KH")
        name = f'=HYPERLINK("http://evil.example/?{uuid.uuid4().hex[:6]}","Click")'
        data = f'country,name,address\nKH,"{name.replace(chr(34), chr(34) * 2)}",@SUM(1+1) Street 9\n'.encode()
        job = await client.post("/v1/factory-imports", content=data, headers={**headers, "Content-Type": "text/csv"})
        assert job.status_code == 202, job.text
        path = f"/v1/factory-imports/{job.json()['id']}"
        deadline = time.monotonic() + 60
        while (await client.get(path, headers=headers)).json()["status"] != "completed":
            assert time.monotonic() < deadline
            await asyncio.sleep(0.1)
        results = await client.get(f"{path}/results", headers=headers)
        assert results.status_code == 200
        rows = list(csv.DictReader(io.StringIO(results.text)))
        assert [(r["name"], r["address"]) for r in rows] == [("'" + name, "'@SUM(1+1) Street 9")]
        assert "filename=" in results.headers["content-disposition"]


async def test_the_registry_takes_a_list_above_the_default_cap(test_platform: TestPlatform) -> None:
    async with serve_in_process(test_platform.app("registry", **QUIET, max_body_bytes=64 * 1024)) as client:
        headers = {**staff(test_platform, "KH"), "Content-Type": "text/csv"}
        # Few rows with long addresses: the worker finishes the list here rather than leave it to the next app
        # on this database (a queued list is resumed by whichever registry starts next).
        zone = "Industrial Zone Road " * 20
        rows = "".join(f'KH,Cap Garment {i} {uuid.uuid4().hex[:8]},"{i} Street 2, {zone}"\n' for i in range(160))
        data = ("country,name,address\n" + rows).encode()
        assert len(data) > 64 * 1024
        job = await client.post("/v1/factory-imports", content=data, headers=headers)
        assert job.status_code == 202, job.text
        path, deadline = f"/v1/factory-imports/{job.json()['id']}", time.monotonic() + 60
        while (done := (await client.get(path, headers=headers)).json())["status"] != "completed":
            assert time.monotonic() < deadline, done
            await asyncio.sleep(0.1)
        assert (done["total"], done["processed"], done["rejected"]) == (160, 160, 0)
        too_big = await client.post(
            "/v1/factories",
            content=b'{"name": "' + b"x" * 70_000 + b'"}',
            headers={**headers, "Content-Type": "application/json"},
        )
        assert too_big.status_code == 413
