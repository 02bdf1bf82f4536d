"""`betterwork import factories FILE.csv`: upload a list to the registry, follow it, print what became of it.

A client of the registry's HTTP API like any other (the list is processed by the service, which resumes
it after a crash); this only uploads, shows progress and saves the per-row results.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn


class ImportFailed(RuntimeError):
    """The registry refused the list or could not be reached; the message says why."""


@dataclass(frozen=True)
class ImportSummary:
    job: dict[str, Any]
    results_path: Path | None

    def lines(self) -> list[str]:
        job = self.job
        seconds = job.get("rows_per_second")
        lines = [
            f"import {job['id']}: {job['status']}, {job['processed']} of {job['total']} rows"
            + (f" ({seconds:g} rows/s)" if seconds else ""),
            f"  created       {job['created']}",
            f"  matched       {job['matched']}",
            f"  needs review  {job['needs_review']}  (GET /v1/match-reviews?import_job_id={job['id']})",
            f"  rejected      {job['rejected']}",
        ]
        if self.results_path is not None:
            lines.append(f"per-row results: {self.results_path}")
        return lines


def _problem(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"{response.status_code}: {response.text[:300]}"
    detail = body.get("detail") or body.get("title") or response.reason_phrase
    return f"{response.status_code} {detail}"


def import_factories(
    path: Path,
    *,
    base_url: str,
    token: str,
    country: str | None,
    results_path: Path | None,
    wait: bool = True,
    poll_s: float = 0.5,
    console: Console | None = None,
    timeout_s: float = 3600,
) -> ImportSummary:
    """Upload `path`; unless `wait` is false, show progress until the list is done and save the results."""
    console = console or Console(stderr=True)
    headers = {"Authorization": f"Bearer {token}"}
    params: dict[str, str] = {"filename": path.name}
    if country:
        params["country"] = country
    with httpx.Client(base_url=base_url, headers=headers, timeout=60) as client:
        try:
            response = client.post(
                "/v1/factory-imports",
                params=params,
                content=path.read_bytes(),
                headers={"Content-Type": "text/csv"},
            )
        except httpx.HTTPError as exc:
            raise ImportFailed(f"cannot reach the registry at {base_url}: {exc}") from exc
        if response.status_code != 202:
            raise ImportFailed(f"the registry refused the list: {_problem(response)}")
        job: dict[str, Any] = response.json()
        if job.get("ignored_columns"):
            console.print(f"ignored columns: {', '.join(job['ignored_columns'])}")
        if not wait:
            return ImportSummary(job, None)
        with Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[counts]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        ) as progress:
            task = progress.add_task(path.name, total=job["total"], counts="")
            deadline = time.monotonic() + timeout_s
            while job["status"] != "completed":
                if time.monotonic() > deadline:
                    raise ImportFailed(f"import {job['id']} still {job['status']} after {timeout_s:g} s")
                time.sleep(poll_s)
                try:
                    polled = client.get(f"/v1/factory-imports/{job['id']}")
                except httpx.HTTPError:
                    continue  # the service may be restarting; the job resumes there
                if polled.status_code != 200:
                    continue
                job = polled.json()
                counts = (
                    f"created {job['created']} · matched {job['matched']} · "
                    f"review {job['needs_review']} · rejected {job['rejected']}"
                )
                progress.update(task, completed=job["processed"], counts=counts)
        if results_path is not None:
            results = client.get(f"/v1/factory-imports/{job['id']}/results")
            if results.status_code != 200:
                raise ImportFailed(f"cannot fetch the results: {_problem(results)}")
            results_path.write_bytes(results.content)
    return ImportSummary(job, results_path)
