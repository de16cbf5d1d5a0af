"""The reducer: events folded into immutable snapshots."""

from __future__ import annotations

from dataclasses import replace

import pytest

from core_builders import T0, finished, issue, key, seen, session, snapshot, started
from waterspider_tui.core import events as ev
from waterspider_tui.core.models import ErrorClass, HostStatus, Outcome, Progress, TaskState
from waterspider_tui.core.state import (
    HOST_HISTORY_KEPT, RECENT_EVENTS_KEPT, WARNINGS_KEPT, Snapshot, apply, apply_all, replay, utc_day,
)


def a_day_of_events() -> list[ev.Event]:
    """A varied history touching every kind of event, with sequence numbers like the store gives."""
    events: list[ev.Event] = [
        *seen(issue(1, labels=["P1"]), issue(2, deps=[1]), issue(3, body="blocked by #2"), issue(4), issue(5, closed=True)),
        ev.IssueRejected(ts=T0 + 1, path="/issues/9.md", error="9.md: 'title' is missing or empty"),
        ev.Warned(ts=T0 + 1, message="#3 refers to #99, which nobody knows", issue=key(3)),
        ev.IssueHeld(ts=T0 + 2, issue=key(4), reason="untrusted"),
        ev.PriorityBumped(ts=T0 + 3, issue=key(2), delta=2, by="op"),
        ev.IssuePinned(ts=T0 + 3, issue=key(3), pinned=True, by="op"),
        started(1, ts=T0 + 10),
        ev.SessionSpawned(ts=T0 + 11, issue=key(1), session_id="s-1-1", pid=4242),
        ev.SessionProgressed(ts=T0 + 12, issue=key(1), session_id="s-1-1", progress=Progress(phase="editing", turns=3)),
        ev.HostProbed(ts=T0 + 13, host=HostStatus(name="localhost", slots_total=4, load=0.5)),
        ev.SourcePolled(ts=T0 + 14, source="folder /issues", ok=True, message="5 issues"),
        finished(1, Outcome.FAILED, ts=T0 + 20, cost=0.25, error_class=ErrorClass.CRASHED, error="exit 1"),
        ev.RetryScheduled(ts=T0 + 21, issue=key(1), not_before=T0 + 51, error_class="crashed", resume_agent_session="agent-1"),
        started(1, ts=T0 + 60, attempt=2),
        finished(1, ts=T0 + 90, attempt=2, cost=0.5),
        ev.DispatcherPaused(ts=T0 + 91, by="op", reason="lunch"),
        ev.IssuePaused(ts=T0 + 92, issue=key(2), by="op"),
        ev.DispatcherResumed(ts=T0 + 93, by="op"),
        ev.IssueResumed(ts=T0 + 94, issue=key(2), by="op"),
        started(2, ts=T0 + 95),
        ev.CancelRequested(ts=T0 + 96, issue=key(2), by="op"),
        finished(2, Outcome.CANCELLED, ts=T0 + 97),
        ev.IssueRequeued(ts=T0 + 98, issue=key(2), by="op"),
        ev.IssueGone(ts=T0 + 99, issue=key(4), reason="closed upstream"),
        ev.SessionDetached(ts=T0 + 100, issue=key(2), session_id="s-2-1"),
    ]
    return [replace(event, seq=index) for index, event in enumerate(events, 1)]


def test_replay_equals_step_by_step_apply_and_any_batching() -> None:
    events = a_day_of_events()
    stepwise = Snapshot()
    for event in events:
        stepwise = apply(stepwise, event)
    assert replay(events) == stepwise
    assert apply_all(apply_all(Snapshot(), events[:7]), events[7:]) == stepwise
    assert replay(events[12:], start=replay(events[:12])) == stepwise
    assert stepwise.seq == len(events)
    assert stepwise.now == T0 + 100


