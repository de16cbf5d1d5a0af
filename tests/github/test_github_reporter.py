"""The GitHub sink against the fake, fed by an outbox from a real store: comments, labels, failure notices."""

from __future__ import annotations

from pathlib import Path

import pytest

from waterspider_tui.core.models import Issue

from .fake_github import BOT_LOGIN, FakeGitHub
from .sink_harness import REPO, STATE_LABELS, TRIGGER, Orchestrator, labels_on, new_story, ours
from .snapshots import Story, failed, succeeded


@pytest.fixture
def repo(github: FakeGitHub) -> FakeGitHub:
    github.add_repo(REPO, collaborators={"maintainer": "write"})
    github.add_label(REPO, TRIGGER)  # created before anyone uses it, as in a real setup
    return github


@pytest.fixture
def start(tmp_path: Path, make_client, fake_time):
    """Start an orchestrator on the test's store; call again for a restart."""
    started: list[Orchestrator] = []

    def make(**options) -> Orchestrator:
        if started:
            started[-1].close()
        started.append(Orchestrator(tmp_path / "state.db", make_client(), fake_time, **options))
        return started[-1]

    yield make
    started[-1].close()


async def test_one_comment_per_session_edited_in_place(repo: FakeGitHub, start, fake_time) -> None:
    story = new_story(repo)
    app = start(comment_interval_s=20)
    await app.tell(story.seen(), story.started())
    comments = repo.comments_on(REPO, story.issue.number)
    assert len(comments) == 1 and comments[0].user == BOT_LOGIN
    assert comments[0].body.startswith("<!-- waterspider:session=s-1 -->")
    for turn in range(1, 6):
        fake_time.advance(30)
        await app.tell(story.progressed(turns=turn, phase="implementing", phases_done=1))
    assert repo.count("PATCH", r"/issues/comments/") == 5
    fake_time.advance(5)
    await app.tell(story.progressed(turns=6), story.progressed(turns=7), deadline_s=1)
    assert repo.count("PATCH", r"/issues/comments/") == 5, "one edit per 20 s: the two quick updates wait"
    assert app.sink.due_at() == pytest.approx(fake_time.now + 15)
    assert await app.outbox.drain(deadline_s=60) == 0
    assert repo.count("PATCH", r"/issues/comments/") == 6, "the put-off edit is written when due, once"
    assert "| 7 |" in repo.comments_on(REPO, story.issue.number)[0].body
    assert app.sink.due_at() is None
    await app.tell(story.finished(succeeded()))
    comments = repo.comments_on(REPO, story.issue.number)
    assert len(comments) == 1
    assert "succeeded" in comments[0].body and "Added the login form" in comments[0].body
    assert repo.count("POST", r"/comments$") == 1
    assert not app.warnings


async def test_a_restarted_sink_finds_its_comment_by_marker(repo: FakeGitHub, start, fake_time) -> None:
    story = new_story(repo)
    await start().tell(story.seen(), story.started())
    comment_id = repo.comments_on(REPO, story.issue.number)[0].id
    after_restart = start()
    fake_time.advance(60)
    await after_restart.tell(story.progressed(turns=3))
    await after_restart.tell(story.finished(succeeded()))
    comments = repo.comments_on(REPO, story.issue.number)
    assert [c.id for c in comments] == [comment_id]
    assert "succeeded" in comments[0].body


async def test_a_new_attempt_gets_its_own_comment_and_the_old_one_its_outcome(repo: FakeGitHub, start) -> None:
    story = new_story(repo)
    app = start()
    await app.tell(story.seen(), story.started("s-1"), story.finished(failed(), "s-1"), story.retried(),
                   story.started("s-2", attempt=2))
    first = ours(repo, story.issue.number, lambda body: "waterspider:session=s-1" in body)
    second = ours(repo, story.issue.number, lambda body: "waterspider:session=s-2" in body)
    assert len(first) == 1 and len(second) == 1
    assert "failed (attempt 1)" in first[0] and "Branch `feature/issue-1`" in first[0]
    assert "running (attempt 2)" in second[0]
    assert labels_on(repo, story.issue.number) == {"agent:running"}


