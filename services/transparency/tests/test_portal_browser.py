"""The portal in a real browser: Debian's chromium driven by Playwright. Pages render, the search form works
without JavaScript, no console errors, axe-core (vendored) finds no WCAG 2.1 A/AA violation, in English, Khmer,
Vietnamese and right-to-left Arabic; screenshots are saved under `test-artifacts/transparency/`.

Chromium comes from Debian (`make install` installs it; this test installs it too when it is missing) and
Playwright never downloads a browser of its own (PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1)."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from devstack.net import free_port
from devstack.pytest_plugin import TestPlatform
from devstack.testkit.transparency import deliver, finalised, registered, release

pytestmark = pytest.mark.asyncio

CHROMIUM = "/usr/bin/chromium"
AXE = Path(__file__).parent / "browser" / "axe.min.js"
ARTIFACTS = Path(os.environ.get("TEST_ARTIFACTS_DIR", Path(__file__).parents[3] / "test-artifacts")) / "transparency"
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def ensure_chromium() -> str:
    """Debian's chromium, installed with apt when missing; a failure to install fails the test (never a skip)."""
    os.environ["PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD"] = "1"
    fonts = subprocess.run(["dpkg", "-s", "fonts-khmeros"], capture_output=True, check=False).returncode == 0
    if not Path(CHROMIUM).exists() or not fonts:
        apt = shutil.which("apt-get")
        assert apt, "chromium is missing and apt-get is not available to install it"
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run([apt, "update", "-qq"], check=True, env=env, timeout=600)
        subprocess.run([apt, "install", "-y", "-qq", "chromium", "fonts-khmeros"], check=True, env=env, timeout=900)
    return CHROMIUM


@pytest.fixture
async def portal(test_platform: TestPlatform) -> AsyncIterator[str]:
    """The transparency service on a real port (the browser needs one)."""
    port = free_port()
    app = test_platform.app("transparency", relay_enabled=False, consumer_enabled=False)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.05)
        assert not task.done(), "the service did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def audit(page: Any, name: str, errors: list[str]) -> None:
    """No console error so far, no axe violation, and a screenshot."""
    await page.add_script_tag(path=str(AXE))
    result = await page.evaluate("(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG)
    violations = [(v["id"], v["help"], [n["target"] for n in v["nodes"]][:3]) for v in result["violations"]]
    assert violations == [], f"{name}: {violations}"
    assert errors == [], f"{name}: console errors {errors}"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


async def test_the_portal_in_a_real_browser(portal: str, test_platform: TestPlatform) -> None:
    from playwright.async_api import async_playwright

    tag = uuid.uuid4().hex[:6]
    events = [
        registered("VN", f"{n} {tag}", province=p)
        for n, p in (("Mekong Sewing", "Can Tho"), ("Hanoi Knit", "Ha Noi"), ("Saigon Shoes", "Ho Chi Minh City"))
    ]
    for n, e in enumerate(events):
        results = {"VN-OSH-02": "non_compliant" if n != 1 else "compliant", "VN-CL-01": "compliant"}
        await deliver(test_platform, e, finalised(e.factory_id, "VN", results))
    async with httpx.AsyncClient(base_url=portal) as client:
        await release(client, test_platform, "VN")

    executable = ensure_chromium()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        try:
            page = await browser.new_page(java_script_enabled=True)
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))

            await page.goto(f"{portal}/portal")
            assert await page.title() == "Better Work transparency portal"
            await audit(page, "home", errors)

            # search through the plain form: type a name, submit, follow the result
            await page.fill("#q", f"Hanoi Knit {tag}")
            await page.select_option("#country", "VN")
            await page.click("button[type=submit]")
            await page.wait_for_load_state()
            rows = await page.locator("main table tbody tr").all_inner_texts()
            assert len(rows) == 1 and f"Hanoi Knit {tag}" in rows[0]
            await audit(page, "search", errors)

            await page.fill("#q", tag)
            await page.select_option("#status", "non_compliant")
            await page.click("button[type=submit]")
            await page.wait_for_load_state()
            names = await page.locator("main table tbody tr td:first-child").all_inner_texts()
            assert sorted(names) == sorted([f"Mekong Sewing {tag}", f"Saigon Shoes {tag}"])

            await page.click(f"text=Mekong Sewing {tag}")
            await page.wait_for_load_state()
            assert await page.locator("h1").inner_text() == f"Mekong Sewing {tag}"
            assert "Non-compliant" in await page.locator("main table").first.inner_text()
            await audit(page, "factory", errors)

            await page.goto(f"{portal}/portal/countries/VN")
            assert await page.locator("svg.chart").count() == 1 or await page.locator("main table").count() >= 1
            await audit(page, "country", errors)

            await page.goto(f"{portal}/portal/countries/VN/issues/VN-OSH-02")
            assert f"Mekong Sewing {tag}" in await page.locator("main").inner_text()
            await audit(page, "issue", errors)

            for lang in ("km", "vi", "ar"):
                await page.goto(f"{portal}/portal/factories/{events[0].factory_id}?lang={lang}")
                assert await page.get_attribute("html", "lang") == lang
                expected = "rtl" if lang == "ar" else "ltr"
                assert await page.get_attribute("html", "dir") == expected
                await audit(page, f"factory-{lang}", errors)

            # without JavaScript the search still works (a plain GET form)
            plain = await browser.new_page(java_script_enabled=False)
            await plain.goto(f"{portal}/portal/factories?q={tag}&country=VN")
            assert len(await plain.locator("main table tbody tr").all()) == 3
        finally:
            await browser.close()
