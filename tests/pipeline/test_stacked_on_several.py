"""A dependant of several unmerged blockers, through the engine, against a real bare remote and the
loopback GitHub (`dependants_wait_for = gate_passed`): a diamond (#5 on #2, #3 and #4, each on #1)
starts #5 from all their work and its pull request says it is stacked on each (a conflict between
blockers: tests/pipeline/test_blockers_conflict_hold.py)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from tests.engine.conftest import write_issue, write_script
from tests.git_checkout import make_checkout
from tests.github.fake_github import FakeGitHub
from tests.github.fake_github_pulls import open_pulls
from tests.pipeline.worktree_session import git, with_bare_remote
from tests.waiting import until
from waterspider_tui.adapters.agents.base import EnvPolicy
from waterspider_tui.adapters.agents.registry import make_agent
from waterspider_tui.adapters.executors.local import LocalExecutor
from waterspider_tui.adapters.executors.pool import ExecutorPool
from waterspider_tui.adapters.github.client import GitHubClient
from waterspider_tui.adapters.local_issues import LocalIssueSource
from waterspider_tui.adapters.pipeline.registry import make_steps
from waterspider_tui.adapters.workspace import WorkspaceManager
from waterspider_tui.core import events as ev
from waterspider_tui.core.models import ErrorClass, TaskState
from waterspider_tui.core.scheduler import SchedulerConfig
from waterspider_tui.engine import Engine, SessionPolicy, open_store
from waterspider_tui.engine.locks import run_locks

AGENT = """
import os, subprocess, sys
number = os.environ["WATERSPIDER_ISSUE_NUMBER"]
if number == "5" and IDLE:
    sys.exit(0)  # commits nothing of its own
if number == "5":
    missing = [name for name in ("part-1.txt", "part-2.txt", "part-3.txt", "part-4.txt") if not os.path.exists(name)]
    if missing and not SHARED_BY:
        sys.exit(f"started without {missing}")
name = "shared.txt" if number in SHARED_BY else f"part-{number}.txt"
with open(name, "w") as out:
    out.write(f"written by {number}\\n")
