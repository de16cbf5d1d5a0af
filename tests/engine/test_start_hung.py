"""A start that hangs is given up on with a clear error, never left "starting" for good.

The hang is real: git runs a reference-transaction hook that waits until the test lets it go,
so the worktree's git never returns while the hook waits (as a git stuck on anything would).
"""

from __future__ import annotations

import asyncio
import stat
from pathlib import Path

from tests.engine.conftest import EngineFactory, write_issue, write_script
from tests.waiting import WAIT_S, until
from waterspider_tui.core import events as ev
from waterspider_tui.core.models import ErrorClass, Outcome, TaskState

SUCCEEDS = """
print("done", flush=True)
"""

HOOK = """#!/bin/sh
# The first ref update waits until the test releases it; later ones pass.
cat > /dev/null
if mkdir "{held}" 2>/dev/null; then
  while [ ! -e "{release}" ]; do sleep 0.05; done
fi
exit 0
"""


def _hang_first_ref_update(git_dir: Path, tmp_path: Path) -> tuple[Path, Path]:
    held, release = tmp_path / "hook-held", tmp_path / "hook-release"
    hook = git_dir / "hooks" / "reference-transaction"
    hook.parent.mkdir(parents=True, exist_ok=True)
    hook.write_text(HOOK.format(held=held, release=release))
    hook.chmod(hook.stat().st_mode | stat.S_IEXEC)
    return held, release


async def test_a_start_hung_in_its_worktree_ends_crashed_uncharged_and_is_tried_again(tmp_path: Path, issues: Path, make_engine: EngineFactory) -> None:
    write_issue(issues, 1)
    engine = make_engine(write_script(tmp_path, "succeeds.py", SUCCEEDS), start_timeout_s=2.0, max_attempts=1)
    executor = engine.pool.executors[0]
    held, release = _hang_first_ref_update(Path(executor.workspace.repo.common_dir), tmp_path)
    runner = asyncio.create_task(engine.run(until_idle=True))
    try:
        await until(lambda: any(isinstance(e, ev.SessionFinished) for e in engine.store.log.read()))
        assert held.exists(), "the start was given up on while git was not even held"
        events = list(engine.store.log.read())
        first = next(e for e in events if isinstance(e, ev.SessionFinished))
        assert first.result.outcome is Outcome.FAILED and first.result.error_class is ErrorClass.CRASHED
        assert first.result.error.startswith("start hung in preparing its worktree for 2s")
        assert not any(isinstance(e, ev.SessionSpawned) and e.session_id == first.session_id for e in events)
        assert first.will_retry
    finally:
        release.touch()
    await asyncio.wait_for(runner, WAIT_S)
    task = engine.snapshot.tasks["local#1"]
    # max_attempts is 1: the attempt given up on before its agent ran was not charged.
    assert task.state is TaskState.SUCCEEDED
    finished = [e.result.outcome for e in engine.store.log.read() if isinstance(e, ev.SessionFinished)]
    assert finished == [Outcome.FAILED, Outcome.SUCCEEDED]
