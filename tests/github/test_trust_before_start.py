"""No issue runs before its trust decision exists, and trust is asked again right before a start."""

from __future__ import annotations

import pytest

from waterspider_tui.adapters.github.source import GitHubIssueSource
from waterspider_tui.core import events as ev
from waterspider_tui.core.scheduler import SchedulerConfig, plan
from waterspider_tui.core.state import Snapshot, apply_all
from waterspider_tui.engine.collector import poll_events

from .fake_github import FakeGitHub

REPO = "octo/app"
TRIGGER = "trigger:agent-execute"


@pytest.fixture
def repo(github: FakeGitHub) -> FakeGitHub:
    github.add_repo(REPO, collaborators={"maintainer": "write", "triager": "triage"})
    return github


async def test_the_first_poll_holds_an_untrusted_issue_in_the_batch_that_first_sees_it(repo: FakeGitHub, make_client) -> None:
    trusted = repo.add_issue(REPO, "By a maintainer", labels=[TRIGGER], labeled_by="maintainer").number
    untrusted = repo.add_issue(REPO, "Drive-by", labels=[TRIGGER], labeled_by="triager").number
    result = await GitHubIssueSource(make_client(), [REPO]).poll()
    events = poll_events(Snapshot(), (REPO,), result, now=1.0)
    kinds = [(type(e).__name__, getattr(e, "issue", None) or e.issue_data.key) for e in events]  # type: ignore[attr-defined]
    seen_at = kinds.index(("IssueSeen", f"{REPO}#{untrusted}"))
    assert kinds[seen_at + 1] == ("IssueHeld", f"{REPO}#{untrusted}"), "the hold travels with the first sighting"
    snapshot = apply_all(Snapshot(), events)
    assert "@triager" in snapshot.tasks[f"{REPO}#{untrusted}"].held_reason
    assert list(plan(snapshot, 1.0, SchedulerConfig(capacity=5)).dispatch) == [f"{REPO}#{trusted}"]


async def test_a_relabel_by_someone_without_write_access_after_the_poll_is_caught_at_the_start(repo: FakeGitHub, make_client) -> None:
    number = repo.add_issue(REPO, "Fine at first", labels=[TRIGGER], labeled_by="maintainer").number
    source = GitHubIssueSource(make_client(), [REPO])
    result = await source.poll()
    assert not result.held
    issue = result.issues[0]
    assert await source.confirm(issue) == ""
    repo.unlabel_issue(REPO, number, TRIGGER, actor="maintainer")
    repo.label_issue(REPO, number, TRIGGER, actor="triager")
    reason = await source.confirm(issue)
    assert "@triager" in reason and "no write access" in reason
    repo.close_issue(REPO, number)
    assert await source.confirm(issue) == "closed since the last poll"


async def test_unchanged_rechecks_are_conditional_requests(repo: FakeGitHub, make_client) -> None:
    repo.add_issue(REPO, "Steady", labels=[TRIGGER], labeled_by="maintainer")
    source = GitHubIssueSource(make_client(), [REPO])
    issue = (await source.poll()).issues[0]
    await source.confirm(issue)
    before = repo.rate_remaining
    assert await source.confirm(issue) == ""
    assert repo.rate_remaining == before, "an unchanged issue is answered 304 and costs nothing"


def test_a_hold_lifted_by_a_later_poll_is_recorded() -> None:
    from waterspider_tui.adapters.source_base import PollResult
    from waterspider_tui.core.models import Issue

    issue = Issue(repo=REPO, number=1, title="t")
    held = apply_all(Snapshot(), poll_events(Snapshot(), (REPO,), PollResult(issues=[issue], held={issue.key: "untrusted"}), 1.0))
    lifted = poll_events(held, (REPO,), PollResult(issues=[issue]), 2.0)
    assert [type(e) for e in lifted] == [ev.IssueHeld] and lifted[0].reason == ""  # type: ignore[attr-defined]