subprocess.run(["git", "add", name], check=True)
subprocess.run(["git", "commit", "-q", "-m", f"issue {number}"], check=True)
"""
STEPS = ["commits", "push", "pull_request"]
OPTIONS = {"push": {"remote": "origin"}, "pull_request": {"repo": "octo/app"}}


@pytest.fixture
def github(github: FakeGitHub) -> FakeGitHub:
    github.add_repo("octo/app")
    return github


def _engine(
    tmp_path: Path, client: GitHubClient, shared_by: str = "", *, idle: bool = False, steps: list[str] = STEPS, options: dict[str, object] = OPTIONS,
) -> tuple[Engine, Path]:
    repo = make_checkout(tmp_path / "repo")
    with_bare_remote(repo, tmp_path / "origin.git")
    issues = tmp_path / "issues"
    issues.mkdir()
    write_issue(issues, 1, "Schema")
    for number in (2, 3, 4):
        write_issue(issues, number, f"Part {number}", depends_on="[1]")
    write_issue(issues, 5, "Page of all parts", depends_on="[2, 3, 4]")
    # #5's agent fails unless its worktree holds the work of every blocker it depends on; the issues in
    # `shared_by` all write shared.txt, their work conflicting.
    script = write_script(tmp_path, "agent.py", f"SHARED_BY = {shared_by.split(',') if shared_by else []!r}\nIDLE = {idle!r}\n" + AGENT)
    agent = make_agent("command", {"argv": [sys.executable, str(script)]}, EnvPolicy())
    executor = LocalExecutor(WorkspaceManager(repo), tmp_path / "state" / "sessions", slots=3)
    store_path = tmp_path / "state" / "state.db"
    engine = Engine(
        locks=run_locks(store_path, Path(executor.workspace.repo.common_dir), repo), store=open_store(store_path),
        sources=[(LocalIssueSource(issues), 0.2)], agent=agent, pool=ExecutorPool([executor]),
        scheduler=SchedulerConfig(capacity=3, dependants_wait_for="gate_passed"), steps=make_steps(steps, options, github=client),
        policy=SessionPolicy(stall_timeout_s=30.0, timeout_s=60.0, grace_s=1.0, max_attempts=1, retry_backoff_s=600.0, dependants_wait_for="gate_passed"),
    )
    return engine, repo


async def test_a_diamond_dependant_starts_from_all_its_blockers_and_says_so(tmp_path: Path, github: FakeGitHub, client: GitHubClient) -> None:
    engine, repo = _engine(tmp_path, client)
    await asyncio.wait_for(engine.run(until_idle=True), 120)
    assert {key: task.state for key, task in engine.snapshot.tasks.items()} == {f"local#{n}": TaskState.SUCCEEDED for n in range(1, 6)}

    session = engine.snapshot.tasks["local#5"].session
    assert session is not None
    assert session.stacked_on == "local#2" and session.base_branch == "feature/issue-2"
    assert session.merged_in == (("local#3", "feature/issue-3"), ("local#4", "feature/issue-4"))
    for number in (1, 2, 3, 4):
        assert git(repo, "show", f"feature/issue-5:part-{number}.txt") == f"written by {number}"
    merges = git(repo, "log", "--merges", "--format=%s", "feature/issue-2..feature/issue-5").splitlines()
    assert sorted(merges) == [
        "Merge feature/issue-3 (#3) into feature/issue-5: #5 depends on it",
        "Merge feature/issue-4 (#4) into feature/issue-5: #5 depends on it",
    ]
    assert (session.facts["commits"], session.facts["files_changed"]) == (1, 1), "its own commit, not its blockers' nor the merges"

    pulls = {pull.head: (issue, pull) for issue, pull in open_pulls(github, "octo/app")}
    body, pull = pulls["feature/issue-5"][0].body, pulls["feature/issue-5"][1]  # type: ignore[attr-defined]
    assert pull.base == "feature/issue-2"  # type: ignore[attr-defined]
    numbers = {head: pulls[head][1].number for head in pulls}  # type: ignore[attr-defined]
    shown = {n: f"#{n} (pull request #{numbers[f'feature/issue-{n}']}: https://github.com/octo/app/pull/{numbers[f'feature/issue-{n}']})" for n in (2, 3, 4)}
    assert (
        f"Stacked on {shown[2]} and on {shown[3]} and {shown[4]}: it starts from `feature/issue-2`"
        " with `feature/issue-3`, `feature/issue-4` merged in (a merge commit each), so merge those first."
    ) in body


async def test_the_gate_counts_the_dependants_own_commits_not_the_merges(tmp_path: Path, github: FakeGitHub, client: GitHubClient) -> None:
    engine, _ = _engine(tmp_path, client, idle=True, steps=["commits", "gate"], options={"gate": {"max_rounds": 0}})
    await asyncio.wait_for(engine.run(until_idle=True), 120)
    task = engine.snapshot.tasks["local#5"]
    assert task.state is TaskState.FAILED and task.result is not None and task.result.error_class is ErrorClass.GATE_FAILED
    assert task.session is not None and task.session.merged_in, "it was stacked on several"
    gate = [e for e in engine.store.log.read() if isinstance(e, ev.StepFinished) and e.issue == "local#5" and e.step == "gate"]
    assert "no commit beyond feature/issue-2" in gate[-1].summary, "the merges of its blockers are not its work"
    assert task.session.facts["commits"] == 0


async def test_a_blocker_whose_branch_is_on_another_host_is_left_out_and_said(tmp_path: Path) -> None:
    from tests.engine.conftest import other_host_clone

    repo = make_checkout(tmp_path / "repo")
    issues = tmp_path / "issues"
    issues.mkdir()
    write_issue(issues, 1, "Schema on the mini", labels="[host:mini-1]")
    write_issue(issues, 2, "Parts here", labels="[host:local]")
    write_issue(issues, 3, "Page", depends_on="[1, 2]", labels="[host:local]")
    script = write_script(tmp_path, "agent.py", "SHARED_BY = []\nIDLE = False\n" + AGENT)
    agent = make_agent("command", {"argv": [sys.executable, str(script)]}, EnvPolicy())
    here = LocalExecutor(WorkspaceManager(repo), tmp_path / "state" / "sessions", slots=2)
    mini = LocalExecutor(WorkspaceManager(other_host_clone(repo, tmp_path / "mini-1"), base_branch="main"), tmp_path / "mini-1" / "sessions", name="mini-1", slots=1)
    store_path = tmp_path / "state" / "state.db"
    engine = Engine(
        locks=run_locks(store_path, Path(here.workspace.repo.common_dir), repo), store=open_store(store_path),
        sources=[(LocalIssueSource(issues), 0.2)], agent=agent, pool=ExecutorPool([here, mini]),
        scheduler=SchedulerConfig(capacity=3, dependants_wait_for="gate_passed"), steps=make_steps(["commits"], {}),
        policy=SessionPolicy(stall_timeout_s=30.0, timeout_s=60.0, grace_s=1.0, max_attempts=1, retry_backoff_s=600.0, dependants_wait_for="gate_passed"),
    )
    await asyncio.wait_for(engine.run(until_idle=True), 120)
    session = engine.snapshot.tasks["local#3"].session
    assert session is not None and (session.host, session.stacked_on, session.merged_in) == ("local", "local#2", ())
    assert "#3 starts on local without the work of #1 (on mini-1): stacking needs the branches on the same host; it has that work once merged" in engine.snapshot.warnings
