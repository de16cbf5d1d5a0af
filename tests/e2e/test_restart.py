"""kill -9 the orchestrator mid-run, start it again on the same store: nothing lost, nothing twice."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

from tests.e2e.helpers import WATERSPIDER, clean_env, git, json_events, run_cli


def _start_demo(folder: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*WATERSPIDER, "demo", "--json", "--speed", "7.5", "--capacity", "3", "--dir", str(folder)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=clean_env(),
    )


def test_kill_9_mid_run_then_restart_finishes_everything_once(tmp_path: Path) -> None:
    first = _start_demo(tmp_path)
    first_events: list[dict] = []
    deadline = time.monotonic() + 60
    assert first.stdout is not None
    while time.monotonic() < deadline:
        line = first.stdout.readline()
        if not line:
            break
        first_events.append(json.loads(line))
        finished = sum(1 for event in first_events if event["event"] == "session_finished")
        spawned = sum(1 for event in first_events if event["event"] == "session_spawned")
        if finished >= 2 and spawned >= finished + 2:
            break
    os.kill(first.pid, signal.SIGKILL)
    first.wait(timeout=10)
    live_at_kill = {e["issue"] for e in first_events if e["event"] == "session_spawned"} - {
        e["issue"] for e in first_events if e["event"] == "session_finished"
    }
    assert live_at_kill, "the kill should land while sessions run"

    second = run_cli("demo", "--json", "--speed", "7.5", "--capacity", "3", "--dir", str(tmp_path), timeout=180)
    assert second.returncode == 0, second.stderr[-2000:]
    second_events = json_events(second.stdout)

    reattached = {e["issue"] for e in second_events if e["event"] == "session_spawned" and e["reattached"]}
    assert live_at_kill <= reattached | {e["issue"] for e in second_events if e["event"] == "session_finished"}

    # The store is the record (stdout lines printed just before the kill may not have been read).
    from waterspider_tui.core import events as ev
    from waterspider_tui.store.event_log import EventLog

    stored = list(EventLog(tmp_path / "widgets" / ".waterspider" / "state.db", read_only=True).read())
    fresh_spawns = Counter(e.issue for e in stored if isinstance(e, ev.SessionSpawned) and not e.reattached)
    assert all(count == 1 for count in fresh_spawns.values()), f"an issue ran twice: {fresh_spawns}"
    assert len(fresh_spawns) == 20
    # Counted from where each branch started: a dependant is stacked on its blocker's branch, and
    # the other blockers' branches are merged in, so only the agent's own commits are counted.
    bases = {int(e.issue.rpartition("#")[2]): e.session.base_branch or "main" for e in stored if isinstance(e, ev.SessionStarted)}
    for number in range(1, 21):
        subjects = git(tmp_path / "widgets", "log", "--no-merges", "--format=%s", f"{bases[number]}..feature/issue-{number}").splitlines()
        commits = sum(subject.startswith(f"Work on #{number}:") for subject in subjects)
        assert commits == 1, f"the agent worked on #{number} {commits} times: {subjects}"

    status = run_cli("status", "--json", "--repo-path", str(tmp_path / "widgets"))
    assert status.returncode == 0, status.stderr
    data = json.loads(status.stdout)
    assert data["running"] == [] and data["order"] == [] and data["blocked"] == []
    assert sorted(item["issue"] for item in data["finished"] if item["state"] == "succeeded") == list(range(1, 21))
