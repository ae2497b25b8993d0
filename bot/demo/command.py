"""``npsbot demo`` as one async function: play the story, save the files, print the report."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TextIO

from bot.demo.output import render, save_transcript
from bot.demo.results import DemoResult
from bot.demo.scenario import run_demo


async def demo(
    stream: TextIO,
    *,
    clients: int = 30,
    seed: int = 1,
    out: Path | None = None,
    database_url: str | None = None,
    start: datetime | None = None,
) -> DemoResult:
    """Run the demo; the report goes to ``stream`` and, as ``transcript.txt``, to the folder."""
    result = await run_demo(
        stream=stream,
        clients=clients,
        seed=seed,
        out=out,
        database_url=database_url,
        start=start,
    )
    save_transcript(result)
    render(result, stream)
    return result
