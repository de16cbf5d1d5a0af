"""The StateStore: durable first, then folded and published; reopening rebuilds the same state."""

from __future__ import annotations

from pathlib import Path

import pytest

from waterspider_tui.core import events as ev
from waterspider_tui.core.models import Issue, Outcome, SessionInfo, SessionResult, TaskState
from waterspider_tui.core.state import Snapshot, replay
from waterspider_tui.store.event_log import DuplicateSession, EventLog
from waterspider_tui.store.state_store import StateStore

T0 = 1_700_000_000.0


def seen(number: int, **fields: object) -> ev.IssueSeen:
    return ev.IssueSeen(ts=T0, issue_data=Issue(repo="local", number=number, title=f"issue {number}", created=T0, **fields))  # type: ignore[arg-type]


def start(number: int, session_id: str, ts: float = T0 + 1) -> ev.SessionStarted:
    session = SessionInfo(session_id=session_id, issue=f"local#{number}", attempt=1, executor="local", host="localhost",
                          worktree="", branch="", log_path="", started_at=ts)
    return ev.SessionStarted(ts=ts, issue=f"local#{number}", session=session)


def finish(number: int, session_id: str, outcome: Outcome = Outcome.SUCCEEDED, cost: float = 0.0, ts: float = T0 + 2) -> ev.SessionFinished:
    return ev.SessionFinished(ts=ts, issue=f"local#{number}", session_id=session_id, result=SessionResult(outcome=outcome, cost_usd=cost))


def history() -> list[ev.Event]:
    return [
        seen(1, labels=("P0",)), seen(2, depends_on=("local#1",)), seen(3, body="blocked by #2"),
        ev.PriorityBumped(ts=T0, issue="local#3", delta=2, by="op"),
        start(1, "a"), finish(1, "a", Outcome.FAILED, cost=0.3),
        ev.RetryScheduled(ts=T0 + 3, issue="local#1", not_before=T0 + 33, error_class="crashed"),
        start(1, "b", ts=T0 + 40), finish(1, "b", cost=0.7, ts=T0 + 90),
        start(2, "c", ts=T0 + 91),
        ev.DispatcherPaused(ts=T0 + 92, by="op", reason="lunch"),
        ev.IssueRejected(ts=T0 + 93, path="/issues/x.md", error="x.md: bad"),
    ]


def test_record_stores_folds_and_publishes(tmp_path: Path) -> None:
    store = StateStore(EventLog(tmp_path / "state.db"))
    assert store.snapshot == Snapshot()
    published: list[tuple[Snapshot, list[ev.Event]]] = []
    unsubscribe = store.subscribe(lambda snapshot, events: published.append((snapshot, events)))

    stored = store.record([seen(1), seen(2)])
    assert [event.seq for event in stored] == [1, 2]
    assert len(published) == 1
    snapshot, events = published[0]
    assert snapshot is store.snapshot
    assert events == stored
    assert set(snapshot.tasks) == {"local#1", "local#2"} and snapshot.seq == 2

    assert store.record([]) == []
    assert len(published) == 1, "an empty batch publishes nothing"

    unsubscribe()
    store.record([seen(3)])
    assert len(published) == 1
    assert "local#3" in store.snapshot.tasks
    store.log.close()


def test_reopened_store_rebuilds_the_same_snapshot(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    first = StateStore(EventLog(path))
    for event in history():
        first.record([event])
    snapshot = first.snapshot
    first.log.close()

    second = StateStore(EventLog(path))
    assert second.snapshot == snapshot
    assert second.snapshot.tasks["local#1"].state is TaskState.SUCCEEDED
    assert second.snapshot.tasks["local#1"].attempts == 1
    assert len(second.snapshot.tasks["local#1"].history) == 2
    assert second.snapshot.tasks["local#2"].state is TaskState.RUNNING
    assert second.snapshot.tasks["local#3"].overrides.bump == 2
    assert second.snapshot.spend_on("2023-11-14") == pytest.approx(1.0)
    assert second.snapshot.dispatcher_paused
    assert second.snapshot.seq == len(history())
    # and it equals a plain replay of what is in the file
    assert replay(EventLog(path, read_only=True).read()) == snapshot
    second.log.close()


def test_a_refused_session_leaves_the_snapshot_and_subscribers_alone(tmp_path: Path) -> None:
    store = StateStore(EventLog(tmp_path / "state.db"))
    store.record([seen(1), start(1, "a")])
    before = store.snapshot
    calls: list[object] = []
    store.subscribe(lambda snapshot, events: calls.append(events))
    with pytest.raises(DuplicateSession):
        store.record([ev.IssuePaused(ts=T0, issue="local#1", by="op"), start(1, "b")])
    assert store.snapshot is before
    assert calls == []
    assert store.snapshot.tasks["local#1"].session is not None
    assert store.snapshot.tasks["local#1"].session.session_id == "a"
    assert store.log.count() == 2
    store.log.close()


def test_a_reader_follows_a_live_writer(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    writer = StateStore(EventLog(path))
    writer.record(history()[:5])
    reader = EventLog(path, read_only=True)
    assert replay(reader.read()) == writer.snapshot
    writer.record(history()[5:])
    assert replay(reader.read()) == writer.snapshot
    reader.close()
    writer.log.close()
