"""Dependants after the agent, on a chain of three issues (1 ← 2 ← 3), against a real bare remote and
the loopback GitHub: with `gate_passed` each starts from its blocker's branch as soon as the blocker's
gate passed, and its pull request targets that branch and says it is stacked; with `merged` none
starts before its blocker's pull request is merged, which the merge watcher learns from GitHub."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from tests.engine.conftest import write_issue, write_script
from tests.git_checkout import make_checkout
from tests.github.fake_github import FakeGitHub
from tests.github.fake_github_pulls import merge_pull, open_pulls
from tests.pipeline.worktree_session import git, with_bare_remote
from tests.waiting import until
from waterspider_tui.adapters.agents.base import EnvPolicy
from waterspider_tui.adapters.agents.registry import make_agent
from waterspider_tui.adapters.executors.local import LocalExecutor
from waterspider_tui.adapters.executors.pool import ExecutorPool
from waterspider_tui.adapters.github.client import GitHubClient
from waterspider_tui.adapters.local_issues import LocalIssueSource
from waterspider_tui.adapters.pipeline.merge_watch import PullRequestMerges
from waterspider_tui.adapters.pipeline.registry import make_steps
from waterspider_tui.adapters.workspace import WorkspaceManager
from waterspider_tui.core import events as ev
from waterspider_tui.core.models import TaskState
from waterspider_tui.core.readiness import DependantsWaitFor
from waterspider_tui.core.scheduler import SchedulerConfig
from waterspider_tui.engine import Engine, SessionPolicy, open_store
from waterspider_tui.engine.locks import run_locks

AGENT = """
import os, subprocess
number = os.environ["WATERSPIDER_ISSUE_NUMBER"]
with open(f"part-{number}.txt", "w") as out:
    out.write(f"part {number}\\n")
