"""The steps after the agent as an operator configures them: `[pipeline]` in waterspider.toml, a
gate that passes or fails, and the issue branches pushed to a real (bare) remote."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.e2e.helpers import git, json_events, run_cli
from tests.git_checkout import make_checkout


def _project(tmp_path: Path, gate: str) -> tuple[Path, Path, Path]:
    repo = make_checkout(tmp_path / "repo")
    remote = tmp_path / "origin.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(repo), str(remote)], check=True)
    git(repo, "remote", "add", "origin", str(remote))
    issues = tmp_path / "issues"
    issues.mkdir()
    for number in (1, 2):
        (issues / f"{number:03d}.md").write_text(f"---\ntitle: Issue {number}\n---\nDo {number}.\n")
    config = tmp_path / "waterspider.toml"
    config.write_text(f'''
[agent]
kind = "simulated"
options = {{ duration_s = 0.3 }}
[pipeline]
steps = ["commits", "gate", "push"]
[pipeline.gate]
max_rounds = 0
commands = [{{ name = "work file", run = "{gate}" }}]
[pipeline.push]
remote = "origin"
''')
    return repo, issues, config


def test_configured_steps_gate_and_push_every_branch(tmp_path: Path) -> None:
    repo, issues, config = _project(tmp_path, "test -d waterspider-work")
    done = run_cli("run", "--config", str(config), "--issues", str(issues), "--repo-path", str(repo), "--json", "--until-idle")
    assert done.returncode == 0, done.stderr[-2000:]
    steps = [(e["issue"], e["step"], e["ok"]) for e in json_events(done.stdout) if e["event"] == "step_finished"]
    assert sorted(steps) == sorted((f"local#{n}", step, True) for n in (1, 2) for step in ("commits", "gate", "push"))
    pushed = git(tmp_path / "origin.git", "branch", "--list", "feature/*").split()
    assert pushed == ["feature/issue-1", "feature/issue-2"]


def test_a_failing_gate_fails_the_issue_with_its_class_and_pushes_nothing(tmp_path: Path) -> None:
    repo, issues, config = _project(tmp_path, "false")
    done = run_cli("run", "--config", str(config), "--issues", str(issues), "--repo-path", str(repo), "--no-ui", "--until-idle")
    assert done.returncode == 1
    assert "failed (gate_failed)" in done.stdout and "local#1" not in done.stderr
    assert git(tmp_path / "origin.git", "branch", "--list", "feature/*").split() == []
