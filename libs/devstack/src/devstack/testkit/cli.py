"""Run the `betterwork` command as an operator would."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path


async def betterwork(*args: str, env: dict[str, str]) -> tuple[int, str]:
    """Run the `betterwork` CLI; returns its exit code and output."""
    process = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).with_name("betterwork")),
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    return process.returncode or 0, output.decode()