subprocess.run(["git", "add", f"part-{number}.txt"], check=True)
subprocess.run(["git", "commit", "-q", "-m", f"part {number}"], check=True)
"""
STEPS = ["commits", "push", "pull_request"]
OPTIONS = {"push": {"remote": "origin"}, "pull_request": {"repo": "octo/app"}}


@pytest.fixture
def github(github: FakeGitHub) -> FakeGitHub:
    github.add_repo("octo/app")
    return github


def _engine(tmp_path: Path, client: GitHubClient, wait_for: DependantsWaitFor) -> tuple[Engine, Path, Path]:
    repo = make_checkout(tmp_path / "repo")
    remote = with_bare_remote(repo, tmp_path / "origin.git")
    issues = tmp_path / "issues"
    issues.mkdir()
    write_issue(issues, 1, "Schema for parts")
    write_issue(issues, 2, "Parts API", depends_on="[1]")
    write_issue(issues, 3, "Parts page", depends_on="[2]")
    agent = make_agent("command", {"argv": [sys.executable, str(write_script(tmp_path, "agent.py", AGENT))]}, EnvPolicy())
    executor = LocalExecutor(WorkspaceManager(repo), tmp_path / "state" / "sessions", slots=3)
    store_path = tmp_path / "state" / "state.db"
    sinks = [PullRequestMerges(client, interval_s=0.1)] if wait_for == "merged" else []
    engine = Engine(
        locks=run_locks(store_path, Path(executor.workspace.repo.common_dir), repo), store=open_store(store_path),
        sources=[(LocalIssueSource(issues), 0.2)], agent=agent, pool=ExecutorPool([executor]),
        scheduler=SchedulerConfig(capacity=3, dependants_wait_for=wait_for), steps=make_steps(STEPS, OPTIONS, github=client), sinks=sinks,
        policy=SessionPolicy(stall_timeout_s=30.0, timeout_s=60.0, grace_s=1.0, max_attempts=1, retry_backoff_s=0.0, dependants_wait_for=wait_for),
    )
    return engine, repo, remote


def _pulls_by_head(github: FakeGitHub) -> dict[str, tuple[object, object]]:
    return {pull.head: (issue, pull) for issue, pull in open_pulls(github, "octo/app")}


def _order(engine: Engine) -> list[tuple[str, str]]:
    return [(type(e).__name__, e.issue) for e in engine.store.log.read() if isinstance(e, (ev.SessionStarted, ev.SessionFinished))]


async def test_gate_passed_stacks_each_issue_on_its_blockers_branch(tmp_path: Path, github: FakeGitHub, client: GitHubClient) -> None:
    engine, repo, remote = _engine(tmp_path, client, "gate_passed")
    await asyncio.wait_for(engine.run(until_idle=True), 120)
    assert {key: task.state for key, task in engine.snapshot.tasks.items()} == {f"local#{n}": TaskState.SUCCEEDED for n in (1, 2, 3)}
    assert _order(engine) == [(kind, f"local#{n}") for n in (1, 2, 3) for kind in ("SessionStarted", "SessionFinished")]

    pulls = _pulls_by_head(github)
    assert {head: pull.base for head, (_, pull) in pulls.items()} == {  # type: ignore[attr-defined]
        "feature/issue-1": "main", "feature/issue-2": "feature/issue-1", "feature/issue-3": "feature/issue-2",
    }
    first_issue, first_pull = pulls["feature/issue-1"]
    second_issue, second_pull = pulls["feature/issue-2"]
    third_issue, _ = pulls["feature/issue-3"]
    assert "Stacked on" not in first_issue.body  # type: ignore[attr-defined]
    assert f"Stacked on #1 (pull request #{first_pull.number}: https://github.com/octo/app/pull/{first_pull.number}): it starts from `feature/issue-1`" in second_issue.body  # type: ignore[attr-defined]
    assert f"Stacked on #2 (pull request #{second_pull.number}: https://github.com/octo/app/pull/{second_pull.number}): it starts from `feature/issue-2`" in third_issue.body  # type: ignore[attr-defined]

    # Each branch holds its blocker's work (on the remote too), and adds one commit of its own.
    for place in (repo, remote):
        assert git(place, "merge-base", "--is-ancestor", "feature/issue-1", "feature/issue-2") == ""
        assert git(place, "merge-base", "--is-ancestor", "feature/issue-2", "feature/issue-3") == ""
        assert git(place, "rev-list", "--count", "feature/issue-2..feature/issue-3") == "1"
    assert git(repo, "show", "feature/issue-3:part-1.txt") == "part 1"
    facts = {key: task.session.facts for key, task in engine.snapshot.tasks.items() if task.session}
    assert [facts[f"local#{n}"]["commits"] for n in (1, 2, 3)] == [1, 1, 1], "commits counted from the stacked base, not main"
    sessions = {key: task.session for key, task in engine.snapshot.tasks.items() if task.session}
    assert [(sessions[f"local#{n}"].stacked_on, sessions[f"local#{n}"].base_branch) for n in (1, 2, 3)] == [
        ("", ""), ("local#1", "feature/issue-1"), ("local#2", "feature/issue-2"),
    ]


async def test_merged_waits_for_each_blockers_pull_request_to_be_merged(tmp_path: Path, github: FakeGitHub, client: GitHubClient) -> None:
    engine, repo, remote = _engine(tmp_path, client, "merged")
    running = asyncio.create_task(engine.run())
    try:
        for number in (1, 2, 3):
            key = f"local#{number}"
            await until(lambda: key in engine.snapshot.tasks and engine.snapshot.tasks[key].state is TaskState.SUCCEEDED)
            await until(lambda: f"feature/issue-{number}" in _pulls_by_head(github))
            issue, pull = _pulls_by_head(github)[f"feature/issue-{number}"]
            assert pull.base == "main"  # type: ignore[attr-defined]
            if number == 3:
                break
            dependant = f"local#{number + 1}"
            # Succeeded is not enough: the dependant waits, and says why.
            await until(lambda: any(item.issue == dependant for item in engine.plan().blocked))
            asked = github.count("GET", rf"/pulls/{pull.number}$")  # type: ignore[attr-defined]
            await until(lambda: github.count("GET", rf"/pulls/{pull.number}$") >= asked + 2)  # type: ignore[attr-defined]
            assert engine.snapshot.tasks[dependant].session is None
            [blocked] = [item for item in engine.plan().blocked if item.issue == dependant]
            assert f"#{number} (succeeded, its pull request not merged yet)" in blocked.detail
            merge_pull(github, "octo/app", pull.number)  # type: ignore[attr-defined]
            await until(lambda: engine.snapshot.tasks[key].pr_merged)
            await until(lambda: engine.snapshot.tasks[dependant].session is not None)
            assert engine.snapshot.tasks[dependant].session.base_branch == ""  # type: ignore[union-attr]
        merged = [e for e in engine.store.log.read() if isinstance(e, ev.PullRequestMerged)]
        assert [e.issue for e in merged] == ["local#1", "local#2"]
    finally:
        await engine.stop(leave_running=False)
        await asyncio.wait_for(running, 60)
