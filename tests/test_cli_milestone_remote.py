"""`waterspider milestone integrate` after sessions that ran elsewhere (SSH hosts), on a local issue folder:
the branches are found where the hosts pushed them, and the result is published to `[pipeline.pull_request]
repo` or the output says exactly why it is not."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from tests.adapters.test_milestone_integration import git, issue_branch, make_repo
from tests.github.fake_github import DEFAULT_TOKEN, FakeGitHub, start_fake_github
from tests.github.fake_github_pulls import open_pulls
from tests.sinks.backlog import T0, issue, seen, session, succeeded
from waterspider_tui.core import events as ev
from waterspider_tui.store.event_log import EventLog


@pytest.fixture
def github() -> FakeGitHub:
    _, fake = start_fake_github()
    yield fake
    fake.stop()


def _environment(tmp_path: Path, token: str | None) -> dict[str, str]:
    """No WATERSPIDER_* settings, the token or none, and no `gh` to ask for one."""
    environment = {name: value for name, value in os.environ.items()
                   if not name.upper().startswith("WATERSPIDER_") and name not in ("GITHUB_TOKEN", "GH_TOKEN")}
    tools = tmp_path / "bin"
    tools.mkdir(exist_ok=True)
    for tool in ("git", "sh"):
        if not (tools / tool).exists():
            (tools / tool).symlink_to(shutil.which(tool) or f"/usr/bin/{tool}")
    environment["PATH"] = str(tools)
    if token is not None:
        environment["GITHUB_TOKEN"] = token
    return environment


def _integrate(root: Path, tmp_path: Path, token: str | None, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "waterspider_tui", "milestone", "integrate", "v1.0", *args], cwd=root,
                          capture_output=True, text=True, timeout=120, env=_environment(tmp_path, token))


def hosts_project(tmp_path: Path, api_url: str) -> tuple[Path, Path]:
    """v1.0: #1 and #2 (after #1) ran on mini-2, which pushed their branches to origin; this clone has none of them."""
    root = make_repo(tmp_path)
    issue_branch(root, 1, {"src/one.py": "ONE = 1\n"})
    issue_branch(root, 2, {"src/two.py": "TWO = 2\n"})
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", str(origin))
    git(root, "remote", "add", "origin", str(origin))
    git(root, "push", "-q", "origin", "main", "feature/issue-1", "feature/issue-2")
    git(root, "branch", "-q", "-D", "feature/issue-1", "feature/issue-2")
    (root / "waterspider.toml").write_text(
        f'[github]\napi_url = "{api_url}"\n[pipeline]\nsteps = ["commits", "push", "pull_request"]\n'
        '[pipeline.pull_request]\nrepo = "acme/widgets"\n[milestones]\nenabled = true\n'
    )
    events = seen(issue(1), issue(2, deps=[1]))
    for number in (1, 2):
        on_host = replace(session(number, 1, T0 + number), executor="ssh", host="mini-2")
        events += [ev.SessionStarted(ts=T0 + number, issue=on_host.issue, session=on_host), succeeded(number, T0 + number)]
    log = EventLog(root / ".waterspider" / "state.db")
    log.append(events)
    log.close()
    return root, origin


def test_branches_pushed_by_the_hosts_are_integrated_and_published_to_the_configured_repo(tmp_path: Path, github: FakeGitHub) -> None:
    github.add_repo("acme/widgets")
    root, origin = hosts_project(tmp_path, github.base_url)
    result = _integrate(root, tmp_path, DEFAULT_TOKEN)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("milestone v1.0: 2 issues integrated into integration/v1.0 at ")
    assert "pushed to origin" in result.stdout and "pull request #" in result.stdout
    assert git(origin, "rev-parse", "integration/v1.0") == git(root, "rev-parse", "integration/v1.0")
    [(pull_issue, pull)] = open_pulls(github, "acme/widgets")
    assert (pull.head, pull.base) == ("integration/v1.0", "main")
    # GitHub's #1 and #2 are other issues: the list names the folder's issues without a link to them.
    assert "Local issue 1" in pull_issue.body and "| #1 " not in pull_issue.body


def test_without_a_token_the_output_says_why_nothing_was_published(tmp_path: Path, github: FakeGitHub) -> None:
    root, origin = hosts_project(tmp_path, github.base_url)
    result = _integrate(root, tmp_path, None)
    # Asked to publish (README: 1 is also "not published as asked") and could not: the branch is built, the exit says so.
    assert result.returncode == 1, result.stdout + result.stderr
    assert "2 issues integrated into integration/v1.0" in result.stdout
    assert "not published to acme/widgets: no GitHub token" in result.stdout
    branch_only = _integrate(root, tmp_path, None, "--no-publish")
    assert branch_only.returncode == 0 and "not published" not in branch_only.stdout, branch_only.stdout + branch_only.stderr


async def test_a_run_without_a_token_says_on_the_milestone_line_why_nothing_was_published(
    tmp_path: Path, github: FakeGitHub, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The run's own integration (the engine's milestone sink, as the wiring builds it) names the missing token too."""
    from waterspider_tui.adapters.sinks.milestones import MilestoneSink
    from waterspider_tui.config import Settings
    from waterspider_tui.core.milestones import milestone_progress
    from waterspider_tui.engine.wiring import build_engine
    from waterspider_tui.store.state_store import StateStore

    root, _ = hosts_project(tmp_path, github.base_url)
    for name, value in _environment(tmp_path, None).items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    monkeypatch.delenv("GH_TOKEN", raising=False)
    issues = tmp_path / "issues"
    issues.mkdir()
    settings = Settings(
        issues={"dir": issues}, workspace={"repo_path": root}, milestones={"enabled": True},
        pipeline={"steps": ["commits", "push"], "pull_request": {"repo": "acme/widgets"}}, store={"path": tmp_path / "state" / "state.db"},
    )
    engine = build_engine(settings)
    [sink] = [sink for sink in engine.sinks if isinstance(sink, MilestoneSink)]
    stored = StateStore(EventLog(root / ".waterspider" / "state.db"))
    [progress] = [item for item in milestone_progress(stored.snapshot) if item.name == "v1.0"]
    report = await sink.integrate(progress, stored.snapshot)
    assert "2 issues integrated into integration/v1.0" in report.summary
    assert "; not published to acme/widgets: no GitHub token" in report.summary, report.summary


def test_a_branch_found_nowhere_names_the_host_it_ran_on(tmp_path: Path, github: FakeGitHub) -> None:
    root, origin = hosts_project(tmp_path, github.base_url)
    git(origin, "branch", "-D", "feature/issue-2")
    result = _integrate(root, tmp_path, None, "--no-publish")
    assert result.returncode == 1
    assert "branch not found for #2 (feature/issue-2): it ran on mini-2, and is neither in this repository nor on origin" in result.stdout
