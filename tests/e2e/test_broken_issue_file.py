"""An issue file that stops parsing keeps its issue as it last was (never read as closed), and
one never read is still known by its file name: a dependant waits for it either way."""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path

from tests.e2e.helpers import WATERSPIDER, clean_env, json_events, run_cli
from tests.git_checkout import make_checkout

BLOCKER = "---\nnumber: 1\ntitle: The blocker\nlabels: [P3-Low]\n---\nbody\n"
BROKEN = "---\nnumber: 1\ntitle: [broken\nlabels: [P3-Low]\n---\nbody\n"


def _setup(tmp_path: Path, blocker: str, duration_s: float) -> list[str]:
    repo = make_checkout(tmp_path / "repo")
    issues = tmp_path / "issues"
    issues.mkdir()
    (issues / "001.md").write_text(blocker)
    (issues / "002.md").write_text("---\nnumber: 2\ntitle: The dependant\ndepends_on: [1]\n---\nbody\n")
    (issues / "003.md").write_text("---\nnumber: 3\ntitle: The urgent one\nlabels: [P0-Critical]\n---\nbody\n")
    config = tmp_path / "waterspider.toml"
    config.write_text('[agent]\nkind = "simulated"\noptions = { duration_s = ' + str(duration_s) + ' }\n[issues]\npoll_interval_s = 0.2\n')
    return ["run", "--issues", str(issues), "--repo-path", str(repo), "--config", str(config), "--capacity", "1", "--json", "--until-idle"]


def test_a_blocker_whose_file_breaks_mid_run_still_goes_first(tmp_path: Path) -> None:
    args = _setup(tmp_path, BLOCKER, duration_s=0.5)
    run = subprocess.Popen([*WATERSPIDER, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=clean_env())
    assert run.stdout is not None
    events: list[dict] = []
    for line in run.stdout:
        events.append(json.loads(line))
        started = [e["issue"] for e in events if e["event"] == "session_started"]
        if started == ["local#3"]:
            (tmp_path / "issues" / "001.md").write_text(BROKEN)
        if len(started) == 2:
            run.send_signal(signal.SIGTERM)  # the order is told: the rest need not run
            break
    rest, _ = run.communicate(timeout=60)
    events += json_events(rest)
    assert [e["issue"] for e in events if e["event"] == "session_started"][:2] == ["local#3", "local#1"], "P0 first, then the blocker"
    assert not [e for e in events if e["event"] == "issue_gone"], "an unreadable file is not a closed issue"
    assert any(e["event"] == "issue_rejected" and "001.md" in e["error"] for e in events)


def test_a_blocker_known_only_by_its_file_name_is_waited_for(tmp_path: Path) -> None:
    args = _setup(tmp_path, BROKEN, duration_s=0.1)
    run = run_cli(*args)
    events = json_events(run.stdout)
    assert run.returncode == 1, "#1 and #2 are not done"
    assert [e["issue"] for e in events if e["event"] == "session_started"] == ["local#3"], "#2 waits for #1"
    assert not any("not known" in e.get("message", "") for e in events if e["event"] == "warned"), events
