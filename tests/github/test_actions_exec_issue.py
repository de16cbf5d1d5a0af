"""`waterspider exec-issue` run as a runner runs it: a real subprocess, a real git repository, the simulated agent."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Iterator

import pytest

from tests.e2e.helpers import WATERSPIDER, clean_env, git
from tests.git_checkout import make_checkout
from waterspider_tui.adapters.agents.claude_stream import ClaudeStreamParser
from waterspider_tui.adapters.executors.actions_stream import STREAM_PREFIX, stream_lines
from waterspider_tui.core.models import Outcome

from .fake_github import DEFAULT_TOKEN, FakeGitHub, start_fake_github

QUICK = {"duration_s": 0.5}


def exec_issue(repo: Path, *args: str, env: dict[str, str] | None = None, agent_options: dict[str, object] | None = None) -> subprocess.CompletedProcess[str]:
    environment = clean_env()
    environment.pop("GITHUB_TOKEN", None)
    environment.pop("GH_TOKEN", None)
    environment["WATERSPIDER_AGENT__OPTIONS"] = json.dumps(agent_options or QUICK)
    environment.update(env or {})
    return subprocess.run([*WATERSPIDER, "exec-issue", *args], cwd=repo, capture_output=True, text=True, timeout=120, env=environment)


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    return make_checkout(tmp_path / "repo")


@pytest.fixture
def issues(tmp_path: Path) -> Path:
    folder = tmp_path / "issues"
    folder.mkdir()
    (folder / "007.md").write_text("---\ntitle: Add a greeting\n---\nSay hello in the README.\n")
    return folder


@pytest.fixture
def fake_github() -> Iterator[FakeGitHub]:
    _, github = start_fake_github()
    try:
        yield github
    finally:
        github.stop()


def parsed(stream: bytes) -> ClaudeStreamParser:
    parser = ClaudeStreamParser()
    for line in stream.decode().splitlines():
        parser.feed(line)
    return parser


def test_a_session_runs_in_the_issue_worktree_and_writes_its_stream(checkout: Path, issues: Path, tmp_path: Path) -> None:
    stream_file = tmp_path / "out" / "stream.jsonl"
    done = exec_issue(checkout, "--issues", str(issues), "--issue", "7", "--session", "s-7-abc", "--agent", "simulated",
                      "--stream-file", str(stream_file))
    assert done.returncode == 0, done.stderr
    assert (checkout / ".worktrees" / "issue-7").is_dir()
    assert "Work on #7: Add a greeting" in git(checkout, "log", "--format=%s", "feature/issue-7")
    stream = stream_file.read_bytes()
    result = parsed(stream).finish(0)
    assert result.outcome is Outcome.SUCCEEDED and result.turns > 0
    lines = done.stdout.splitlines()
    assert "waterspider: issue #7 Add a greeting (session s-7-abc, attempt 1, agent simulated)" == lines[0]
    assert any(line.startswith("[tool] Write waterspider-work/issue-7.md") for line in lines)
    assert not any(line.lstrip().startswith("{") or line.startswith(STREAM_PREFIX) for line in lines)  # readable, not raw JSON
    assert "waterspider: step commits: 1 commit, 1 file" in lines
    assert lines[-1].startswith("waterspider: succeeded: ")
    record = json.loads(stream_file.with_name("session.json").read_text())
    assert (record["outcome"], record["failed_step"], [step["step"] for step in record["steps"]]) == ("succeeded", "", ["commits"])


def test_echoed_stream_lines_are_the_artifact_line_for_line(checkout: Path, issues: Path, tmp_path: Path) -> None:
    stream_file = tmp_path / "stream.jsonl"
    done = exec_issue(checkout, "--issues", str(issues), "--issue", "7", "--session", "s-7-echo", "--agent", "simulated",
                      "--stream-file", str(stream_file), "--echo-stream")
    assert done.returncode == 0, done.stderr
    job_log = "".join(f"2026-12-06T06:38:24.{index:07d}Z {line}\n" for index, line in enumerate(done.stdout.splitlines()))
    recovered = b"".join(stream_lines(("\ufeff" + job_log).encode()))
    assert recovered == stream_file.read_bytes()
    assert any(line.startswith("[tool] ") for line in done.stdout.splitlines())  # the readable lines stay


def test_a_failed_session_exits_1_and_its_stream_says_why(checkout: Path, issues: Path, tmp_path: Path) -> None:
    stream_file = tmp_path / "stream.jsonl"
    done = exec_issue(checkout, "--issues", str(issues), "--issue", "7", "--session", "s-7-bad", "--agent", "simulated",
                      "--attempt", "2", "--stream-file", str(stream_file),
                      agent_options={"duration_s": 0.3, "fail_rate": 1.0, "fail_mode": "max_turns"})
    assert done.returncode == 1, done.stdout + done.stderr
    assert "attempt 2" in done.stdout.splitlines()[0]
    assert done.stdout.splitlines()[-1].startswith("waterspider: failed (max_turns)")
    assert parsed(stream_file.read_bytes()).finish(1).outcome is Outcome.FAILED


def test_a_failing_gate_on_the_runner_fails_the_session_and_says_so_beside_the_stream(checkout: Path, issues: Path, tmp_path: Path) -> None:
    stream_file = tmp_path / "out" / "stream.jsonl"
    gate = {"commands": [{"name": "tests", "run": "echo 2 failed; exit 3"}], "max_rounds": 0}
    done = exec_issue(checkout, "--issues", str(issues), "--issue", "7", "--session", "s-7-gate", "--agent", "simulated",
                      "--stream-file", str(stream_file),
                      env={"WATERSPIDER_PIPELINE__STEPS": '["commits", "gate"]', "WATERSPIDER_PIPELINE__GATE": json.dumps(gate)})
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stdout.splitlines()[-1].startswith("waterspider: failed (gate_failed): ")
    assert "gate: gate failed: tests (exit 3" in done.stdout.splitlines()[-1]
    assert parsed(stream_file.read_bytes()).finish(1).outcome is Outcome.SUCCEEDED  # the agent itself did its part
    record = json.loads((tmp_path / "out" / "session.json").read_text())
    assert (record["outcome"], record["error_class"], record["failed_step"]) == ("failed", "gate_failed", "gate")
    assert [(step["step"], step["ok"]) for step in record["steps"]] == [("commits", True), ("gate", False)]


def test_the_configured_push_step_pushes_the_issue_branch(checkout: Path, issues: Path, tmp_path: Path) -> None:
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    git(checkout, "remote", "add", "origin", str(remote))
    git(checkout, "push", "-q", "origin", "main")
    config = tmp_path / "waterspider.toml"
    config.write_text('[pipeline]\nsteps = ["commits", "push"]\n')
    done = exec_issue(checkout, "--config", str(config), "--issues", str(issues), "--issue", "7", "--session", "s-7-push",
                      "--agent", "simulated", "--stream-file", str(tmp_path / "stream.jsonl"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert any(line.startswith("waterspider: step push: pushed feature/issue-7") for line in done.stdout.splitlines())
    assert "Work on #7" in git(remote, "log", "--format=%s", "feature/issue-7")


def test_the_issue_text_comes_from_github(checkout: Path, tmp_path: Path, fake_github: FakeGitHub) -> None:
    fake_github.add_repo("octo/app")
    fake_github.add_issue("octo/app", "Retry flaky calls", "Wrap the HTTP calls in a retry.")
    done = exec_issue(checkout, "--repo", "octo/app", "--issue", "1", "--session", "s-1-gh", "--agent", "simulated",
                      "--github-api-url", fake_github.base_url, "--stream-file", str(tmp_path / "stream.jsonl"),
                      env={"GITHUB_TOKEN": DEFAULT_TOKEN})
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines()[0].startswith("waterspider: issue #1 Retry flaky calls")
    assert fake_github.count("GET", r"/repos/octo/app/issues/1$") == 1
    assert "Work on #1: Retry flaky calls" in git(checkout, "log", "--format=%s", "feature/issue-1")


def test_an_issue_github_does_not_have_exits_2_before_anything_runs(checkout: Path, tmp_path: Path, fake_github: FakeGitHub) -> None:
    fake_github.add_repo("octo/app")
    done = exec_issue(checkout, "--repo", "octo/app", "--issue", "9", "--session", "s-9", "--agent", "simulated",
                      "--github-api-url", fake_github.base_url, "--stream-file", str(tmp_path / "stream.jsonl"),
                      env={"GITHUB_TOKEN": DEFAULT_TOKEN})
    assert done.returncode == 2
    assert done.stderr.startswith("waterspider: octo/app#9: the issue cannot be read")
    assert not (checkout / ".worktrees" / "issue-9").exists()


def test_without_a_token_or_a_folder_it_says_what_is_missing(checkout: Path, tmp_path: Path) -> None:
    only_git = tmp_path / "bin"
    only_git.mkdir()
    (only_git / "git").symlink_to(shutil.which("git") or "/usr/bin/git")
    done = exec_issue(checkout, "--repo", "octo/app", "--issue", "1", "--session", "s-1", "--agent", "simulated",
                      env={"PATH": str(only_git)})  # no `gh` to ask for a token either
    assert done.returncode == 2
    assert "No GitHub token" in done.stderr


def test_the_branch_the_orchestrator_names_is_the_one_worked_on(checkout: Path, issues: Path, tmp_path: Path) -> None:
    done = exec_issue(checkout, "--repo", "octo/app", "--issues", str(issues), "--issue", "7", "--session", "s-7-multi",
                      "--agent", "simulated", "--branch", "feature/octo-app-issue-7", "--stream-file", str(tmp_path / "stream.jsonl"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Work on #7" in git(checkout, "log", "--format=%s", "feature/octo-app-issue-7")
    assert not git(checkout, "branch", "--list", "feature/issue-7").strip()
    refused = exec_issue(checkout, "--repo", "octo/app", "--issues", str(issues), "--issue", "7", "--session", "s-7-other",
                         "--agent", "simulated", "--branch", "feature/issue-8")
    assert refused.returncode == 2 and "--branch feature/issue-8 is not the branch of issue #7" in refused.stderr


FIXING_AGENT = """\
import os, pathlib, subprocess
follow_up = os.environ.get("WATERSPIDER_FOLLOW_UP_FILE", "")
name = "fixed.txt" if follow_up else "work.txt"
pathlib.Path(name).write_text(pathlib.Path(follow_up).read_text() if follow_up else "work\\n")
subprocess.run(["git", "add", name], check=True)
subprocess.run(["git", "-c", "user.name=agent", "-c", "user.email=agent@waterspider.invalid", "commit", "-qm", f"write {name}"], check=True)
print(f"committed {name}")
"""


def test_the_pipeline_given_stands_over_the_checkouts_and_a_failed_gate_goes_back_to_the_agent(checkout: Path, issues: Path, tmp_path: Path) -> None:
    script = tmp_path / "agent.py"
    script.write_text(FIXING_AGENT)
    stream_file = tmp_path / "out" / "stream.jsonl"
    pipeline = {"steps": ["commits", "gate"], "gate": {"commands": [{"name": "fixed", "run": "test -f fixed.txt || { echo 'no fixed.txt'; exit 1; }"}], "max_rounds": 2}}
    done = exec_issue(checkout, "--issues", str(issues), "--issue", "7", "--session", "s-7-abc", "--agent", "command",
                      "--stream-file", str(stream_file), "--pipeline", json.dumps(pipeline),
                      env={"WATERSPIDER_PIPELINE__STEPS": '["commits"]'}, agent_options={"argv": ["python3", str(script)]})
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert "waterspider: round 2: the gate sent the work back to the agent" in lines
    assert any(line.startswith("waterspider: step gate (round 1): gate failed: fixed (exit 1") for line in lines)
    assert any(line.startswith("waterspider: step gate (round 2): gate passed") for line in lines)
    assert "no fixed.txt" in git(checkout, "show", "feature/issue-7:fixed.txt")  # the second round read the gate's output
    record = json.loads(stream_file.with_name("session.json").read_text())
    assert (record["outcome"], record["failed_step"], record["rounds"], record["agent_exit_code"]) == ("succeeded", "", 2, 0)
    assert [(step["step"], step["round"], step["ok"]) for step in record["steps"]] == [
        ("commits", 1, True), ("gate", 1, False), ("commits", 2, True), ("gate", 2, True)]
    assert all("retry_prompt" not in step["facts"] for step in record["steps"])
    # Each round an attempt of its own, numbered on from the orchestrator's, as local gate rounds are.
    rounds = record["agent_rounds"]
    assert [(r["session_id"], r["attempt"], r["outcome"], r["error_class"]) for r in rounds] == [
        ("s-7-abc", 1, "failed", "gate_failed"), ("s-7-abc.2", 2, "succeeded", "")]
    assert rounds[0]["error"].startswith("gate: gate failed: fixed (exit 1")
    stream = stream_file.read_bytes()
    assert (rounds[0]["stream_from"], rounds[1]["stream_to"]) == (0, len(stream)) and rounds[0]["stream_to"] == rounds[1]["stream_from"] > 0


def test_a_pipeline_that_is_not_an_object_of_steps_runs_nothing(checkout: Path, issues: Path) -> None:
    for bad, said in (("[1, 2]", "must be a JSON object"), ("{", "is not JSON"), ('{"stpes": []}', "unknown key stpes")):
        done = exec_issue(checkout, "--issues", str(issues), "--issue", "7", "--session", "s-7-abc", "--pipeline", bad)
        assert done.returncode == 2 and said in done.stderr, (bad, done.stderr)


def test_a_round_the_gate_sends_back_resumes_the_agents_conversation(checkout: Path, issues: Path, tmp_path: Path) -> None:
    stream_file = tmp_path / "out" / "stream.jsonl"
    pipeline = {"steps": ["commits", "gate"], "gate": {"commands": [{"name": "tests", "run": "echo '2 failed'; exit 1"}], "max_rounds": 1}}
    done = exec_issue(checkout, "--issues", str(issues), "--issue", "7", "--session", "s-7-abc", "--agent", "simulated",
                      "--stream-file", str(stream_file), "--pipeline", json.dumps(pipeline))
    assert done.returncode == 1
    started = [json.loads(line) for line in stream_file.read_text().splitlines() if '"subtype": "init"' in line or '"subtype":"init"' in line]
    assert len(started) == 2 and started[0]["session_id"] and started[1]["session_id"] == started[0]["session_id"]
    record = json.loads(stream_file.with_name("session.json").read_text())
    assert record["rounds"] == 2 and [step["round"] for step in record["steps"] if step["step"] == "gate"][0] == 1
    # The second round resumed the first's conversation: each round is charged its own part.
    results = [json.loads(line) for line in stream_file.read_text().splitlines() if '"type": "result"' in line]
    own = [sum(usage["costUSD"] for usage in result["model_usage_since_last_result"].values()) for result in results]
    assert [r["cost_usd"] for r in record["agent_rounds"]] == pytest.approx(own) and all(own)


def _pull_request_checkout(checkout: Path, tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A checkout whose waterspider.toml lists the pull-request step, and an environment with no token nor `gh`."""
    config = tmp_path / "waterspider.toml"
    config.write_text('[pipeline]\nsteps = ["commits", "pull_request"]\n[pipeline.pull_request]\nrepo = "octo/app"\n')
    tools = tmp_path / "bin"
    tools.mkdir()
    for tool in ("git", "nice", "sh"):  # what a session needs, and no `gh` to ask for a token
        (tools / tool).symlink_to(shutil.which(tool) or f"/usr/bin/{tool}")
    return config, {"PATH": str(tools)}


def test_a_folder_issue_runs_without_a_token_and_says_why_no_pull_request_is_opened(checkout: Path, issues: Path, tmp_path: Path) -> None:
    config, env = _pull_request_checkout(checkout, tmp_path)
    done = exec_issue(checkout, "--config", str(config), "--issues", str(issues), "--issue", "7", "--session", "try-1",
                      "--agent", "simulated", "--stream-file", str(tmp_path / "stream.jsonl"), env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("waterspider: issue #7 Add a greeting")
    assert lines[1].startswith("waterspider: no pull request in octo/app: no GitHub token"), done.stdout
    assert "Work on #7" in git(checkout, "log", "--format=%s", "feature/issue-7")


def test_a_missing_folder_issue_is_named_before_any_token_is_looked_for(checkout: Path, issues: Path, tmp_path: Path) -> None:
    config, env = _pull_request_checkout(checkout, tmp_path)
    done = exec_issue(checkout, "--config", str(config), "--issues", str(issues), "--issue", "99", "--session", "try-1",
                      "--agent", "simulated", "--stream-file", str(tmp_path / "stream.jsonl"), env=env)
    assert done.returncode == 2
    assert done.stderr.strip() == f"waterspider: no issue #99 in {issues}"
