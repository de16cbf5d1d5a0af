"""`waterspider run --repo` against the loopback GitHub: drains 30 issues in order, reports honestly."""

from __future__ import annotations

import subprocess
from collections import Counter
from pathlib import Path

import pytest

from tests.git_checkout import make_checkout
from tests.e2e.helpers import WATERSPIDER, clean_env, json_events
from tests.github.fake_github import DEFAULT_TOKEN, FakeGitHub, seed_backlog, start_fake_github

REPO = "octo/widgets"


@pytest.fixture
def github() -> FakeGitHub:
    _, fake = start_fake_github()
    yield fake
    fake.stop()


def _config(tmp_path: Path) -> Path:
    config = tmp_path / "waterspider.toml"
    config.write_text(
        "[github]\npoll_interval_s = 0.5\ncomment_interval_s = 0.5\nmin_write_interval_s = 0.02\n"
        "[scheduler]\ncapacity = 4\n"
        '[agent]\nkind = "simulated"\noptions = { duration_s = 0.4 }\n'
    )
    return config


def test_run_drains_a_github_backlog_in_dependency_order(tmp_path: Path, github: FakeGitHub) -> None:
    issues = seed_backlog(github, REPO, 30)
    github.edit_issue(REPO, 30, actor="maintainer", body="Estimate: 15m\n\nDepends on #2.")
    github.add_issue(REPO, "A pull request", labels=["trigger:agent-execute"], labeled_by="maintainer", pull_request=True)
    github.reset_counts()
    repo = make_checkout(tmp_path / "widgets")
    env = clean_env() | {"GITHUB_TOKEN": DEFAULT_TOKEN}
    result = subprocess.run(
        [*WATERSPIDER, "run", "--repo", REPO, "--github-api-url", github.base_url, "--repo-path", str(repo),
         "--config", str(_config(tmp_path)), "--json", "--until-idle"],
        capture_output=True, text=True, timeout=240, env=env,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    events = json_events(result.stdout)

    started = Counter(e["issue"] for e in events if e["event"] == "session_started")
    assert set(started) == {f"{REPO}#{issue.number}" for issue in issues}, "every issue, and no pull request"
    assert all(count == 1 for count in started.values()), started
    for issue in issues:
        for blocker_id in issue.blocked_by:
            blocker = next(i for i in issues if i.id == blocker_id)
            key, dep = f"{REPO}#{issue.number}", f"{REPO}#{blocker.number}"
            first_finish = next(i for i, e in enumerate(events) if e["event"] == "session_finished" and e["issue"] == dep)
            first_start = next(i for i, e in enumerate(events) if e["event"] == "session_started" and e["issue"] == key)
            assert first_finish < first_start, f"{key} started before its blocker {dep} finished"
    body_finish = next(i for i, e in enumerate(events) if e["event"] == "session_finished" and e["issue"] == f"{REPO}#2")
    body_start = next(i for i, e in enumerate(events) if e["event"] == "session_started" and e["issue"] == f"{REPO}#30")
    assert body_finish < body_start, "a body reference is a dependency too"

    for issue in issues:
        mine = [c for c in github.comments_on(REPO, issue.number) if c.user == "waterspider-bot"]
        assert len(mine) == 1, f"#{issue.number} has {len(mine)} progress comments"
        # One comment per session, written as its latest state: a fast session's pending edits
        # collapse, so its comment may be posted already final (edits in place: tests/github).
        assert mine[0].body.startswith("<!-- waterspider:session=")
        assert "succeeded" in mine[0].body.lower() or "done" in mine[0].body.lower()
        labels = set(github.issue(REPO, issue.number).labels)
        assert "agent:done" in labels and not labels & {"agent:running", "agent:queued", "agent:failed"}
    assert github.label_names(REPO) <= {
        "bug", "documentation", "duplicate", "enhancement", "good first issue", "help wanted", "invalid",
        "question", "wontfix", "trigger:agent-execute", "P1-High", "agent:queued", "agent:running",
        "agent:done", "agent:failed",
    }, "no label was created by accident"

    counted_reads = github.count("GET") - github.count("GET", status=304)
    writes = github.count("POST") + github.count("PATCH") + github.count("DELETE")
    polls = sum(1 for e in events if e["event"] == "source_polled")
    # First poll: the list, one events read per issue, a permission check and the blockers (~45).
    # Per issue: finding its comment once, and our own label writes (queued, running, done)
    # touch it, so the list and its events are read again (~5), and the issue is read once more
    # right before its session starts (trust is checked again then). An unchanged poll is free (304).
    budget = 45 + 30 * 6 + polls * 2
    by_kind = Counter(
        ("events" if "/events" in r.path or "/timeline" in r.path else "list" if r.path.split("?")[0].endswith("/issues") else "other", r.status)
        for r in github.requests if r.method == "GET"
    )
    print(sorted(by_kind.items()))
    print(f"counted reads {counted_reads}, 304s {github.count('GET', status=304)}, writes {writes}, budget {budget}")
    assert counted_reads <= budget
