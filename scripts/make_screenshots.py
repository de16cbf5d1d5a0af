"""Regenerate screenshots/*.svg from the UI test fixtures; the SVGs are never edited by hand.

Run from anywhere: `python scripts/make_screenshots.py`. Each shot starts the control center
on a scripted FakeEngine run (tests/ui/scenarios.py) with the frozen clock, presses keys, and
saves what the terminal shows.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "screenshots"
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
os.environ["TZ"] = "UTC"
time.tzset()

from ui import scenarios  # noqa: E402  (tests/ui, importable once tests/ is on the path)
from ui.hosts_scenario import three_hosts  # noqa: E402
from ui.milestone_scenario import milestones  # noqa: E402
from ui.pilots import make_app, select  # noqa: E402


@dataclass(frozen=True)
class Shot:
    name: str
    scenario: str | scenarios.Scenario
    size: tuple[int, int]
    keys: tuple[str, ...] = ()
    select: int | None = None
    """Issue number to put the cursor on before pressing the keys."""
    options: dict[str, str] = field(default_factory=dict)


SHOTS = (
    Shot("control-center-wide", "mid_run", (200, 60)),
    Shot("control-center-80x24", "mid_run", (80, 24)),
    Shot("control-center-80x24-blocked", "mid_run", (80, 24), ("3",)),
    Shot("dag", "mid_run", (200, 60), ("d",), select=455),
    Shot("dag-cycles", "cycle", (120, 36), ("d",)),
    Shot("dag-milestones", milestones(), (160, 40), ("d", "m")),
    Shot("hosts-one-down", "host_down", (120, 36), ("5",)),
    Shot("hosts-three", three_hosts(), (120, 24), ("5", "down", "down")),
    Shot("hosts-checking", scenarios.just_started(), (120, 35)),
    Shot("detail", "mid_run", (120, 36), ("enter",), select=448),
    Shot("detail-failed", "mid_run", (120, 36), ("enter",), select=441),
    Shot("failure", "failure", (160, 40)),
    Shot("problems", "failure", (120, 36), ("w",)),
    Shot("help", "mid_run", (120, 36), ("question_mark",)),
    Shot("light-theme", "mid_run", (160, 40), options={"theme": "waterspider-light"}),
    Shot("high-contrast", "failure", (120, 36), options={"theme": "waterspider-high-contrast"}),
    Shot("log-pager", "mid_run", (120, 36), ("l", "e"), select=441),
    Shot("diff-pager", "mid_run", (120, 36), ("D", "n"), select=440),
    Shot("results", "mid_run", (120, 36), ("R",)),
    Shot("github-down", "github_down", (120, 36)),
    Shot("all-done", "all_done", (120, 36)),
    Shot("quit-question", "mid_run", (120, 36), ("q",)),
)


async def take(shot: Shot) -> Path:
    app, _ = make_app(shot.scenario, **shot.options)
    async with app.run_test(size=shot.size) as pilot:
        await pilot.pause()
        if shot.select is not None:
            await select(pilot, scenarios.key(shot.select))
        for key in shot.keys:
            await pilot.press(key)
            await app.workers.wait_for_complete()  # a log read in the background lands first
            await pilot.pause()
        await pilot.wait_for_scheduled_animations()
        await pilot.pause()
        return Path(app.save_screenshot(filename=f"{shot.name}.svg", path=str(OUT)))


def main() -> int:
    """Every shot, or only those named on the command line (`python scripts/make_screenshots.py hosts-three`)."""
    OUT.mkdir(exist_ok=True)
    wanted = {f"{shot.name}.svg" for shot in SHOTS}
    chosen = set(sys.argv[1:])
    unknown = chosen - {shot.name for shot in SHOTS}
    if unknown:
        print(f"no such shot: {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    if not chosen:
        for stale in OUT.glob("*.svg"):
            if stale.name not in wanted:
                stale.unlink()
    for shot in SHOTS:
        if chosen and shot.name not in chosen:
            continue
        path = asyncio.run(take(shot))
        print(path.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
