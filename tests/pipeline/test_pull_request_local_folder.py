"""Local issue folders (no `[github] repos`) with `[pipeline.pull_request] repo`: the pull-request step
gets its own client (token from the environment) and opens the PR on the loopback GitHub; without the
repo, or without a token, the run refuses to start with one clear line."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.e2e.helpers import WATERSPIDER, clean_env, git
from tests.git_checkout import make_checkout
from tests.github.fake_github import DEFAULT_TOKEN, FakeGitHub
from tests.github.fake_github_pulls import open_pulls
from tests.pipeline.worktree_session import with_bare_remote


def _project(tmp_path: Path, api_url: str, pull_request_table: str) -> tuple[Path, Path, Path]:
    repo = make_checkout(tmp_path / "repo")
    with_bare_remote(repo, tmp_path / "origin.git")
    issues = tmp_path / "issues"
    issues.mkdir()
    (issues / "001.md").write_text("---\ntitle: Greet the user\n---\nSay hello.\n")
    config = tmp_path / "waterspider.toml"
    config.write_text(f'''
[github]
api_url = "{api_url}"
[agent]
kind = "simulated"
options = {{ duration_s = 0.2 }}
[pipeline]
steps = ["commits", "push", "pull_request"]
[pipeline.push]
remote = "origin"
{pull_request_table}''')
    return repo, issues, config


def _run(config: Path, issues: Path, repo: Path, *, token: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in clean_env().items() if k not in ("GITHUB_TOKEN", "GH_TOKEN")}
    # `git` and Python only, no `gh` to fall back on: the token comes from the environment or not at all.
    env["PATH"] = f"{Path(WATERSPIDER[0]).parent}:{Path(shutil.which('git') or '/usr/bin/git').parent}"
    if token is not None:
        env["GITHUB_TOKEN"] = token
    return subprocess.run(
        [*WATERSPIDER, "run", "--config", str(config), "--issues", str(issues), "--repo-path", str(repo), "--no-ui", "--until-idle"],
        capture_output=True, text=True, timeout=120, env=env,
    )


def test_a_local_folder_opens_its_pull_request_in_the_configured_repo(tmp_path: Path, github: FakeGitHub) -> None:
    github.add_repo("octo/app")
    repo, issues, config = _project(tmp_path, github.base_url, '[pipeline.pull_request]\nrepo = "octo/app"\nlabels = ["agent"]\n')
    done = _run(config, issues, repo, token=DEFAULT_TOKEN)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    pulls = open_pulls(github, "octo/app")
    assert len(pulls) == 1
    issue, pull = pulls[0]
    assert pull.head == "feature/issue-1" and issue.title == "Greet the user"
    # GitHub's #1 is another issue: the body names the folder's issue without a closing keyword or a link.
    assert issue.body.startswith("Local issue 1: Greet the user\n") and "Closes" not in issue.body
    assert "local#" not in issue.body.split("<!--")[0] and "Opened by waterspider for local issue 1 from `feature/issue-1`" in issue.body
    assert git(tmp_path / "origin.git", "branch", "--list", "feature/*").split() == ["feature/issue-1"]
    assert "1 pull request\n" in done.stdout


def test_without_the_repo_the_run_says_what_to_set(tmp_path: Path, github: FakeGitHub) -> None:
    repo, issues, config = _project(tmp_path, github.base_url, "")
    done = _run(config, issues, repo, token=DEFAULT_TOKEN)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        'waterspider: pipeline step pull_request without [github] repos needs [pipeline.pull_request] repo = "owner/name" (where to open them)'
    ]


def test_without_a_token_the_run_says_where_one_comes_from(tmp_path: Path, github: FakeGitHub) -> None:
    repo, issues, config = _project(tmp_path, github.base_url, '[pipeline.pull_request]\nrepo = "octo/app"\n')
    done = _run(config, issues, repo, token=None)
    assert done.returncode == 2
    line = done.stderr.strip()
    assert line.startswith("waterspider: pipeline step pull_request: ") and "GITHUB_TOKEN" in line and "\n" not in line


def test_until_idle_ends_while_a_dependant_waits_for_a_merge(tmp_path: Path, github: FakeGitHub) -> None:
    """A blocked dependant does not keep `--until-idle` going, and the merge watcher does not poll on at exit."""
    github.add_repo("octo/app")
    repo, issues, config = _project(tmp_path, github.base_url, '[pipeline.pull_request]\nrepo = "octo/app"\n')
    (issues / "002.md").write_text("---\ntitle: Greet by name\ndepends_on: [1]\n---\nUse the greeting.\n")
    text = config.read_text().replace("[github]\n", "[github]\npoll_interval_s = 0.05\n")
    config.write_text(text)
    done = _run(config, issues, repo, token=DEFAULT_TOKEN)
    assert done.returncode == 1, done.stdout[-2000:] + done.stderr[-2000:]
    assert "#2 not run: waits on #1 (succeeded, its pull request not merged yet)" in done.stdout
    [(_, pull)] = open_pulls(github, "octo/app")
    asked = github.count("GET", rf"/pulls/{pull.number}$")
    assert 1 <= asked <= 20, f"the merge watcher asked {asked} times: it polled on while the run drained its sinks"