def test_the_day_of_events_ends_where_expected() -> None:
    snap = replay(a_day_of_events())
    states = {k: task.state for k, task in snap.tasks.items()}
    assert states == {
        key(1): TaskState.SUCCEEDED, key(2): TaskState.QUEUED, key(3): TaskState.QUEUED,
        key(4): TaskState.GONE, key(5): TaskState.GONE,
    }
    first = snap.tasks[key(1)]
    assert first.attempts == 2
    assert [(a.attempt, a.outcome, a.error_class) for a in first.history] == [
        (1, Outcome.FAILED, ErrorClass.CRASHED), (2, Outcome.SUCCEEDED, None),
    ]
    assert snap.spend_on(utc_day(T0)) == pytest.approx(0.75)
    assert snap.tasks[key(2)].overrides.bump == 2
    assert snap.tasks[key(2)].overrides.paused is False
    assert snap.tasks[key(3)].overrides.pinned is True
    assert snap.tasks[key(4)].held_reason == "untrusted"
    assert snap.rejected == {"/issues/9.md": "9.md: 'title' is missing or empty"}
    assert snap.warnings == ("#3 refers to #99, which nobody knows",)
    assert snap.dispatcher_paused is False
    assert snap.hosts["localhost"].load_history == (0.5,)
    assert snap.sources["folder /issues"].message == "5 issues"


def test_snapshot_is_immutable() -> None:
    snap = snapshot(issue(1))
    with pytest.raises(TypeError):
        snap.tasks[key(2)] = snap.tasks[key(1)]  # type: ignore[index]
    with pytest.raises(AttributeError):
        snap.seq = 5  # type: ignore[misc]
    before = snap
    after = apply(snap, ev.IssuePaused(ts=T0, issue=key(1), by="op"))
    assert before.tasks[key(1)].overrides.paused is False
    assert after.tasks[key(1)].overrides.paused is True


def test_deps_merge_front_matter_and_body_references_without_self_references() -> None:
    snap = snapshot(issue(7, deps=[1, 2], body="depends on #2 and #3\n- [ ] #7\nafter other/x#4"))
    assert snap.tasks[key(7)].deps == (key(1), key(2), key(3), "other/x#4")


def test_session_started_and_finished_transitions() -> None:
    snap = snapshot(issue(1))
    assert snap.tasks[key(1)].state is TaskState.QUEUED
    running = apply(snap, started(1, ts=T0 + 5))
    task = running.tasks[key(1)]
    assert task.state is TaskState.RUNNING
    assert task.session == session(1)
    assert task.attempts == 1
    assert [t.key for t in running.running()] == [key(1)]

    spawned = apply(running, ev.SessionSpawned(ts=T0 + 6, issue=key(1), session_id="s-1-1", pid=99))
    assert spawned.tasks[key(1)].session.pid == 99
    progressed = apply(spawned, ev.SessionProgressed(ts=T0 + 7, issue=key(1), session_id="s-1-1", progress=Progress(phase="testing", turns=7)))
    assert progressed.tasks[key(1)].session.progress.phase == "testing"

    done = apply(progressed, finished(1, ts=T0 + 65, cost=1.5, duration_s=60.0, summary="fixed"))
    task = done.tasks[key(1)]
    assert task.state is TaskState.SUCCEEDED
    assert task.finished_at == T0 + 65
    assert task.result is not None and task.result.summary == "fixed"
    assert task.session is not None and task.session.session_id == "s-1-1", "the last session stays for the detail view"
    assert len(task.history) == 1
    attempt = task.history[0]
    assert (attempt.session_id, attempt.attempt, attempt.cost_usd, attempt.duration_s, attempt.host, attempt.log_path) == (
        "s-1-1", 1, 1.5, 60.0, "localhost", "/logs/1-1.jsonl",
    )


