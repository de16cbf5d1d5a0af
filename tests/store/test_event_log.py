"""The SQLite event log: round trips, the one-live-session guard, WAL, schema versions."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from waterspider_tui.core import events as ev
from waterspider_tui.core.models import (
    ErrorClass, HostStatus, Issue, Outcome, Progress, SessionInfo, SessionResult,
)
from waterspider_tui.store.event_log import SCHEMA_VERSION, DuplicateSession, EventLog, SchemaError, StoreError

T0 = 1_700_000_000.25


def info(number: int, session_id: str, attempt: int = 1) -> SessionInfo:
    return SessionInfo(
        session_id=session_id, issue=f"o/r#{number}", attempt=attempt, executor="ssh", host="builder-2",
        worktree=f"/repo/.worktrees/issue-{number}", branch=f"feature/issue-{number}",
        log_path=f"/repo/.waterspider/logs/{session_id}.jsonl", started_at=T0, agent="claude",
        agent_session_id="9f1c", pid=31337, session_dir=f"/repo/.waterspider/sessions/{session_id}", spawned=True,
        placement="on builder-2: 3/4 slots", steps_done=("commits",), facts={"commits": 2, "pr_url": "https://x/pull/3"},
        progress=Progress(phase="testing", phases_done=2, phases_total=5, turns=12, cost_usd=0.42,
                          last_activity="Bash: pytest -q", last_output_at=T0 + 5,
                          todos=(("write the test", "completed"), ("fix the bug ✓", "in_progress"))),
    )


def start(number: int, session_id: str, ts: float = T0) -> ev.SessionStarted:
    return ev.SessionStarted(ts=ts, issue=f"o/r#{number}", session=info(number, session_id))


def finish(number: int, session_id: str, ts: float = T0 + 60) -> ev.SessionFinished:
    return ev.SessionFinished(ts=ts, issue=f"o/r#{number}", session_id=session_id, result=SessionResult(outcome=Outcome.SUCCEEDED))


def one_of_each() -> list[ev.Event]:
    """Every event type, each with non-default values in every field it has."""
    issue = Issue(
        repo="o/r", number=12, title="Fix the login crash 🔥", body="Depends on #7.\n\n```\ncode\n```",
        labels=("P1-High", "estimate:90m"), milestone="v1.0", depends_on=("o/r#7", "x/y#3"), estimate_min=90.0,
        created=T0 - 3600, closed=True, url="https://github.com/o/r/issues/12", assignees=("ada", "grace"),
        source_path="/issues/012-login.md", external_open=("x/y#3",), external_closed=("x/y#4",),
    )
    result = SessionResult(
        outcome=Outcome.FAILED, error_class=ErrorClass.USAGE_LIMIT, error="limit reached", summary="half done",
        turns=30, cost_usd=1.25, duration_s=321.5, exit_code=1, commits=2, files_changed=5, retry_at=T0 + 7200,
    )
    host = HostStatus(name="builder-2", slots_total=4, slots_used=3, reachable=False, load=2.5, mem_percent=71.5,
                      probed_at=T0, error="ssh: timeout", load_history=(1.0, 2.0, 2.5))
    return [
        ev.IssueSeen(ts=T0, issue_data=issue),
        ev.IssueGone(ts=T0, issue="o/r#12", reason="closed upstream"),
        ev.IssueRejected(ts=T0, path="/issues/bad.md", error="bad.md: no YAML front matter", issue="o/r#13"),
        ev.IssueHeld(ts=T0, issue="o/r#12", reason="untrusted label"),
        ev.Warned(ts=T0, message="#12 refers to #99", issue="o/r#12"),
        ev.SessionStarted(ts=T0, issue="o/r#12", session=info(12, "s-1")),
        ev.SessionSpawned(ts=T0, issue="o/r#12", session_id="s-1", pid=4242, reattached=True),
        ev.SessionProgressed(ts=T0, issue="o/r#12", session_id="s-1", progress=info(12, "s-1").progress),
        ev.SessionFinished(ts=T0, issue="o/r#12", session_id="s-1", result=result, will_retry=True, limit=True, host_wide=True),
        ev.AgentExited(ts=T0, issue="o/r#12", session_id="s-1", result=result),
        ev.StepStarted(ts=T0, issue="o/r#12", session_id="s-1", step="commits"),
        ev.StepFinished(ts=T0, issue="o/r#12", session_id="s-1", step="gate", ok=False, summary="2 tests failed",
                        error_class="gate_failed", facts={"commits": 2, "pr_url": "https://x/pull/3"}),
        ev.SessionDetached(ts=T0, issue="o/r#12", session_id="s-1"),
        ev.RetryScheduled(ts=T0, issue="o/r#12", not_before=T0 + 30, error_class="crashed", resume_agent_session="9f1c"),
        ev.DispatcherPaused(ts=T0, by="engine", reason="usage limit", until=T0 + 7200),
        ev.DispatcherResumed(ts=T0, by="op"),
        ev.IssuePaused(ts=T0, issue="o/r#12", by="op"),
        ev.IssueResumed(ts=T0, issue="o/r#12", by="op"),
        ev.PriorityBumped(ts=T0, issue="o/r#12", delta=-3, by="op"),
        ev.IssuePinned(ts=T0, issue="o/r#12", pinned=True, by="op"),
        ev.IssueRequeued(ts=T0, issue="o/r#12", by="op"),
        ev.CancelRequested(ts=T0, issue="o/r#12", by="op"),
        ev.HostDrained(ts=T0, host="builder-2", by="op"),
        ev.HostRestored(ts=T0, host="builder-2", by="op"),
        ev.HostProbed(ts=T0, host=host),
        ev.SourcePolled(ts=T0, source="github o/r", ok=False, message="502", next_poll=T0 + 10,
                        rate_remaining=4000, rate_limit=5000, wait_until=T0 + 60),
        ev.MilestoneIntegrated(ts=T0, repo="o/r", milestone="v1.0", branch="integration/v1.0", base="main", head="abc123",
                               issues=("o/r#7", "o/r#12"), gate_ok=False, gate_summary="2 failed", pull_request=30,
                               published="pull request #30 opened", summary="milestone v1.0: 2 issues integrated"),
        ev.MilestoneConflict(ts=T0, repo="o/r", milestone="v1.0", issue="o/r#12", branch="integration/v1.0", base="main",
                             files=("src/a.py", "README.md"), with_issues=("o/r#7",), with_base=True, merge_base="1a2b3c",
                             merged=("o/r#7",), not_merged=("o/r#12",), published="conflict told on #12", summary="milestone v1.0: conflict"),
        ev.MilestoneBlocked(ts=T0, repo="o/r", milestone="v1.0", reason="branch not found", issues=("o/r#12",), summary="not integrated"),
        ev.MilestoneClosed(ts=T0, repo="o/r", milestone="v1.0", number=3, pull_request=30),
        ev.PullRequestMerged(ts=T0, issue="o/r#12", number=31, url="https://x/pull/31"),
        ev.BlockersConflicted(
            ts=T0, issue="o/r#12", reason="#2 and #4 change the same lines", issues=("o/r#2", "o/r#4"), files=("a.py",),
            executor="local", host="local", heads=(("feature/issue-2", "ab12"), ("feature/issue-4", "cd34")),
        ),
    ]


@pytest.fixture
def log(tmp_path: Path):
    event_log = EventLog(tmp_path / "state" / "state.db")
    yield event_log
    event_log.close()


def test_every_event_type_round_trips(log: EventLog) -> None:
    events = one_of_each()
    assert {event.type for event in events} == set(ev.EVENT_TYPES), "add the new event type to one_of_each()"
    stored = log.append(events)
    assert [event.seq for event in stored] == list(range(1, len(events) + 1))
    assert stored == [replace(event, seq=seq) for seq, event in enumerate(events, 1)]
    read_back = list(log.read())
    assert read_back == stored
    assert [type(event) for event in read_back] == [type(event) for event in events]
    seen = read_back[0]
    assert isinstance(seen, ev.IssueSeen)
    assert seen.issue_data.labels == ("P1-High", "estimate:90m") and isinstance(seen.issue_data.labels, tuple)
    progressed = read_back[7]
    assert isinstance(progressed, ev.SessionProgressed)
    assert progressed.progress.todos == (("write the test", "completed"), ("fix the bug ✓", "in_progress"))
    done = read_back[8]
    assert isinstance(done, ev.SessionFinished) and done.result.error_class is ErrorClass.USAGE_LIMIT


def test_events_survive_reopening_the_file(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    first = EventLog(path)
    stored = first.append(one_of_each())
    first.close()
    again = EventLog(path)
    assert list(again.read()) == stored
    assert again.count() == len(stored)
    more = again.append([ev.Warned(ts=T0 + 1, message="after reopen")])
    assert more[0].seq == len(stored) + 1
    again.close()


def test_read_after_a_sequence_number(log: EventLog) -> None:
    log.append([ev.Warned(ts=T0 + n, message=str(n)) for n in range(5)])
    assert [event.message for event in log.read(after_seq=3)] == ["3", "4"]  # type: ignore[attr-defined]
    assert list(log.read(after_seq=5)) == []


def test_a_second_live_session_is_refused_and_nothing_of_the_batch_is_stored(log: EventLog) -> None:
    log.append([start(1, "s-a")])
    before = list(log.read())
    with pytest.raises(DuplicateSession, match="o/r#1 already has a live session s-a"):
        log.append([ev.Warned(ts=T0, message="in the same batch"), start(2, "s-b"), start(1, "s-c")])
    assert list(log.read()) == before
    assert log.count() == 1
    assert log.live_sessions() == {"o/r#1": "s-a"}
    # the log is still usable afterwards
    assert log.append([start(2, "s-b")])[0].seq > before[-1].seq
    assert log.live_sessions() == {"o/r#1": "s-a", "o/r#2": "s-b"}


def test_two_sessions_for_one_issue_in_one_batch_are_refused(log: EventLog) -> None:
    with pytest.raises(DuplicateSession):
        log.append([start(1, "s-a"), start(1, "s-b")])
    assert log.count() == 0
    assert log.live_sessions() == {}


def test_after_the_session_finishes_a_new_one_is_allowed(log: EventLog) -> None:
    log.append([start(1, "s-a")])
    log.append([finish(1, "some-other-session")])
    with pytest.raises(DuplicateSession):
        log.append([start(1, "s-b")])
    log.append([finish(1, "s-a")])
    assert log.live_sessions() == {}
    log.append([start(1, "s-b")])
    assert log.live_sessions() == {"o/r#1": "s-b"}
    # finish and restart in one batch works too
    log.append([finish(1, "s-b"), start(1, "s-c")])
    assert log.live_sessions() == {"o/r#1": "s-c"}


def test_live_sessions_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    first = EventLog(path)
    first.append([start(1, "s-a")])
    first.close()
    second = EventLog(path)
    with pytest.raises(DuplicateSession):
        second.append([start(1, "s-b")])
    second.close()


def test_wal_mode_is_on(log: EventLog) -> None:
    with sqlite3.connect(log.path) as other:
        assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_new_log_records_the_schema_version(log: EventLog) -> None:
    with sqlite3.connect(log.path) as other:
        assert other.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone() == (str(SCHEMA_VERSION),)


def _set_version(path: Path, version: int) -> None:
    with sqlite3.connect(path) as db:
        db.execute("UPDATE meta SET value=? WHERE key='schema_version'", (str(version),))


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    EventLog(path).close()
    _set_version(path, SCHEMA_VERSION + 1)
    with pytest.raises(SchemaError, match=f"newer waterspider \\(schema version {SCHEMA_VERSION + 1}, .*\\): upgrade waterspider"):
        EventLog(path)
    with pytest.raises(SchemaError):
        EventLog(path, read_only=True)


def test_the_current_or_an_older_schema_opens(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    EventLog(path).close()
    _set_version(path, SCHEMA_VERSION)
    EventLog(path).close()
    EventLog(path, read_only=True).close()


def test_unknown_event_types_from_a_newer_version_are_skipped(log: EventLog) -> None:
    log.append([ev.Warned(ts=T0, message="before")])
    with sqlite3.connect(log.path) as db:
        db.execute("INSERT INTO events(ts, type, issue, data) VALUES (?, 'from_the_future', NULL, '{}')", (T0,))
    log.append([ev.Warned(ts=T0, message="after")])
    assert [event.message for event in log.read()] == ["before", "after"]  # type: ignore[attr-defined]
    assert log.count() == 3


def test_an_older_stores_integration_warnings_read_as_milestone_events(log: EventLog) -> None:
    log.append([
        ev.Warned(ts=T0, message="reporting: milestones: milestone v1.0: conflict: #3 (feature/issue-3) conflicts with #1 in src/app.py"),
        ev.Warned(ts=T0, message="reporting: milestones: milestone v1.0: 3 issues integrated into integration/v1.0 at 0123; gate FAILED: tests"),
        ev.Warned(ts=T0, message="reporting: milestones: milestone v2: not integrated: branch not found for #4 (feature/issue-4)"),
        ev.Warned(ts=T0, message="reporting: notify.slack: answered 500; trying again in 1s"),
    ])
    with sqlite3.connect(log.path) as db:  # an older shape of a milestone event: fields missing, one unknown
        db.execute("INSERT INTO events(ts, type, issue, data) VALUES (?, 'milestone_integrated', NULL, ?)", (T0, '{"ts": 1.0, "repo": "o/r", "milestone": "v3", "gone": 1}'))
    conflict, integrated, blocked, warning, old_shape = log.read()
    assert isinstance(conflict, ev.MilestoneConflict) and conflict.milestone == "v1.0" and conflict.summary.startswith("milestone v1.0: conflict: #3")
    assert isinstance(integrated, ev.MilestoneIntegrated) and integrated.gate_ok is False and not integrated.ok
    assert isinstance(blocked, ev.MilestoneBlocked) and blocked.milestone == "v2" and blocked.reason.startswith("not integrated")
    assert isinstance(warning, ev.Warned)
    assert isinstance(old_shape, ev.MilestoneIntegrated) and old_shape.milestone == "v3" and old_shape.issues == () and old_shape.gate_ok is None


def test_read_only_open_works_while_a_writer_has_it_open(log: EventLog) -> None:
    log.append([ev.Warned(ts=T0, message="one"), start(1, "s-a")])
    reader = EventLog(log.path, read_only=True)
    try:
        assert [event.type for event in reader.read()] == ["warned", "session_started"]
        log.append([finish(1, "s-a")])
        assert [event.seq for event in reader.read(after_seq=2)] == [3]
        assert reader.live_sessions() == {}
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            reader.append([ev.Warned(ts=T0, message="not allowed")])
    finally:
        reader.close()
    assert log.count() == 3
    log.append([ev.Warned(ts=T0, message="writer still writes")])
    assert log.count() == 4


def test_read_only_open_of_a_missing_file_fails_without_creating_it(tmp_path: Path) -> None:
    path = tmp_path / "nothing.db"
    with pytest.raises(StoreError, match="no store here"):
        EventLog(path, read_only=True)
    assert not path.exists()
