"""The engine with the real steps after the agent: gate, push to a bare remote, a pull request on the
loopback GitHub; a restart right after the pull request was opened finds it again."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any, Callable

from tests.engine.conftest import write_issue, write_script
from tests.git_checkout import make_checkout
from tests.pipeline.worktree_session import git, with_bare_remote
from waterspider_tui.adapters.agents.base import EnvPolicy
from waterspider_tui.adapters.agents.registry import make_agent
from waterspider_tui.adapters.executors.local import LocalExecutor
from waterspider_tui.adapters.executors.pool import ExecutorPool
from waterspider_tui.adapters.github.client import GitHubClient
from waterspider_tui.adapters.local_issues import LocalIssueSource
from waterspider_tui.adapters.pipeline.base import Step, StepContext, StepOutcome
from waterspider_tui.adapters.pipeline.registry import make_steps
from waterspider_tui.adapters.workspace import WorkspaceManager
from waterspider_tui.core import events as ev
from waterspider_tui.core.models import ErrorClass, Outcome
from waterspider_tui.core.scheduler import SchedulerConfig
from waterspider_tui.engine import Engine, SessionPolicy, open_store
from waterspider_tui.engine.locks import run_locks

from .fake_github import FakeGitHub
from .fake_github_pulls import open_pulls

AGENT = """
import subprocess
with open("greeting.txt", "a") as out:
    out.write("hello\\n")
subprocess.run(["git", "add", "greeting.txt"], check=True)
subprocess.run(["git", "commit", "-q", "-m", "greet"], check=True)
print("committed", flush=True)
"""
OPTIONS: dict[str, Any] = {"pull_request": {"repo": "octo/app", "labels": ["agent"]}}


def _engine(tmp_path: Path, repo: Path, issues: Path, steps: list[Step]) -> Engine:
    agent = make_agent("command", {"argv": [sys.executable, str(write_script(tmp_path, "agent.py", AGENT))]}, EnvPolicy())
    executor = LocalExecutor(WorkspaceManager(repo), tmp_path / "state" / "sessions", slots=1)
    store_path = tmp_path / "state" / "state.db"
    return Engine(
        locks=run_locks(store_path, Path(executor.workspace.repo.common_dir), repo), store=open_store(store_path),
        sources=[(LocalIssueSource(issues), 0.2)], agent=agent, pool=ExecutorPool([executor]),
        scheduler=SchedulerConfig(capacity=1), steps=steps,
        policy=SessionPolicy(stall_timeout_s=30.0, timeout_s=60.0, grace_s=1.0, max_attempts=1, retry_backoff_s=0.0),
    )


def _world(tmp_path: Path, github: FakeGitHub) -> tuple[Path, Path, Path]:
    github.add_repo("octo/app")
    repo = make_checkout(tmp_path / "repo")
    remote = with_bare_remote(repo, tmp_path / "remote.git")
    issues = tmp_path / "issues"
    issues.mkdir()
    write_issue(issues, 1, "Greet the user")
    return repo, remote, issues


class _OpensThenDies:
    """The real pull-request step, then an orchestrator that stops before recording it."""

    name = "pull_request"

    def __init__(self, real: Step) -> None:
        self.real = real

    def applies(self, result: object) -> bool:
        return True

    async def run(self, context: StepContext) -> StepOutcome:
        await self.real.run(context)
        await asyncio.sleep(3600)
        return StepOutcome(ok=True)


async def test_a_pull_request_opened_before_a_restart_is_found_again_not_duplicated(tmp_path: Path, github: FakeGitHub, make_client: Callable[..., GitHubClient]) -> None:
    repo, remote, issues = _world(tmp_path, github)
    steps = make_steps(["commits", "push", "pull_request"], OPTIONS, github=make_client())
    first = _engine(tmp_path, repo, issues, [*steps[:2], _OpensThenDies(steps[2])])
    runner = asyncio.create_task(first.run())
    deadline = asyncio.get_running_loop().time() + 30
    while not open_pulls(github, "octo/app"):
        assert asyncio.get_running_loop().time() < deadline, "no pull request opened"
        await asyncio.sleep(0.05)
    await first.stop(leave_running=True)
    await asyncio.wait_for(runner, 30)

    second = _engine(tmp_path, repo, issues, make_steps(["commits", "push", "pull_request"], OPTIONS, github=make_client()))
    await asyncio.wait_for(second.run(until_idle=True), 60)
    [finished] = [e for e in second.store.log.read() if isinstance(e, ev.SessionFinished)]
    assert finished.result.outcome is Outcome.SUCCEEDED and finished.result.commits == 1
    [(issue, pull)] = open_pulls(github, "octo/app")
    assert github.count("POST", r"/pulls$") == 1 and issue.body.startswith("Local issue 1: ") and issue.labels == ["agent"]
    assert git(remote, "rev-parse", pull.head) == git(repo, "rev-parse", pull.head)
    done = [e for e in second.store.log.read() if isinstance(e, ev.StepFinished) and e.step == "pull_request"]
    assert [e.facts["pr"] for e in done] == ["updated"] and done[0].facts["pr_number"] == issue.number


GATED_AGENT = """
import os, subprocess
follow_up = os.environ.get("WATERSPIDER_FOLLOW_UP_FILE")
with open(os.environ["LEDGER"], "a") as out:
    out.write((open(follow_up).read() if follow_up else "no follow-up") + "\\n=====\\n")