@pytest.mark.parametrize(("outcome", "state"), [(Outcome.FAILED, TaskState.FAILED), (Outcome.CANCELLED, TaskState.CANCELLED)])
def test_session_finished_outcomes(outcome: Outcome, state: TaskState) -> None:
    snap = snapshot(issue(1), events=[started(1), ev.CancelRequested(ts=T0, issue=key(1), by="op"), finished(1, outcome)])
    assert snap.tasks[key(1)].state is state
    assert snap.tasks[key(1)].cancel_requested is False


def test_a_session_stopped_before_its_agent_started_is_no_attempt() -> None:
    lost = finished(1, Outcome.FAILED, error_class=ErrorClass.LOST, error="the orchestrator stopped before the session's agent started")
    snap = snapshot(issue(1), events=[started(1), lost, ev.RetryScheduled(ts=T0, issue=key(1), not_before=T0, error_class="lost")])
    task = snap.tasks[key(1)]
    assert (task.state, task.attempts, task.history, task.result) == (TaskState.QUEUED, 0, (), None)
    again = apply_all(snap, [started(1, attempt=1, session_id="s-1-1b"), ev.SessionSpawned(ts=T0, issue=key(1), session_id="s-1-1b", pid=7),
                             finished(1, Outcome.FAILED, session_id="s-1-1b", error_class=ErrorClass.LOST)])
    assert [attempt.attempt for attempt in again.tasks[key(1)].history] == [1], "one whose agent ran is an attempt, whatever its class"


def test_session_events_for_a_stale_session_id_are_ignored() -> None:
    snap = snapshot(issue(1), events=[started(1, session_id="new")])
    after = apply_all(snap, [
        ev.SessionSpawned(ts=T0 + 1, issue=key(1), session_id="old", pid=1),
        ev.SessionProgressed(ts=T0 + 1, issue=key(1), session_id="old", progress=Progress(phase="zombie")),
        finished(1, Outcome.FAILED, ts=T0 + 2, session_id="old", cost=9.0),
    ])
    task = after.tasks[key(1)]
    assert task.state is TaskState.RUNNING
    assert task.session is not None and (task.session.pid, task.session.progress.phase) == (None, "starting")
    assert task.history == ()
    assert after.spend_by_day == {}


def test_a_second_finish_of_the_same_session_is_ignored() -> None:
    snap = snapshot(issue(1), events=[started(1), finished(1, cost=1.0)])
    again = apply(snap, finished(1, Outcome.FAILED, cost=1.0))
    assert again.tasks[key(1)].state is TaskState.SUCCEEDED
    assert len(again.tasks[key(1)].history) == 1
    assert again.spend_on(utc_day(T0)) == 1.0


def test_attempts_count_the_highest_attempt_started() -> None:
    snap = snapshot(issue(1), events=[
        started(1, attempt=1), finished(1, Outcome.FAILED),
        ev.IssueRequeued(ts=T0, issue=key(1), by="op"), started(1, attempt=2),
    ])
    assert snap.tasks[key(1)].attempts == 2
    assert snap.tasks[key(1)].result is None, "a new session clears the last result"


def test_spend_is_counted_per_utc_day_of_the_finish() -> None:
    assert utc_day(T0) == "2023-11-14"
    before_midnight = T0 + 6_000     # 23:53:20Z
    after_midnight = T0 + 7_000      # 00:10:00Z the next day
    snap = snapshot(issue(1), issue(2), issue(3), events=[
        started(1), finished(1, ts=before_midnight, cost=0.4),
        started(2), finished(2, Outcome.FAILED, ts=before_midnight + 1, cost=0.1),
        started(3), finished(3, ts=after_midnight, cost=2.0),
    ])
    assert dict(snap.spend_by_day) == {"2023-11-14": pytest.approx(0.5), "2023-11-15": 2.0}
    assert snap.spend_on("2023-11-16") == 0.0


