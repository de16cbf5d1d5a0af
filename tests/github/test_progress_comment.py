"""The progress comment and failure notice as Markdown: checklist, numbers, outcome, advice, mentions."""

from __future__ import annotations

from waterspider_tui.core.models import ErrorClass, Issue, Outcome, SessionResult
from waterspider_tui.core.advice import ADVICE, advice_for
from waterspider_tui.reporting.progress_comment import (
    failure_mentions, format_duration, quiet, render_failure_notice, render_progress_comment, session_marker,
)

from .snapshots import START, Story, failed, succeeded

ISSUE = Issue(repo="octo/app", number=12, title="Add login", assignees=("dev",))


def story() -> Story:
    story = Story(ISSUE)
    story.seen()
    story.started()
    return story


def test_running_with_the_agents_todo_list() -> None:
    s = story()
    s.progressed(turns=17, cost_usd=0.4249, todos=(("Read the auth module", "completed"),
                                                   ("Write the form", "in_progress"), ("Add tests", "pending")))
    text = render_progress_comment(s.task(), now=START + 252)
    lines = text.splitlines()
    assert lines[0] == session_marker("s-1") == "<!-- waterspider:session=s-1 -->"
    assert "running (attempt 1)" in lines[1]
    assert "- [x] Read the auth module" in lines
    assert "- [ ] **Write the form** ⏳" in lines
    assert "- [ ] Add tests" in lines
    assert "| 4m 12s | 17 | $0.42 |" in lines
    assert "Branch `feature/issue-12` · worktree `.worktrees/issue-12` · agent `claude` on `local`" in lines
    assert "Outcome" not in text


def test_running_without_todos_shows_the_phases() -> None:
    s = story()
    s.progressed(phase="testing", phases_done=2, last_activity="pytest -q")
    lines = render_progress_comment(s.task(), now=START + 5).splitlines()
    assert lines[3:7] == ["- [x] analysing", "- [x] implementing", "- [ ] **testing** ⏳", "- [ ] committing"]
    assert "_Last activity: pytest -q_" in lines


def test_success_checks_every_phase_and_summarises() -> None:
    s = story()
    s.progressed(phase="committing", phases_done=3)
    s.finished(succeeded())
    text = render_progress_comment(s.task(), now=START + 9999)
    assert "✅ waterspider: succeeded" in text
    assert text.count("- [x]") == 4
    assert "| 4m 12s | 12 | $0.42 |" in text and "2 commit(s), 5 file(s) changed." in text
    assert "**Outcome:** succeeded. Added the login form and its tests." in text


def test_failure_names_the_class_and_what_to_do_without_pinging_anyone() -> None:
    s = story()
    s.finished(failed(ErrorClass.MAX_TURNS, "Reached max turns (40) @someone"))
    text = render_progress_comment(s.task(), now=START + 9999)
    assert "❌ waterspider: failed" in text
    assert "**Outcome:** failed (`max_turns`)" in text
    assert advice_for(ErrorClass.MAX_TURNS) in text
    assert "@someone" not in text, "agent text must never @mention people"


def test_cancelled() -> None:
    s = story()
    s.finished(SessionResult(Outcome.CANCELLED))
    assert "**Outcome:** cancelled by the operator." in render_progress_comment(s.task(), now=START)


def test_failure_notice_mentions_operators_else_assignees() -> None:
    s = story()
    s.finished(failed(ErrorClass.AUTH, "401 invalid key"))
    task = s.task()
    assert failure_mentions(task, ["@alice", "bob", "alice"]) == ("alice", "bob")
    assert failure_mentions(task, []) == ("dev",)
    notice = render_failure_notice(task, ("alice", "bob"))
    assert notice.splitlines()[0] == "<!-- waterspider:failure session=s-1 -->"
    assert notice.count("@alice") == 1 and "@bob" in notice
    assert "`auth`" in notice and advice_for(ErrorClass.AUTH) in notice


def test_every_error_class_has_advice() -> None:
    assert set(ADVICE) == set(ErrorClass)
    assert advice_for(None)


def test_agent_text_is_made_safe() -> None:
    assert quiet("hi @team <!-- x --> \n next") == "hi @\u200bteam &lt;!-- x --&gt; next"
    assert len(quiet("x" * 1000, 50)) == 50
    assert format_duration(3725) == "1h 02m" and format_duration(9) == "9s"


def test_the_pull_request_opened_after_the_agent_is_linked() -> None:
    from dataclasses import replace

    s = story()
    s.finished(SessionResult(Outcome.SUCCEEDED, summary="done"))
    task = s.task()
    assert task.session is not None
    linked = replace(task, session=replace(task.session, facts={"pr_url": "https://github.com/o/r/pull/41"}))
    assert "**Pull request:** https://github.com/o/r/pull/41" in render_progress_comment(linked, now=START)
