"""An issue no configured host can ever take (a pin to an unknown host, a need no host has) is warned
about as soon as it is ready, not when a slot frees for it: every one of them, while the slots are busy."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.engine.conftest import EngineFactory, write_issue, write_script
from waterspider_tui.core import events as ev

HOLD = "import os, sys, time\nwhile not os.path.exists(sys.argv[0] + '.go'):\n    time.sleep(0.05)\n"


async def test_every_issue_no_host_can_take_is_warned_while_the_slot_is_busy(make_engine: EngineFactory, issues: Path, tmp_path: Path) -> None:
    script = write_script(tmp_path, "hold.py", HOLD)
    write_issue(issues, 1)
    write_issue(issues, 7, labels="[host:mini-9]")
    write_issue(issues, 8, labels="[needs:windows]")
    engine = make_engine(script, capacity=1)
    runner = asyncio.create_task(engine.run(until_idle=False))
    try:
        async def warned() -> set[str]:
            while True:
                said = {e.issue for e in engine.store.log.read() if isinstance(e, ev.Warned) and "cannot run on any configured host" in e.message}
                started = [e for e in engine.store.log.read() if isinstance(e, ev.SessionStarted)]
                if len(said) == 2 and started:
                    return said
                await asyncio.sleep(0.05)

        assert await asyncio.wait_for(warned(), 20) == {"local#7", "local#8"}
        assert [e.issue for e in engine.store.log.read() if isinstance(e, ev.SessionStarted)] == ["local#1"], "the slot is still #1's"
    finally:
        Path(str(script) + ".go").touch()
        await engine.stop(leave_running=False)
        await asyncio.wait_for(runner, 30)