def test_requeue_only_from_failed_or_cancelled() -> None:
    requeue = ev.IssueRequeued(ts=T0 + 50, issue=key(1), by="op")
    queued = snapshot(issue(1))
    assert apply(queued, requeue).tasks[key(1)] == queued.tasks[key(1)]
    running = apply(queued, started(1))
    assert apply(running, requeue).tasks[key(1)].state is TaskState.RUNNING
    succeeded = apply(running, finished(1))
    assert apply(succeeded, requeue).tasks[key(1)].state is TaskState.SUCCEEDED
    gone = snapshot(issue(1, closed=True))
    assert apply(gone, requeue).tasks[key(1)].state is TaskState.GONE
    for outcome in (Outcome.FAILED, Outcome.CANCELLED):
        ended = apply(running, finished(1, outcome))
        back = apply(ended, requeue).tasks[key(1)]
        assert (back.state, back.finished_at, back.not_before) == (TaskState.QUEUED, None, None)
        assert len(back.history) == 1, "history is kept across a requeue"


def test_retry_scheduled_requeues_with_backoff_and_resume() -> None:
    snap = snapshot(issue(1), events=[started(1), finished(1, Outcome.FAILED)])
    retry = ev.RetryScheduled(ts=T0 + 1, issue=key(1), not_before=T0 + 31, error_class="crashed", resume_agent_session="abc")
    task = apply(snap, retry).tasks[key(1)]
    assert (task.state, task.not_before, task.resume_agent_session) == (TaskState.QUEUED, T0 + 31, "abc")
    restarted = apply(apply(snap, retry), started(1, attempt=2)).tasks[key(1)]
    assert restarted.not_before is None
    # a retry of a task that succeeded meanwhile does nothing
    won = snapshot(issue(1), events=[started(1), finished(1)])
    assert apply(won, retry).tasks[key(1)].state is TaskState.SUCCEEDED


def test_issue_seen_closed_is_gone_and_reopening_queues_it_again() -> None:
    snap = snapshot(issue(1, closed=True))
    assert snap.tasks[key(1)].state is TaskState.GONE
    reopened = apply_all(snap, seen(issue(1)))
    assert reopened.tasks[key(1)].state is TaskState.QUEUED
    closed_again = apply_all(reopened, seen(issue(1, closed=True)))
    assert closed_again.tasks[key(1)].state is TaskState.GONE


def test_issue_seen_closed_while_running_or_finished_keeps_the_state() -> None:
    running = snapshot(issue(1), events=[started(1), *seen(issue(1, closed=True))])
    assert running.tasks[key(1)].state is TaskState.RUNNING
    assert running.tasks[key(1)].issue.closed is True
    done = snapshot(issue(1), events=[started(1), finished(1), *seen(issue(1, closed=True))])
    assert done.tasks[key(1)].state is TaskState.SUCCEEDED
    # and a succeeded issue seen open again is not run again
    assert apply_all(done, seen(issue(1))).tasks[key(1)].state is TaskState.SUCCEEDED


def test_issue_seen_updates_the_issue_and_keeps_the_first_seen_time() -> None:
    snap = snapshot(issue(1))
    changed = apply_all(snap, seen(replace(issue(1, labels=["P0"]), title="new title"), ts=T0 + 500))
    task = changed.tasks[key(1)]
    assert (task.issue.title, task.issue.labels, task.first_seen) == ("new title", ("P0",), T0)


def test_issue_seen_clears_an_earlier_rejection_of_its_file() -> None:
    fixed = replace(issue(1), source_path="/issues/001.md")
    snap = apply_all(Snapshot(), [ev.IssueRejected(ts=T0, path="/issues/001.md", error="bad"), *seen(fixed)])
    assert snap.rejected == {}