async def test_an_old_sessions_outcome_is_written_after_a_restart_even_when_the_task_moved_on(
    repo: FakeGitHub, start
) -> None:
    story = new_story(repo, assignees=("dev",))
    await start().tell(story.seen(), story.started("s-1"))
    app = start()  # the restart forgot s-1's details: once s-2 started, only its history entry is left
    await app.tell(story.finished(failed(), "s-1"), story.retried(), story.started("s-2", attempt=2))
    first = ours(repo, story.issue.number, lambda body: body.startswith("<!-- waterspider:session=s-1"))
    assert len(first) == 1 and "failed (attempt 1)" in first[0] and "max_turns" in first[0]
    assert "``" not in first[0] and "on `local`" in first[0], "what the history entry does not say is left out"
    assert len(ours(repo, story.issue.number, lambda body: body.startswith("<!-- waterspider:failure session=s-1"))) == 1
    assert len(ours(repo, story.issue.number, lambda body: "waterspider:session=s-2" in body)) == 1


async def test_labels_show_the_state_and_no_stray_label_is_created(repo: FakeGitHub, start) -> None:
    before = repo.label_names(REPO)
    story = new_story(repo)
    app = start()
    number = story.issue.number
    await app.tell(story.seen())
    assert labels_on(repo, number) == {"agent:queued"}
    await app.tell(story.started())
    assert labels_on(repo, number) == {"agent:running"}
    await app.tell(story.finished(succeeded()))
    assert labels_on(repo, number) == {"agent:done"}
    assert repo.label_names(REPO) == before | STATE_LABELS
    assert repo.count("POST", rf"/repos/{REPO}/labels$") == 4, "the four state labels are created on purpose, once"
    assert repo.count("POST", r"/issues/\d+/labels$") == 3
    assert repo.count("GET", r"/issues/\d+/labels") == 0, "GitHub's answers to our writes say what the issue carries"


async def test_after_a_restart_a_label_the_last_poll_shows_is_checked_before_it_is_trusted(
    repo: FakeGitHub, start
) -> None:
    story = new_story(repo)
    number = story.issue.number
    first = start()
    await first.tell(story.seen(), story.started("s-1"))
    polled = Issue(repo=REPO, number=number, title="Add login", labels=(TRIGGER, "agent:running"))
    await first.tell(story.seen(polled), story.finished(failed(), "s-1"))  # a poll saw `running`, then it became `failed`
    assert labels_on(repo, number) == {"agent:failed"}
    second = start()  # the poll it replays still says `running`
    await second.tell(story.retried(), story.started("s-2", attempt=2))
    assert labels_on(repo, number) == {"agent:running"}
    assert repo.count("GET", rf"/issues/{number}/labels") == 1


async def test_existing_state_labels_are_not_created_again(repo: FakeGitHub, start, make_client) -> None:
    await make_client().post(f"/repos/{REPO}/labels", {"name": "agent:queued", "color": "ffffff"})
    app = start()
    assert await app.sink.ensure_labels() == []
    assert await app.sink.ensure_labels() == []
    assert repo.count("POST", rf"/repos/{REPO}/labels$") == 1 + 3
    assert repo.label_names(REPO) >= STATE_LABELS


async def test_removing_a_label_someone_already_removed_is_fine(repo: FakeGitHub, start) -> None:
    story = new_story(repo)
    app = start()
    await app.tell(story.seen())
    repo.unlabel_issue(REPO, story.issue.number, "agent:queued", actor="maintainer")
    await app.tell(story.started())
    assert repo.count("DELETE", "agent%3Aqueued", status=404) == 1
    assert labels_on(repo, story.issue.number) == {"agent:running"}
    assert not app.warnings


