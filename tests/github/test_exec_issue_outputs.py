"""Where `waterspider exec-issue` leaves its stream and record without `--stream-file` (never as untracked
files in the checkout), and how its lines read: a real subprocess, a real git repository, the simulated agent."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.e2e.helpers import git
from tests.git_checkout import make_checkout
from tests.github.test_actions_exec_issue import exec_issue
from waterspider_tui.adapters.executors.actions_stream import RECORD_FILE

WORKFLOW = Path(__file__).resolve().parents[2] / "examples" / "github-actions" / "agent-execute.yml"


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    return make_checkout(tmp_path / "repo")


@pytest.fixture
def issues(tmp_path: Path) -> Path:
    folder = tmp_path / "issues"
    folder.mkdir()
    (folder / "007.md").write_text("---\ntitle: Add a greeting\n---\nSay hello in the README.\n")
    return folder


def test_without_a_stream_file_the_checkout_stays_clean(checkout: Path, issues: Path) -> None:
    done = exec_issue(checkout, "--issues", str(issues), "--issue", "7", "--session", "s-7-abc", "--agent", "simulated")
    assert done.returncode == 0, done.stderr
    assert git(checkout, "status", "--porcelain", "--untracked-files=all") == "", "no stream.jsonl or session.json left untracked"
    folder = checkout / ".waterspider" / "exec" / "s-7-abc"
    assert (folder / "stream.jsonl").stat().st_size > 0
    assert json.loads((folder / RECORD_FILE).read_text())["outcome"] == "succeeded"
    shown = ".waterspider/exec/s-7-abc"  # relative to the checkout it ran in, as --repo-path is by default
    assert f"waterspider: the stream is in {shown}/stream.jsonl, how the session ended in {shown}/{RECORD_FILE}" in done.stdout.splitlines()
    assert not (checkout / "stream.jsonl").exists() and not (checkout / RECORD_FILE).exists()


def test_on_a_runner_they_go_where_the_workflow_uploads_them_from(checkout: Path, issues: Path, tmp_path: Path) -> None:
    runner_temp = tmp_path / "runner-temp"
    done = exec_issue(checkout, "--issues", str(issues), "--issue", "7", "--session", "s-7-abc", "--agent", "simulated",
                      env={"RUNNER_TEMP": str(runner_temp)})
    assert done.returncode == 0, done.stderr
    assert git(checkout, "status", "--porcelain", "--untracked-files=all") == ""
    assert not (checkout / ".waterspider" / "exec").exists()
    workflow: dict[str, Any] = yaml.safe_load(WORKFLOW.read_text())
    upload = next(step for step in workflow["jobs"]["agent"]["steps"] if step.get("name") == "Upload the stream")
    for uploaded in upload["with"]["path"].splitlines():
        on_this_runner = Path(uploaded.replace("${{ runner.temp }}", str(runner_temp)))
        assert on_this_runner.is_file() and on_this_runner.stat().st_size > 0, uploaded


def test_its_lines_agree_in_number_and_name_the_branch_once(checkout: Path, issues: Path, tmp_path: Path) -> None:
    done = exec_issue(checkout, "--issues", str(issues), "--issue", "7", "--session", "s-7-abc", "--agent", "simulated",
                      "--stream-file", str(tmp_path / "out" / "stream.jsonl"))
    assert done.returncode == 0, done.stderr
    end = done.stdout.splitlines()[-1]
    assert end.startswith("waterspider: succeeded: ") and ", 1 commit, 1 file changed" in end, end
    assert " 1 commits" not in end and " 1 files" not in end and " 1 turns" not in end

    refused = exec_issue(checkout, "--issues", str(issues), "--issue", "7", "--session", "s", "--branch", "feature/other")
    assert refused.returncode == 2
    assert "--branch feature/other is not the branch of issue #7 (feature/issue-7)" in refused.stderr
    named = exec_issue(checkout, "--repo", "octo/app", "--issues", str(issues), "--issue", "7", "--session", "s", "--branch", "feature/other")
    assert "(feature/issue-7, or feature/octo-app-issue-7 when the orchestrator works on several repositories)" in named.stderr


def test_a_session_id_that_cannot_name_a_folder_is_refused_before_anything_runs(checkout: Path, issues: Path) -> None:
    done = exec_issue(checkout, "--issues", str(issues), "--issue", "7", "--session", "../escape", "--agent", "simulated")
    assert done.returncode == 2
    assert "--session '../escape'" in done.stderr
    assert not (checkout / ".worktrees").exists()
