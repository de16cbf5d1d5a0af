"""The store's lock of a `run` is held until its process has really exited: what follows the
engine's end (the control center closing, threads joined at exit) may take a while, and
`status` or a second `run` must not find the store free meanwhile."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from waterspider_tui.cli.status import orchestrator_running
from waterspider_tui.engine.locks import EngineLocked, run_locks
from tests.waiting import WAIT_S

_ENDING_RUN = """
import sys
from pathlib import Path
from waterspider_tui.engine.locks import run_locks
locks = run_locks(Path(sys.argv[1]))
locks.acquire()
locks.keep_until_exit()
locks.release()  # the engine's end
print("engine stopped", flush=True)
sys.stdin.read()  # still ending: until the test lets it exit
"""


def test_the_store_stays_locked_until_the_process_exits(tmp_path: Path) -> None:
    store = tmp_path / "state.db"
    process = subprocess.Popen([sys.executable, "-c", _ENDING_RUN, str(store)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None and process.stdout.readline() == "engine stopped\n"
        assert orchestrator_running(store)
        with pytest.raises(EngineLocked, match=r"it is ending \(pid \d+\): the engine has stopped; the process is exiting"):
            run_locks(store).acquire()
        assert process.stdin is not None
        process.stdin.close()
        assert process.wait(timeout=WAIT_S) == 0
    finally:
        if process.poll() is None:
            process.kill()
    assert not orchestrator_running(store)


def test_a_lock_kept_until_exit_is_taken_again_by_the_same_process(tmp_path: Path) -> None:
    locks = run_locks(tmp_path / "state.db")
    locks.acquire()
    locks.keep_until_exit()
    locks.release()
    locks.acquire()  # a second run of the engine in this process: its own lock, not another's
    assert locks.held
