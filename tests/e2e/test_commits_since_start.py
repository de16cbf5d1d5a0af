"""A session counts only the commits made since it started: not the ones already on a reused
issue branch (the operator's own, an earlier run's kept under another store)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.e2e.helpers import git, json_events, run_cli
from tests.git_checkout import make_checkout


def _finished(stdout: str) -> list[dict]:
    return [event for event in json_events(stdout) if event["event"] == "session_finished"]


def test_commits_already_on_the_branch_are_not_the_sessions(tmp_path: Path) -> None:
    repo = make_checkout(tmp_path / "repo")
    git(repo, "checkout", "-q", "-b", "feature/issue-5")
    (repo / "mine.txt").write_text("the operator's own work\n")
    git(repo, "add", "mine.txt")
    subprocess.run(["git", "-c", "user.name=op", "-c", "user.email=op@example.invalid", "commit", "-q", "-m", "mine"], cwd=repo, check=True)
    git(repo, "checkout", "-q", "main")
    issues = tmp_path / "issues"
    issues.mkdir()
    (issues / "005.md").write_text("---\nnumber: 5\ntitle: Five\n---\nbody\n")
    config = tmp_path / "waterspider.toml"
    config.write_text('[agent]\nkind = "simulated"\noptions = { duration_s = 0.1 }\n')
    args = ["run", "--issues", str(issues), "--repo-path", str(repo), "--config", str(config), "--json", "--until-idle"]

    first = run_cli(*args)
    assert first.returncode == 0, first.stderr[-2000:]
    [ended] = _finished(first.stdout)
    assert ended["result"]["outcome"] == "succeeded"
    assert ended["result"]["commits"] == 1, "the operator's commit on the branch is not the agent's"

    # Another store knows nothing of the first run: its commits are on the branch all the same.
    second = run_cli(*args, "--store", str(tmp_path / "other.db"))
    assert second.returncode == 0, second.stderr[-2000:]
    [again] = _finished(second.stdout)
    assert again["result"]["commits"] == 1, "only this session's commit"
    assert git(repo, "rev-list", "--count", "main..feature/issue-5").strip() == "3"
