"""A malformed issue file and a dependency cycle: clear messages, and the rest completes."""

from __future__ import annotations

from pathlib import Path

from tests.git_checkout import make_checkout
from tests.e2e.helpers import json_events, run_cli

ISSUES = {
    "001-base.md": "---\ntitle: Base\nlabels: [P1-High]\n---\nThe base.\n",
    "002-on-base.md": "---\ntitle: On base\nlabels: [P2-Medium]\n---\nDepends on #1.\n",
    "003-cycle-a.md": "---\ntitle: Cycle A\n---\nBlocked by #4.\n",
    "004-cycle-b.md": "---\ntitle: Cycle B\ndepends_on: [3]\n---\n",
    "005-after-cycle.md": "---\ntitle: After the cycle\n---\nAfter #4.\n",
    "006-broken.md": "---\ntitle: [unclosed\n---\nbody\n",
    "007-unknown-ref.md": "---\ntitle: Refers to a ghost\n---\nDepends on #99.\n",
}


def _repo(tmp_path: Path) -> tuple[Path, Path]:
    repo = make_checkout(tmp_path / "repo")
    issues = tmp_path / "issues"
    issues.mkdir()
    for name, text in ISSUES.items():
        (issues / name).write_text(text)
    return repo, issues


def test_malformed_file_and_cycle_are_reported_and_the_rest_completes(tmp_path: Path) -> None:
    repo, issues = _repo(tmp_path)
    result = run_cli(
        "run", "--issues", str(issues), "--repo-path", str(repo), "--agent", "simulated", "--json", "--until-idle",
        "--config", str(_config(tmp_path)),
    )
    assert result.returncode == 1, "issues held in a cycle are not done"
    events = json_events(result.stdout)
    rejected = [e for e in events if e["event"] == "issue_rejected"]
    assert len(rejected) == 1 and "006-broken.md" in rejected[0]["error"] and "YAML" in rejected[0]["error"]
    warnings = [e["message"] for e in events if e["event"] == "warned"]
    assert any("cycle" in message and "#3" in message and "#4" in message for message in warnings)
    assert any("#99" in message for message in warnings)
    succeeded = {e["issue"] for e in events if e["event"] == "session_finished" and e["result"]["outcome"] == "succeeded"}
    assert succeeded == {"local#1", "local#2", "local#7"}
    started = {e["issue"] for e in events if e["event"] == "session_started"}
    assert not started & {"local#3", "local#4", "local#5"}

    text = run_cli("run", "--issues", str(issues), "--repo-path", str(repo), "--agent", "simulated", "--no-ui", "--until-idle", "--config", str(_config(tmp_path)))
    assert "skipped file: 006-broken.md: front matter is not valid YAML" in text.stdout
    assert "#3 not run: cycle #3 → #4 → #3" in text.stdout or "#3 not run: cycle #4 → #3 → #4" in text.stdout
    assert "#5 not run: waits on #4 (queued)" in text.stdout


def _config(tmp_path: Path) -> Path:
    config = tmp_path / "waterspider.toml"
    config.write_text('[agent]\nkind = "simulated"\noptions = { duration_s = 0.5 }\n')
    return config


def test_bad_flag_and_bad_config_exit_2_with_one_line(tmp_path: Path) -> None:
    result = run_cli("run", "--capacity", "zero")
    assert result.returncode == 2
    bad = tmp_path / "bad.toml"
    bad.write_text("[scheduler]\ncapacity = -1\n")
    result = run_cli("run", "--config", str(bad), "--issues", str(tmp_path))
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "scheduler.capacity" in result.stderr
