"""Which stored events are worth a message, per channel; host reachability; milestones; idle; the digest; the terminal."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Sequence

import pytest

from waterspider_tui.adapters.sinks.notify import NoticeFinder, NoticeKind, NotifySink, TerminalChannel, build_notify_sinks, compose, terminal_sequence
from waterspider_tui.adapters.sinks.notify.messages import Message
from waterspider_tui.config import ConfigError, NotifySection, load_settings
from waterspider_tui.core import events as ev
from waterspider_tui.core.models import ErrorClass, HostStatus
from waterspider_tui.core.state import Snapshot

from .backlog import T0, failed, issue, key, ran, seen, snapshot_of, started, succeeded


def numbered(events: Sequence[ev.Event]) -> list[ev.Event]:
    return [type(event)(**{**event.__dict__, "seq": index + 1}) for index, event in enumerate(events)]


def told(finder: NoticeFinder, history: list[ev.Event], batch: list[ev.Event]) -> list[tuple[str, str, str]]:
    """(kind, label, text) of what the batch makes worth telling, with the history already stored."""
    events = numbered(history + batch)
    snapshot = snapshot_of(events)
    return [(notice.kind.value, notice.label, notice.text) for notice in finder.find(events[len(history):], snapshot)]


def test_a_failure_for_good_is_told_a_retried_or_host_wide_one_is_not() -> None:
    finder = NoticeFinder(kinds=["failed", "operator"])
    history = seen(issue(1, milestone=None), issue(2, milestone=None), issue(3, milestone=None)) + [started(1), started(2), started(3)]
    batch = [failed(1, will_retry=True), failed(2, host_wide=True, error_class=ErrorClass.AUTH), failed(3, error_class=ErrorClass.TIMEOUT)]
    assert told(finder, history, batch) == [("failed", "#3", "Task 3: timeout")]


def test_automatic_pauses_and_resumes_are_told_an_operators_own_pause_is_not() -> None:
    finder = NoticeFinder()
    batch = [
        ev.DispatcherPaused(ts=T0, by="operator", reason="lunch"),
        ev.DispatcherPaused(ts=T0, by="limit", reason="usage_limit: waiting for the reset", until=T0 + 3600),
        ev.DispatcherResumed(ts=T0, by="reset time reached"),
        ev.DispatcherPaused(ts=T0, by="budget", reason="daily budget reached: $50.10 of $50.00"),
        ev.DispatcherResumed(ts=T0, by="operator"),
    ]
    assert told(finder, [], batch) == [
        ("paused", "dispatch", "paused (limit): usage_limit: waiting for the reset; resumes at 09:00 UTC"),
        ("paused", "dispatch", "resumed (reset time reached)"),
        ("paused", "dispatch", "paused (budget): daily budget reached: $50.10 of $50.00"),
    ]


def test_a_host_going_down_is_told_once_and_its_return_too() -> None:
    finder = NoticeFinder(kinds=["host_down"])
    down = HostStatus(name="mini-2", slots_total=4, reachable=False, error="connection refused", probed_at=T0)
    up = HostStatus(name="mini-2", slots_total=4, reachable=True, probed_at=T0 + 60)
    stored = [ev.HostProbed(ts=T0, host=down, seq=1), ev.HostProbed(ts=T0 + 5, host=down, seq=2), ev.HostProbed(ts=T0 + 60, host=up, seq=3)]
    found = [(notice.label, notice.text) for notice in finder.find(stored, Snapshot())]
    assert found == [("mini-2", "unreachable: connection refused"), ("mini-2", "reachable again")]


def test_a_host_down_only_in_the_snapshot_is_told_at_the_next_delivery() -> None:
    """Probes are recorded transient (not stored); until the engine stores reachability changes,
    the notifier reads them from the snapshot whenever it delivers anything."""
    finder = NoticeFinder()
    host = HostStatus(name="mini-3", slots_total=2, reachable=False, error="timed out", probed_at=T0)
    snapshot = snapshot_of(seen(issue(1, milestone=None)) + [started(1)])
    snapshot = Snapshot(**{**snapshot.__dict__, "hosts": {"mini-3": host}})
    first = finder.find(numbered([ev.Warned(ts=T0, message="x")]), snapshot)
    again = finder.find(numbered([ev.Warned(ts=T0, message="y")]), snapshot)
    assert [(notice.kind, notice.label) for notice in first] == [(NoticeKind.HOST_DOWN, "mini-3")] and again == []


def test_held_issues_and_cycles_need_the_operator() -> None:
    finder = NoticeFinder(kinds=["operator"])
    history = seen(issue(1, milestone=None))
    batch = [
        ev.IssueHeld(ts=T0, issue=key(1), reason="the trigger label was applied by someone without write access"),
        ev.IssueHeld(ts=T0, issue=key(1), reason=""),
        ev.Warned(ts=T0, message="dependency cycle #2 → #3 → #2: these issues are held until it is broken"),
        ev.Warned(ts=T0, message="reporting: github: rate-limited"),
    ]
    assert [kind_label[:2] for kind_label in told(finder, history, batch)] == [("operator", "#1"), ("operator", "cycle")]


def test_a_milestone_is_told_complete_once_by_its_last_issue_and_blocked_by_a_failure() -> None:
    finder = NoticeFinder(kinds=["milestone"])
    history = seen(issue(1), issue(2, deps=[1]), issue(3), issue(4, milestone="v2.0"), issue(5, milestone="v2.0", deps=[4]))
    history += ran(1, T0 + 1) + ran(3, T0 + 3) + [started(2, T0 + 4), started(4, T0 + 4)]
    batch = [succeeded(2, T0 + 5), failed(4, T0 + 5)]
    assert told(finder, history, batch) == [
        ("milestone", "v1.0", "complete: 3 issues done"),
        ("milestone", "v2.0", "blocked by #4: 0/2 done · 1 blocked · 1 failed (blocked by #4)"),
    ]
    assert told(finder, history + batch, []) == []


def test_the_run_is_told_idle_once_when_nothing_is_left_to_run() -> None:
    finder = NoticeFinder(kinds=["idle"])
    history = seen(issue(1, milestone=None), issue(2, milestone=None), issue(3, milestone=None, deps=[2])) + ran(1) + [started(2)]
    [(kind, label, text)] = told(finder, history, [failed(2)])
    assert kind == "idle" and text == "nothing left to run: 1 succeeded, 1 failed, 1 waiting; $1.75 spent"
    busy = seen(issue(1, milestone=None), issue(2, milestone=None)) + [started(1), started(2)]
    assert told(NoticeFinder(kinds=["idle"]), busy, [succeeded(1)]) == [], "one still runs"


def test_each_channel_hears_only_the_kinds_it_wants() -> None:
    finder = NoticeFinder(kinds=["paused"])
    assert not finder.wants(failed(1)) and finder.wants(ev.DispatcherPaused(ts=T0, by="limit"))
    history = seen(issue(1, milestone=None)) + [started(1)]
    assert told(finder, history, [failed(1)]) == []


class Written:
    def __init__(self) -> None:
        self.parts: list[str] = []

    def __call__(self, text: str) -> None:
        self.parts.append(text)


async def test_the_terminal_rings_and_notifies_once_per_batch() -> None:
    written = Written()
    clock = [T0]
    sink = NotifySink(TerminalChannel(write=written, environ={}), kinds=["failed"], gather_s=1, min_interval_s=10, digest_at_utc="", clock=lambda: clock[0])
    events = numbered(seen(issue(1, milestone=None), issue(2, milestone=None)) + [started(1), started(2), failed(1), failed(2)])
    snapshot = snapshot_of(events)
    assert await sink.deliver([event for event in events if sink.wants(event)], snapshot) == []
    assert written.parts == [] and sink.due_at() == T0 + 1
    clock[0] += 1
    assert await sink.deliver([], snapshot) == []
    assert written.parts == ["\a\x1b]9;waterspider: 2 issues failed\a"]


def test_terminal_sequences_are_clean() -> None:
    events = numbered(seen(issue(1, milestone=None, title="evil\x07\x1b]9;x;y")) + [started(1), failed(1)])
    message = compose(NoticeFinder(kinds=["failed"]).find(events, snapshot_of(events)), now=T0)
    osc9 = terminal_sequence(message, bell=False)
    assert osc9 == "\x1b]9;waterspider: 1 issue failed\a"
    osc777 = terminal_sequence(message, bell=True, desktop="osc777")
    assert osc777.startswith("\a\x1b]777;notify;waterspider: 1 issue failed;#1 evil") and osc777.count("\a") == 2 and osc777.count(";") == 3
    wrapped = terminal_sequence(message, bell=False, tmux=True)
    assert wrapped == "\x1bPtmux;\x1b\x1b]9;waterspider: 1 issue failed\a\x1b\\"
    assert terminal_sequence(Message("t", (), "f", "info", 0), bell=False, desktop="off") == ""


def test_notify_settings_build_one_sink_per_channel_with_its_url(tmp_path: Path) -> None:
    config = tmp_path / "waterspider.toml"
    config.write_text(
        '[notify]\ngather_s = 2\ndigest_at_utc = "18:30"\n'
        '[notify.slack]\nevents = ["failed", "milestone"]\nmention = ["<!here>"]\n'
        f'[notify.discord]\nwebhook_url_file = "{tmp_path / "discord-url"}"\n'
        '[notify.terminal]\nenabled = true\ndesktop = "osc777"\n'
        '[milestones]\nenabled = true\npublish = "none"\n'
    )
    (tmp_path / "discord-url").write_text("https://discord.com/api/webhooks/1/token\n")
    settings = load_settings(config)
    assert settings.milestones.enabled and settings.milestones.publish == "none"
    sinks = build_notify_sinks(settings.notify, log=None, cursors=None, environ={"WATERSPIDER_SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T/B/x"})  # type: ignore[arg-type]
    assert [sink.name for sink in sinks] == ["notify.slack", "notify.discord", "notify.terminal"]
    assert sinks[0].kinds == {NoticeKind.FAILED, NoticeKind.MILESTONE} and sinks[0].mentions == ()
    assert sinks[1].mentions == () and sinks[2].channel.desktop == "osc777"
    assert build_notify_sinks(NotifySection(), log=None, cursors=None, environ={}) == []  # type: ignore[arg-type]


def test_a_webhook_url_in_the_file_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "waterspider.toml"
    config.write_text('[notify.slack]\nwebhook_url = "https://hooks.slack.com/services/T/B/x"\n')
    with pytest.raises(ConfigError, match="notify.slack.webhook_url"):
        load_settings(config)
    config.write_text('[notify]\ndigest_at_utc = "25:00"\n')
    with pytest.raises(ConfigError, match="HH:MM"):
        load_settings(config)


def test_what_the_milestone_integrator_reported_is_told_a_conflict_to_the_operator() -> None:
    finder = NoticeFinder(kinds=["milestone"])
    conflict = ev.MilestoneConflict(
        ts=T0, repo="local", milestone="v1.0", issue="local#3", files=("src/app.py",), with_issues=("local#1",), merge_base="1a2b3c4d5e",
        summary="milestone v1.0: conflict: #3 (feature/issue-3) conflicts with #1 (feature/issue-1) in src/app.py (merge base 1a2b3c4d5e)",
    )
    done = ev.MilestoneIntegrated(
        ts=T0, repo="local", milestone="v1.0", branch="integration/v1.0", issues=("local#1", "local#2"), gate_ok=True,
        summary="milestone v1.0: 5 issues integrated into integration/v1.0 at 0123456789; gate passed: tests ok (1.0s)",
    )
    failed_gate = ev.MilestoneIntegrated(ts=T0, repo="local", milestone="v2.0", gate_ok=False, summary="milestone v2.0: 2 issues integrated; gate FAILED")
    closed = ev.MilestoneClosed(ts=T0, repo="acme/app", milestone="v1.0", number=3, pull_request=10)
    # The same words in a warning are only a warning: the notifier matches the event, not its text.
    lookalike = ev.Warned(ts=T0, message="reporting: milestones: milestone v1.0: conflict: #3 conflicts with #1 in src/app.py")
    assert finder.wants(conflict) and finder.wants(closed) and not finder.wants(lookalike)
    found = finder.find(numbered([conflict, done, failed_gate, closed, lookalike]), Snapshot())
    assert [(notice.label, notice.severity, notice.needs_operator) for notice in found] == [
        ("v1.0", "warning", True), ("v1.0", "info", False), ("v2.0", "warning", True), ("v1.0", "info", False)]
    assert found[0].text.startswith("conflict: #3 (feature/issue-3) conflicts with #1")
    assert found[3].text == "closed: integration pull request #10 merged"
    assert not NoticeFinder(kinds=["failed"]).wants(conflict), "switchable per channel"
    [handed_back] = finder.find(numbered([replace(conflict, requeued=True)]), Snapshot())
    assert handed_back.severity == "warning" and not handed_back.needs_operator, "its agent resolves it: nobody is paged"