def test_issue_gone_only_affects_queued_tasks() -> None:
    gone = ev.IssueGone(ts=T0 + 9, issue=key(1), reason="closed")
    queued = apply(snapshot(issue(1)), gone).tasks[key(1)]
    assert (queued.state, queued.finished_at) == (TaskState.GONE, T0 + 9)
    running = snapshot(issue(1), events=[started(1), gone])
    assert running.tasks[key(1)].state is TaskState.RUNNING
    failed = snapshot(issue(1), events=[started(1), finished(1, Outcome.FAILED), gone])
    assert failed.tasks[key(1)].state is TaskState.FAILED
    succeeded = snapshot(issue(1), events=[started(1), finished(1), gone])
    assert succeeded.tasks[key(1)].state is TaskState.SUCCEEDED


def test_bumps_accumulate() -> None:
    snap = snapshot(issue(1), events=[
        ev.PriorityBumped(ts=T0, issue=key(1), delta=1, by="op"),
        ev.PriorityBumped(ts=T0, issue=key(1), delta=2, by="op"),
        ev.PriorityBumped(ts=T0, issue=key(1), delta=-1, by="op"),
    ])
    assert snap.tasks[key(1)].overrides.bump == 2


def test_events_for_unknown_issues_change_nothing() -> None:
    base = snapshot(issue(1))
    for event in [
        ev.PriorityBumped(ts=T0, issue=key(9), delta=1, by="op"), ev.IssuePaused(ts=T0, issue=key(9), by="op"),
        ev.IssueRequeued(ts=T0, issue=key(9), by="op"), ev.IssueGone(ts=T0, issue=key(9), reason="x"),
        started(9), finished(9), ev.CancelRequested(ts=T0, issue=key(9), by="op"),
    ]:
        assert apply(base, event).tasks == base.tasks


def test_dispatcher_pause_and_resume() -> None:
    paused = apply(Snapshot(), ev.DispatcherPaused(ts=T0, by="op"))
    assert (paused.dispatcher_paused, paused.pause_reason, paused.paused_until) == (True, "paused by op", None)
    limited = apply(paused, ev.DispatcherPaused(ts=T0, by="engine", reason="usage limit", until=T0 + 60))
    assert (limited.pause_reason, limited.paused_until) == ("usage limit", T0 + 60)
    resumed = apply(limited, ev.DispatcherResumed(ts=T0, by="op"))
    assert (resumed.dispatcher_paused, resumed.pause_reason, resumed.paused_until) == (False, "", None)


def test_recent_events_are_bounded_and_leave_out_noisy_ones() -> None:
    events: list[ev.Event] = []
    for n in range(RECENT_EVENTS_KEPT + 50):
        events.append(ev.Warned(ts=T0 + n, message=f"warning {n}", seq=2 * n + 1))
        events.append(ev.HostProbed(ts=T0 + n, host=HostStatus(name="h", slots_total=1, load=float(n)), seq=2 * n + 2))
    snap = replay(events)
    assert len(snap.recent) == RECENT_EVENTS_KEPT == 200
    assert all(isinstance(event, ev.Warned) for event in snap.recent)
    assert snap.recent[-1].message == f"warning {RECENT_EVENTS_KEPT + 49}"
    assert snap.recent[0].message == "warning 50"
    assert len(snap.warnings) == WARNINGS_KEPT == 100
    assert snap.warnings[-1] == f"warning {RECENT_EVENTS_KEPT + 49}"
    history = snap.hosts["h"].load_history
    assert len(history) == HOST_HISTORY_KEPT == 60
    assert history[-1] == float(RECENT_EVENTS_KEPT + 49)
    # the same bound holds when the events arrive one at a time
    stepwise = Snapshot()
    for event in events:
        stepwise = apply(stepwise, event)
    assert stepwise == snap


def test_host_probe_without_load_keeps_the_history() -> None:
    snap = replay([
        ev.HostProbed(ts=T0, host=HostStatus(name="h", slots_total=2, load=1.0)),
        ev.HostProbed(ts=T0 + 1, host=HostStatus(name="h", slots_total=2, reachable=False, error="timeout")),
    ])
    host = snap.hosts["h"]
    assert (host.reachable, host.error, host.load_history) == (False, "timeout", (1.0,))