fixes = follow_up and os.environ.get("FIXES")
with open("greeting.txt", "w" if fixes else "a") as out:
    out.write("fixed\\n" if fixes else "broken\\n")
subprocess.run(["git", "add", "greeting.txt"], check=True)
subprocess.run(["git", "commit", "-q", "-m", "greet"], check=True)
"""
GATE = {"commands": [{"name": "tests", "run": "grep -q fixed greeting.txt || { echo 'FAILED test_greeting: broken'; exit 1; }"}], "max_rounds": 1}


def _gated_engine(tmp_path: Path, repo: Path, issues: Path, steps: list[Step], fixes: bool) -> Engine:
    engine = _engine(tmp_path, repo, issues, steps)
    argv = [sys.executable, str(write_script(tmp_path, "gated.py", GATED_AGENT))]
    env = {"LEDGER": str(tmp_path / "ledger.txt"), **({"FIXES": "1"} if fixes else {})}
    engine.sessions.agent = make_agent("command", {"argv": argv, "env": env}, EnvPolicy())
    return engine


def _ledger(tmp_path: Path) -> list[str]:
    return [entry.strip() for entry in (tmp_path / "ledger.txt").read_text().split("=====") if entry.strip()]


async def test_a_failing_gate_sends_its_output_back_to_the_agent_which_fixes_the_branch(tmp_path: Path, github: FakeGitHub, make_client: Callable[..., GitHubClient]) -> None:
    repo, remote, issues = _world(tmp_path, github)
    steps = make_steps(["commits", "gate", "push", "pull_request"], {**OPTIONS, "gate": GATE}, github=make_client())
    engine = _gated_engine(tmp_path, repo, issues, steps, fixes=True)
    await asyncio.wait_for(engine.run(until_idle=True), 60)
    finished = [e for e in engine.store.log.read() if isinstance(e, ev.SessionFinished)]
    assert [(e.result.outcome, e.will_retry) for e in finished] == [(Outcome.FAILED, True), (Outcome.SUCCEEDED, False)]
    assert finished[0].result.error_class is ErrorClass.GATE_FAILED
    first, second = _ledger(tmp_path)
    assert first == "no follow-up" and "FAILED test_greeting: broken" in second and "round 1 of 1" in second
    [(issue, pull)] = open_pulls(github, "octo/app")
    assert "Completion gate: passed" in issue.body and git(remote, "show", f"{pull.head}:greeting.txt") == "fixed"


async def test_a_gate_still_failing_after_its_rounds_fails_the_issue_and_pushes_nothing(tmp_path: Path, github: FakeGitHub, make_client: Callable[..., GitHubClient]) -> None:
    repo, remote, issues = _world(tmp_path, github)
    steps = make_steps(["commits", "gate", "push", "pull_request"], {**OPTIONS, "gate": GATE}, github=make_client())
    engine = _gated_engine(tmp_path, repo, issues, steps, fixes=False)
    await asyncio.wait_for(engine.run(until_idle=True), 60)
    finished = [e for e in engine.store.log.read() if isinstance(e, ev.SessionFinished)]
    assert [(e.result.error_class, e.will_retry) for e in finished] == [(ErrorClass.GATE_FAILED, True), (ErrorClass.GATE_FAILED, False)]
    assert "FAILED test_greeting: broken" in _ledger(tmp_path)[1], "the second round got the output"
    gates = [e for e in engine.store.log.read() if isinstance(e, ev.StepFinished) and e.step == "gate"]
    assert "retry_prompt" in gates[0].facts and "retry_prompt" not in gates[1].facts
    assert "FAILED test_greeting: broken" in str(gates[1].facts["gate_output"])
    assert git(remote, "branch", "--list") == "* main" and open_pulls(github, "octo/app") == []
