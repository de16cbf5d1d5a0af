"""A real repository with a bare remote on disk, one issue's worktree in it, and a step context there."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, replace
from pathlib import Path

from tests.git_checkout import make_checkout
from waterspider_tui.adapters.executors.base import WorkOrder
from waterspider_tui.adapters.executors.local import LocalExecutor
from waterspider_tui.adapters.pipeline.base import StepContext
from waterspider_tui.adapters.workspace import WorkspaceManager
from waterspider_tui.core.models import Issue, Outcome, Progress, SessionInfo, SessionResult, TaskState
from waterspider_tui.core.state import Attempt, TaskRecord


def git(cwd: Path | str, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def with_bare_remote(repo: Path, remote: Path) -> Path:
    """`remote` becomes a bare copy of `repo` and its `origin`."""
    subprocess.run(["git", "clone", "-q", "--bare", str(repo), str(remote)], check=True, capture_output=True)
    git(repo, "remote", "add", "origin", str(remote))
    return remote


@dataclass
class World:
    repo: Path
    remote: Path
    executor: LocalExecutor
    session: SessionInfo
    task: TaskRecord

    @property
    def worktree(self) -> Path:
        return Path(self.session.worktree)

    def commit(self, name: str = "work.txt", text: str = "done\n") -> str:
        path = self.worktree / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        git(self.worktree, "add", name)
        git(self.worktree, "commit", "-q", "-m", f"edit {name}")
        return git(self.worktree, "rev-parse", "HEAD")

    def context(self, result: SessionResult | None = None, **session_changes: object) -> StepContext:
        result = result or SessionResult(outcome=Outcome.SUCCEEDED, summary="Added the greeting.", turns=4, cost_usd=0.25, duration_s=95.0)
        session = replace(self.session, **session_changes) if session_changes else self.session
        return StepContext(task=self.task, session=session, result=result, executor=self.executor, base=self.executor.base_branch(session))

    def next_attempt(self, *failed: Attempt) -> None:
        """The issue's next session on the same branch, after `failed` attempts."""
        attempt = self.session.attempt + 1
        self.session = replace(self.session, attempt=attempt, session_id=f"{self.task.issue.number}-{attempt}-t{attempt}", facts={})
        self.task = replace(self.task, history=self.task.history + failed, attempts=attempt)


async def make_world(tmp_path: Path, *, number: int = 1, repo_name: str = "local", title: str = "Add a greeting") -> World:
    repo = make_checkout(tmp_path / "repo")
    remote = with_bare_remote(repo, tmp_path / "remote.git")
    executor = LocalExecutor(WorkspaceManager(repo), tmp_path / "sessions", slots=2)
    key = f"{repo_name}#{number}"
    order = WorkOrder(issue_key=key, number=number, repo=repo_name, attempt=1, token="t1")
    paths = executor.locate(order, "local")
    session = SessionInfo(
        session_id=f"{number}-1-t1", issue=key, attempt=1, executor="local", host="local", worktree=paths.worktree,
        branch=paths.branch, log_path=f"{paths.session_dir}/stdout.jsonl", session_dir=paths.session_dir, started_at=0.0,
        progress=Progress(todos=(("Write the greeting", "completed"), ("Document it", "pending"))),
    )
    await executor.prepare(session)
    issue = Issue(repo=repo_name, number=number, title=title)
    task = TaskRecord(issue=issue, state=TaskState.RUNNING, deps=(), attempts=1, session=session)
    return World(repo, remote, executor, session, task)
