"""The operator's rules, `apply_command`: the events a command becomes and the words it answers with."""

from __future__ import annotations

import pytest

from tests.core.core_builders import T0, finished, issue, key, snapshot, started
from waterspider_tui.core import commands as cmd
from waterspider_tui.core import events as ev
from waterspider_tui.core.models import Outcome


def test_pause_and_resume_dispatch() -> None:
    events, message = cmd.apply_command(snapshot(issue(1)), cmd.PauseDispatcher(), T0)
    assert [type(e) for e in events] == [ev.DispatcherPaused]
    assert message == "dispatch paused: running sessions go on, no new ones start"
    paused = snapshot(issue(1), events=events)
    with pytest.raises(ValueError, match="already paused"):
        cmd.apply_command(paused, cmd.PauseDispatcher(), T0)
    assert cmd.apply_command(paused, cmd.ResumeDispatcher(), T0)[1] == "dispatch resumed"
    with pytest.raises(ValueError, match="not paused"):
        cmd.apply_command(snapshot(issue(1)), cmd.ResumeDispatcher(), T0)


def test_pause_of_a_running_issue_says_its_session_goes_on() -> None:
    queued = snapshot(issue(1))
    assert cmd.apply_command(queued, cmd.PauseIssue(issue=key(1)), T0)[1] == "#1 paused"
    running = snapshot(issue(1), events=[started(1)])
    events, message = cmd.apply_command(running, cmd.PauseIssue(issue=key(1)), T0)
    assert message == "#1 paused (its running session goes on)"
    paused = snapshot(issue(1), events=[started(1), *events])
    with pytest.raises(ValueError, match="#1 is already paused"):
        cmd.apply_command(paused, cmd.PauseIssue(issue=key(1)), T0)
    assert cmd.apply_command(paused, cmd.ResumeIssue(issue=key(1)), T0)[1] == "#1 resumed"


def test_bump_pin_requeue_and_cancel_texts() -> None:
    state = snapshot(issue(1), issue(2), events=[started(2)])
    assert cmd.apply_command(state, cmd.Bump(issue=key(1), delta=1), T0)[1] == "#1 priority raised (bump +1)"
    assert cmd.apply_command(state, cmd.Bump(issue=key(1), delta=-1), T0)[1] == "#1 priority lowered (bump -1)"
    assert cmd.apply_command(state, cmd.Pin(issue=key(1)), T0)[1] == "#1 pinned to the top"
    assert cmd.apply_command(state, cmd.Pin(issue=key(1), pinned=False), T0)[1] == "#1 unpinned"
    with pytest.raises(ValueError, match="#1 is queued: only a running session can be cancelled"):
        cmd.apply_command(state, cmd.Cancel(issue=key(1)), T0)
    events, message = cmd.apply_command(state, cmd.Cancel(issue=key(2)), T0)
    assert message == "cancelling #2" and isinstance(events[0], ev.CancelRequested)
    with pytest.raises(ValueError, match="#2 is running: only failed or cancelled issues can be requeued"):
        cmd.apply_command(state, cmd.Requeue(issue=key(2)), T0)
    failed = snapshot(issue(2), events=[started(2), finished(2, Outcome.FAILED)])
    assert cmd.apply_command(failed, cmd.Requeue(issue="#2"), T0)[1] == "#2 requeued"
    with pytest.raises(ValueError, match="#2 is failed; requeue it first"):
        cmd.apply_command(failed, cmd.Bump(issue=key(2)), T0)


def test_an_unknown_issue_and_the_long_key_form() -> None:
    with pytest.raises(ValueError, match="no issue #9"):
        cmd.apply_command(snapshot(issue(1)), cmd.Pin(issue="#9"), T0)
    events, message = cmd.apply_command(snapshot(issue(1)), cmd.Pin(issue="1"), T0, display_key=lambda k: k)
    assert message == "o/r#1 pinned to the top" and events[0].issue == key(1)  # type: ignore[attr-defined]


def test_drain_and_restore_a_host() -> None:
    from waterspider_tui.core.models import HostStatus
    from waterspider_tui.core.state import apply_all

    state = snapshot(issue(1), events=[started(1), ev.HostProbed(ts=T0, host=HostStatus(name="localhost", slots_total=2))])
    events, message = cmd.apply_command(state, cmd.DrainHost(host="localhost"), T0)
    assert message == "localhost drained: no new sessions there, its 1 running go on"
    drained = apply_all(state, events)
    assert drained.draining == frozenset({"localhost"})
    with pytest.raises(ValueError, match="already drained"):
        cmd.apply_command(drained, cmd.DrainHost(host="localhost"), T0)
    with pytest.raises(ValueError, match="no host mini-9"):
        cmd.apply_command(drained, cmd.DrainHost(host="mini-9"), T0)
    events, message = cmd.apply_command(drained, cmd.RestoreHost(host="localhost"), T0)
    assert message == "localhost takes new sessions again" and apply_all(drained, events).draining == frozenset()
