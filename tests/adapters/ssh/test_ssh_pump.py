"""The pump a host runs to answer reads and liveness questions, run here directly (no SSH server needed)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from waterspider_tui.adapters.executors import ssh_pump
from waterspider_tui.adapters.executors.ssh_polling import RemoteSessionState


def session_folder(tmp_path: Path, name: str) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    return folder


def test_reads_come_from_the_offset_up_to_the_limit_and_a_missing_file_is_empty(tmp_path: Path) -> None:
    (tmp_path / "out").write_bytes(b"0123456789")
    header, chunks = ssh_pump.answer({"read": [[str(tmp_path / "out"), 3, 4], [str(tmp_path / "out"), 8, 100], [str(tmp_path / "none"), 0, 10]]})
    assert chunks == [b"3456", b"89", b""] and header["sizes"] == [4, 2, 0]


def test_states_of_ended_running_gone_and_starting_sessions(tmp_path: Path) -> None:
    ended = session_folder(tmp_path, "ended")
    (ended / "exit.json").write_text('{"returncode": 3, "ended": 12.5}')
    running = session_folder(tmp_path, "running")
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)", str(running)])
    (running / "runner.pid").write_text(f"{sleeper.pid}\n")
    (running / "heartbeat").write_text(f"{time.time() - 1:.3f}\n")
    reused = session_folder(tmp_path, "reused")
    (reused / "runner.pid").write_text(f"{os.getpid()}\n")  # a live pid that is not this session's runner
    starting = session_folder(tmp_path, "starting")
    (starting / "launch.lock").write_text(f"{time.time() - 2:.3f}\n")
    never = session_folder(tmp_path, "never")
    try:
        header, _ = ssh_pump.answer({"state": [str(folder) for folder in (ended, running, reused, starting, never)]})
    finally:
        sleeper.kill()
        sleeper.wait()
    states = [RemoteSessionState.from_pump(found) for found in header["states"]]
    assert states[0].exit is not None and (states[0].exit.returncode, states[0].exit.ended) == (3, 12.5)
    assert states[1].alive and states[1].pid == sleeper.pid and 0.5 < (states[1].heartbeat_age_s or 0) < 10
    assert not states[2].alive and states[2].gone_without_exit == "the runner died without an exit record"
    assert states[3].starting_age_s is not None and not states[3].gone_without_exit
    assert states[4].gone_without_exit == "the session never started on its host"


def test_the_pump_answers_request_after_request_and_touches_leases(tmp_path: Path) -> None:
    lease = tmp_path / "lease"
    lease.write_text("")
    os.utime(lease, (1, 1))
    (tmp_path / "out").write_bytes(b"hello\nworld\n")
    requests = [{"read": [[str(tmp_path / "out"), 0, 6]], "touch": [str(lease)]}, {"read": [[str(tmp_path / "out"), 6, 99]]}, "not json"]
    stdin = "".join((json.dumps(request) if isinstance(request, dict) else request) + "\n" for request in requests)
    done = subprocess.run([sys.executable, "-I", "-S", ssh_pump.__file__], input=stdin.encode(), capture_output=True, timeout=10)
    assert done.stdout.split(b"\n", 1)[0] == b'{"sizes": [6], "states": []}'
    assert b'{"sizes": [6], "states": []}\nhello\n{"sizes": [6], "states": []}\nworld\n{"sizes": [], "states": [], "error"' in done.stdout
    assert lease.stat().st_mtime > 1000
