"""`s` lends the terminal to a shell: the terminal notifier's bell and escape sequences wait
until the shell ends, then come once (one bell, one notification for all that came meanwhile).

The shell is a real `$SHELL` process; the test terminal cannot be suspended, so only its
`can_suspend` answer is changed (suspending and resuming run Textual's own code).
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import pytest
from textual.drivers.headless_driver import HeadlessDriver

from tests.waiting import until
from waterspider_tui.adapters.sinks.notify.messages import Message
from waterspider_tui.adapters.sinks.notify.terminal import TerminalChannel
from waterspider_tui.core import events as ev
from waterspider_tui.core.models import Progress

from .pilots import notifications, select, started
from .scenarios import Scenario, issue, key, mid_run_events, run, seen


def _local_session_scenario(worktree: Path) -> Scenario:
    events = run(470, "local", 60, Progress("implementing", 1, 3, 4, 0.1, "Edit a.py", 0.0), executor="local")
    first = events[0]
    assert isinstance(first, ev.SessionStarted)
    events[0] = replace(first, session=replace(first.session, worktree=str(worktree)))
    return Scenario("local_shell", [*mid_run_events(), *seen(issue(470, "Local work")), *events])


def _message(title: str, severity: str = "error") -> Message:
    return Message(title=title, sections=(), footer="waterspider", severity=severity, notices=1)


async def test_notifications_wait_for_the_shell_and_come_once_after(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    worktree = tmp_path / "issue-470"
    worktree.mkdir()
    in_shell, leave = tmp_path / "in-shell", tmp_path / "leave"
    shell = tmp_path / "shell.sh"
    shell.write_text(f'#!/bin/sh\ntouch "{in_shell}"\nwhile [ ! -e "{leave}" ]; do sleep 0.02; done\n')
    shell.chmod(0o755)
    monkeypatch.setenv("SHELL", str(shell))
    monkeypatch.setattr(HeadlessDriver, "can_suspend", property(lambda self: True))
    terminal = tmp_path / "terminal"
    terminal.write_text("")

    def write(text: str) -> None:
        with terminal.open("a") as out:
            out.write(text)

    async with started(_local_session_scenario(worktree)) as (app, engine, pilot):
        channel = TerminalChannel(write=write, environ={}, hold=engine.terminal_hold)
        await channel.send(_message("#440 failed"))
        assert terminal.read_text() == "\a\x1b]9;waterspider: #440 failed\a", "written at once while the control center has the terminal"
        terminal.write_text("")

        await select(pilot, key(470))
        await pilot.press("s")
        await until(in_shell.exists)
        await channel.send(_message("#441 failed"))
        await channel.send(_message("host mini-2 down", "warning"))
        assert terminal.read_text() == "", "nothing lands in the operator's shell"

        leave.touch()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "Back from the shell in #470's worktree." in notifications(app)
        assert terminal.read_text() == "\a\x1b]9;waterspider: #441 failed · host mini-2 down\a", "one bell, one notification"

        await channel.send(_message("#442 failed"))
        assert terminal.read_text().endswith("\a\x1b]9;waterspider: #442 failed\a"), "after the shell, written at once again"
        assert not engine.terminal_hold.held


def test_the_hold_nests_and_delivers_once_when_the_outer_one_ends() -> None:
    from waterspider_tui.adapters.sinks.terminal_hold import TerminalHold

    hold = TerminalHold()
    written: list[str] = []
    channel = TerminalChannel(write=written.append, environ={}, desktop="off", hold=hold)
    with hold.holding():
        with hold.holding():
            asyncio.run(channel.send(_message("#441 failed")))
        assert hold.held and written == []
        asyncio.run(channel.send(_message("#442 failed")))
    assert not hold.held and written == ["\a"], "one bell for both"
    with hold.holding():
        pass
    assert written == ["\a"], "nothing held, nothing written"


def test_the_engine_from_the_config_holds_its_terminal_notifier(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The wiring gives the terminal channel the engine's hold: what the control center holds, the notifier obeys."""
    from tests.git_checkout import make_checkout
    from waterspider_tui.adapters.sinks.notify.sink import NotifySink
    from waterspider_tui.config import Settings
    from waterspider_tui.engine.wiring import build_engine

    monkeypatch.chdir(tmp_path)
    repo = make_checkout(tmp_path / "repo")
    issues = tmp_path / "issues"
    issues.mkdir()
    settings = Settings(
        issues={"dir": issues}, workspace={"repo_path": repo}, notify={"terminal": {"enabled": True}},
        hosts=[{"name": "mini-1", "address": "127.0.0.1", "user": "ci", "repo_path": "~/src", "slots": 2}],
    )
    engine = build_engine(settings)
    channels = [sink.channel for sink in engine.sinks if isinstance(sink, NotifySink)]
    terminal = next(channel for channel in channels if isinstance(channel, TerminalChannel))
    written: list[str] = []
    terminal._write = written.append  # the real one writes to /dev/tty, which a test run may not have
    with engine.hold_terminal_output():
        asyncio.run(terminal.send(_message("#1 failed")))
        assert written == []
    assert written == ["\a\x1b]9;waterspider: #1 failed\a"]
    assert engine.configured_hosts == {"mini-1": 2}
