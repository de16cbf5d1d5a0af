"""The reporter against the fake: one comment per session edited in place, restarts, labels, failure notices."""

from __future__ import annotations

import pytest

from waterspider_tui.adapters.github.reporter import GitHubReporter
from waterspider_tui.core.models import Issue
from waterspider_tui.reporting.progress_comment import ProgressCommentRenderer

from .fake_github import BOT_LOGIN, FakeGitHub
from .snapshots import Story, failed, succeeded

REPO = "octo/app"
TRIGGER = "trigger:agent-execute"
STATE_LABELS = {"agent:queued", "agent:running", "agent:done", "agent:failed"}


@pytest.fixture
def repo(github: FakeGitHub) -> FakeGitHub:
    github.add_repo(REPO, collaborators={"maintainer": "write"})
    github.add_label(REPO, TRIGGER)  # created before anyone uses it, as in a real setup
    return github


def new_story(github: FakeGitHub, assignees: tuple[str, ...] = ()) -> Story:
    fake_issue = github.add_issue(REPO, "Add login", labels=[TRIGGER], labeled_by="maintainer", assignees=assignees)
    return Story(Issue(repo=REPO, number=fake_issue.number, title="Add login", labels=(TRIGGER,), assignees=assignees))


def make_reporter(make_client, fake_time, **options) -> GitHubReporter:
    options.setdefault("renderer", ProgressCommentRenderer())
    return GitHubReporter(make_client(), [REPO], clock=fake_time.clock, **options)


async def tell(reporter: GitHubReporter, *steps) -> None:
    for event, snapshot in steps:
        await reporter.on_event(event, snapshot)
    await reporter.drain()


def labels_on(github: FakeGitHub, number: int) -> set[str]:
    return set(github.issue(REPO, number).labels) - {TRIGGER}


async def test_one_comment_per_session_edited_in_place(repo: FakeGitHub, make_client, fake_time) -> None:
    story = new_story(repo)
    reporter = make_reporter(make_client, fake_time, comment_interval_s=20)
    await tell(reporter, story.seen(), story.started())
    comments = repo.comments_on(REPO, story.issue.number)
    assert len(comments) == 1 and comments[0].user == BOT_LOGIN
    assert comments[0].body.startswith("<!-- waterspider:session=s-1 -->")
    for turn in range(1, 6):
        fake_time.advance(30)
        await tell(reporter, story.progressed(turns=turn, phase="implementing", phases_done=1))
    fake_time.advance(5)
    await tell(reporter, story.progressed(turns=6), story.progressed(turns=7))
    assert repo.count("PATCH", r"/issues/comments/") == 5, "one edit per 20 s; the two quick updates wait"
    await tell(reporter, story.finished(succeeded()))
    comments = repo.comments_on(REPO, story.issue.number)
    assert len(comments) == 1
    assert "succeeded" in comments[0].body and "Added the login form" in comments[0].body
    assert repo.count("POST", r"/comments$") == 1
    assert not reporter.errors


async def test_a_restarted_reporter_finds_its_comment_by_marker(repo: FakeGitHub, make_client, fake_time) -> None:
    story = new_story(repo)
    await tell(make_reporter(make_client, fake_time), story.seen(), story.started())
    comment_id = repo.comments_on(REPO, story.issue.number)[0].id
    after_restart = make_reporter(make_client, fake_time)
    fake_time.advance(60)
    await tell(after_restart, story.progressed(turns=3), story.started())
    await tell(after_restart, story.finished(succeeded()))
    comments = repo.comments_on(REPO, story.issue.number)
    assert [c.id for c in comments] == [comment_id]
    assert "succeeded" in comments[0].body


async def test_a_new_attempt_gets_its_own_comment(repo: FakeGitHub, make_client, fake_time) -> None:
    story = new_story(repo)
    reporter = make_reporter(make_client, fake_time)
    await tell(reporter, story.seen(), story.started("s-1"), story.finished(failed(), "s-1"), story.retried())
    await tell(reporter, story.started("s-2", attempt=2))
    bodies = [c.body for c in repo.comments_on(REPO, story.issue.number)]
    assert sum("waterspider:session=s-1" in b for b in bodies) == 1
    assert sum("waterspider:session=s-2" in b for b in bodies) == 1


async def test_labels_show_the_state_and_no_stray_label_is_created(repo: FakeGitHub, make_client, fake_time) -> None:
    before = repo.label_names(REPO)
    story = new_story(repo)
    reporter = make_reporter(make_client, fake_time)
    number = story.issue.number
    await tell(reporter, story.seen())
    assert labels_on(repo, number) == {"agent:queued"}
    await tell(reporter, story.started())
    assert labels_on(repo, number) == {"agent:running"}
    await tell(reporter, story.finished(succeeded()))
    assert labels_on(repo, number) == {"agent:done"}
    assert repo.label_names(REPO) == before | STATE_LABELS
    assert repo.count("POST", rf"/repos/{REPO}/labels$") == 4, "the four state labels are created on purpose, once"
    assert repo.count("POST", r"/issues/\d+/labels$") == 3