async def test_failure_mentions_operators_once_even_when_replayed_after_a_restart(repo: FakeGitHub, start) -> None:
    story = new_story(repo, assignees=("dev",))
    await start(operators=["alice"]).tell(story.seen(), story.started(), story.finished(failed()))
    replayed = start(operators=["alice"])
    replayed.cursors.set("github", 0)  # the same news offered again from the start of the log
    replayed.outbox.cursor = 0
    assert await replayed.outbox.drain() == 0
    bodies = ours(repo, story.issue.number)
    assert len(bodies) == 2
    assert sum("@alice" in body for body in bodies) == 1 and "@dev" not in "".join(bodies)
    assert labels_on(repo, story.issue.number) == {"agent:failed"}


async def test_failure_mentions_assignees_when_no_operators(repo: FakeGitHub, start) -> None:
    story = new_story(repo, assignees=("dev",))
    await start().tell(story.seen(), story.started(), story.finished(failed()))
    assert any(body.startswith("<!-- waterspider:failure") and "@dev" in body for body in ours(repo, story.issue.number))


async def test_a_write_that_fails_for_good_is_a_warning_and_the_rest_goes_on(repo: FakeGitHub, start) -> None:
    story, other = new_story(repo), new_story(repo)
    app = start()
    repo.inject(404, times=1, method="POST", path_contains=f"/issues/{story.issue.number}/comments")
    assert await app.tell(story.seen(), story.started(), other.seen(), other.started()) == 0
    assert len(app.warnings) == 1 and "404" in app.warnings[0] and f"#{story.issue.number}" in app.warnings[0]
    assert len(ours(repo, other.issue.number)) == 1
    assert labels_on(repo, story.issue.number) == {"agent:running"}


async def test_only_its_own_repositories(repo: FakeGitHub, start) -> None:
    story = Story(Issue(repo="someone/else", number=1, title="Not ours"))
    app = start()
    await app.tell(story.seen(), story.started())
    assert repo.count() == 0 and app.outbox.pending() == 0


async def test_session_news_goes_before_queued_labels_and_stale_states_are_never_written(
    repo: FakeGitHub, start
) -> None:
    stories = [new_story(repo) for _ in range(5)]
    app = start()
    app.record(*(story.seen() for story in stories))
    await app.tell(stories[-1].started())
    written = [r.path for r in repo.requests if r.method != "GET"]
    assert written[0].endswith("/comments"), "the new session's comment comes first"
    assert labels_on(repo, stories[-1].issue.number) == {"agent:running"}, "its queued label was never added"
    assert all(labels_on(repo, s.issue.number) == {"agent:queued"} for s in stories[:-1])


async def test_a_final_report_that_met_an_outage_is_delivered_when_github_is_back(repo: FakeGitHub, start) -> None:
    story = new_story(repo)
    app = start()
    await app.tell(story.seen(), story.started())
    repo.inject(502, times=4, method="PATCH")
    assert await app.tell(story.finished(succeeded()), deadline_s=0.5) == 1
    assert "502" in app.warnings[-1] and "nothing is lost" in app.warnings[-1]
    assert "succeeded" not in ours(repo, story.issue.number)[0]
    assert await app.outbox.drain(deadline_s=60) == 0
    assert "succeeded" in ours(repo, story.issue.number)[0]
    assert labels_on(repo, story.issue.number) == {"agent:done"}


async def test_a_comment_someone_deleted_is_posted_again(repo: FakeGitHub, start, fake_time) -> None:
    story = new_story(repo)
    app = start(comment_interval_s=0)
    await app.tell(story.seen(), story.started())
    deleted = repo.comments_on(REPO, story.issue.number)[0].id
    repo.repo(REPO).comments.pop(deleted)
    fake_time.advance(30)
    await app.tell(story.progressed(turns=4))
    comments = ours(repo, story.issue.number)
    assert len(comments) == 1 and "| 4 |" in comments[0]
    assert not app.warnings
