"""The pull request of a session that ran on an SSH host (a real sshd on 127.0.0.1, the loopback GitHub):
it targets the base branch by its name on GitHub, as a local session's does, not the host's `origin/main`."""

from __future__ import annotations

import subprocess
from pathlib import Path

from waterspider_tui.adapters.executors.ssh import SshExecutor
from waterspider_tui.adapters.github.client import GitHubClient
from waterspider_tui.adapters.pipeline.base import StepContext
from waterspider_tui.adapters.pipeline.pull_request import OpenPullRequest
from waterspider_tui.adapters.pipeline.push import PushBranch, PushOptions
from waterspider_tui.core.models import Issue, Outcome, SessionResult, TaskState
from waterspider_tui.core.state import TaskRecord

from remote_sessions import new_session, on_host
from sshd_server import SshServer

from tests.github.fake_github import DEFAULT_TOKEN, start_fake_github
from tests.github.fake_github_pulls import open_pulls


async def test_a_pull_request_from_a_host_targets_the_base_branch_by_its_github_name(server: SshServer, origin: Path) -> None:
    _, github = start_fake_github()
    github.add_repo("acme/app")
    executor = SshExecutor([server.host()])
    session = new_session(executor, number=7)
    client = GitHubClient(github.base_url, DEFAULT_TOKEN, min_write_interval=0.0)
    try:
        prepared = await executor.prepare(session)
        worktree = on_host(server, prepared.path)
        (worktree / "notes.md").write_text("written on the host\n")
        subprocess.run(["git", "add", "notes.md"], cwd=worktree, check=True)
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-q", "-m", "notes"], cwd=worktree, check=True)
        task = TaskRecord(issue=Issue(repo="acme/app", number=7, title="Greet the user"), state=TaskState.RUNNING, deps=(), attempts=1, session=session)
        context = StepContext(task=task, session=session, result=SessionResult(outcome=Outcome.SUCCEEDED, summary="Greeted."),
                              executor=executor, base=executor.base_branch(session))
        assert (await PushBranch(PushOptions(remote="origin")).run(context)).ok
        outcome = await OpenPullRequest(client).run(context)
    finally:
        await client.aclose()
        await executor.close()
        github.stop()
    assert outcome.ok, outcome.summary
    [(issue, pull)] = open_pulls(github, "acme/app")
    assert (pull.head, pull.base) == ("feature/issue-7", "main")
    assert issue.body.startswith("Closes #7")