async def test_existing_state_labels_are_not_created_again(repo: FakeGitHub, make_client, fake_time) -> None:
    await make_client().post(f"/repos/{REPO}/labels", {"name": "agent:queued", "color": "ffffff"})
    reporter = make_reporter(make_client, fake_time)
    await reporter.ensure_labels()
    await reporter.ensure_labels()
    assert repo.count("POST", rf"/repos/{REPO}/labels$") == 1 + 3
    assert repo.label_names(REPO) >= STATE_LABELS


async def test_removing_a_label_someone_already_removed_is_fine(repo: FakeGitHub, make_client, fake_time) -> None:
    story = new_story(repo)
    reporter = make_reporter(make_client, fake_time)
    await tell(reporter, story.seen())
    repo.unlabel_issue(REPO, story.issue.number, "agent:queued", actor="maintainer")
    await tell(reporter, story.started())
    assert repo.count("DELETE", "agent%3Aqueued", status=404) == 1
    assert labels_on(repo, story.issue.number) == {"agent:running"}
    assert not reporter.errors


async def test_failure_mentions_operators_once(repo: FakeGitHub, make_client, fake_time) -> None:
    story = new_story(repo, assignees=("dev",))
    reporter = make_reporter(make_client, fake_time, operators=["alice"])
    await tell(reporter, story.seen(), story.started(), story.finished(failed()))
    finished = story.finished(failed())  # the same news again, e.g. replayed after a restart
    await tell(reporter, finished)
    await tell(make_reporter(make_client, fake_time, operators=["alice"]), story.started(), finished)
    bodies = [c.body for c in repo.comments_on(REPO, story.issue.number)]
    assert len(bodies) == 2
    assert sum("@alice" in body for body in bodies) == 1 and "@dev" not in "".join(bodies)
    assert labels_on(repo, story.issue.number) == {"agent:failed"}


async def test_failure_mentions_assignees_when_no_operators(repo: FakeGitHub, make_client, fake_time) -> None:
    story = new_story(repo, assignees=("dev",))
    await tell(make_reporter(make_client, fake_time), story.seen(), story.started(), story.finished(failed()))
    assert any(body.startswith("<!-- waterspider:failure") and "@dev" in body
               for body in (c.body for c in repo.comments_on(REPO, story.issue.number)))


async def test_github_failures_never_escape_on_event(repo: FakeGitHub, make_client, fake_time) -> None:
    story = new_story(repo)
    reporter = make_reporter(make_client, fake_time)
    repo.inject(500, times=100)
    await tell(reporter, story.seen(), story.started())
    assert reporter.errors and "500" in reporter.errors[-1]
    taken = reporter.take_errors()
    assert taken and "500" in taken[-1], "the engine shows these as warnings"
    assert reporter.take_errors() == [], "each failure is shown once"
    await reporter.close()


async def test_only_its_own_repositories(repo: FakeGitHub, make_client, fake_time) -> None:
    story = Story(Issue(repo="someone/else", number=1, title="Not ours"))
    reporter = make_reporter(make_client, fake_time)
    await tell(reporter, story.seen(), story.started())
    assert repo.count() == 0


async def test_session_news_goes_before_queued_labels_and_stale_jobs_are_dropped(
    repo: FakeGitHub, make_client, fake_time
) -> None:
    stories = [new_story(repo) for _ in range(5)]
    reporter = make_reporter(make_client, fake_time)
    for story in stories:
        await reporter.on_event(*story.seen())
    await reporter.on_event(*stories[-1].started())
    await reporter.drain()
    writes = [r.path for r in repo.requests if r.method != "GET"]
    first_comment = next(i for i, path in enumerate(writes) if path.endswith("/comments"))
    assert first_comment <= 4 + 1, "after the state labels are created, the new session's comment comes first"
    assert labels_on(repo, stories[-1].issue.number) == {"agent:running"}, "its queued label was never added"
    assert all(labels_on(repo, s.issue.number) == {"agent:queued"} for s in stories[:-1])


async def test_a_failed_final_report_is_retried_with_the_next_news(repo: FakeGitHub, make_client, fake_time) -> None:
    story, other = new_story(repo), new_story(repo)
    reporter = make_reporter(make_client, fake_time)
    await tell(reporter, story.seen(), story.started())
    repo.inject(502, times=4, method="PATCH")
    await tell(reporter, story.finished(succeeded()))
    assert "502" in reporter.errors[-1]
    assert "succeeded" not in repo.comments_on(REPO, story.issue.number)[0].body
    await tell(reporter, other.seen())
    assert "succeeded" in repo.comments_on(REPO, story.issue.number)[0].body
    assert labels_on(repo, story.issue.number) == {"agent:done"}
