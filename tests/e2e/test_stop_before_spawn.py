"""The orchestrator stopped (SIGTERM or kill -9) right after its first start: an attempt whose agent
never started is started again at once, shown as no failure, counted as no session."""

from __future__ import annotations

import json
import re
import signal
import subprocess
from pathlib import Path

import pytest

from tests.e2e.helpers import WATERSPIDER, clean_env, run_cli
from tests.git_checkout import make_checkout

ISSUES = 2


def _setup(tmp_path: Path) -> tuple[Path, Path, Path]:
    repo = make_checkout(tmp_path / "repo")
    issues = tmp_path / "issues"
    issues.mkdir()
    for number in range(1, ISSUES + 1):
        (issues / f"00{number}.md").write_text(f"---\nnumber: {number}\ntitle: Issue {number}\n---\nbody\n")
    config = tmp_path / "waterspider.toml"
    config.write_text('[agent]\nkind = "simulated"\noptions = { duration_s = 0.1 }\n[issues]\npoll_interval_s = 2\n')
    return repo, issues, config


def _stored(repo: Path) -> list:
    from waterspider_tui.store.event_log import EventLog

    return list(EventLog(repo / ".waterspider" / "state.db", read_only=True).read())


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "kill-9"])
def test_stopped_right_after_the_first_start(tmp_path: Path, stop: signal.Signals) -> None:
    from waterspider_tui.core import events as ev

    repo, issues, config = _setup(tmp_path)
    args = ["run", "--issues", str(issues), "--repo-path", str(repo), "--config", str(config), "--capacity", str(ISSUES)]
    first = subprocess.Popen([*WATERSPIDER, *args, "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=clean_env())
    assert first.stdout is not None
    for line in first.stdout:
        if json.loads(line)["event"] == "session_started":
            first.send_signal(stop)
            break
    _, stderr = first.communicate(timeout=60)

    stored = _stored(repo)
    spawned = {e.issue for e in stored if isinstance(e, ev.SessionSpawned)}
    ended = {e.issue for e in stored if isinstance(e, ev.SessionFinished)}
    if stop is signal.SIGTERM:
        detached = {e.issue for e in stored if isinstance(e, ev.SessionDetached)}
        assert detached == spawned - ended, "only a session whose agent runs is left running"
        still = re.search(r"(\d+) sessions? (?:is|are) still running", stderr)
        assert (int(still.group(1)) if still else 0) == len(spawned - ended), stderr

    second = run_cli(*args, "--no-ui", "--until-idle")
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-2000:]
    out = second.stdout
    assert "failed" not in out.split("summary:")[0] and "lost" not in out, out
    assert re.findall(r"#\d started: attempt (\d+)", out) == ["1"] * len(re.findall(r"#\d started:", out)), out
    assert f"results: {ISSUES} issues: {ISSUES} succeeded" in out and f"· {ISSUES} sessions ·" in out, out
    for event in _stored(repo):
        if isinstance(event, ev.RetryScheduled):
            assert event.not_before == event.ts, f"no backoff for an attempt whose agent never started: {event}"
