"""`waterspider log show` (an issue's session log, ended or running) and `log summarize` (any saved log)."""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Callable

import click

from waterspider_tui.cli.common import AGENT_KINDS, fail, read_store

FOLLOW_POLL_S = 0.5
"""How often `--follow` looks for new output."""
STORE_POLL_S = 2.0
"""How often `--follow` reads the store again to see whether the session has ended."""


@click.group()
def log() -> None:
    """Read session logs: an issue's (show) or any saved file (summarize)."""


@log.command("show")
@click.argument("issue")
@click.option("--attempt", type=click.IntRange(1), help="Which attempt (default: the last one).")
@click.option("--follow", "-f", is_flag=True, help="Keep printing new lines until the session ends (Ctrl-C stops).")
@click.option("--raw", is_flag=True, help="The agent's output as it wrote it, instead of readable lines (on a terminal, its control sequences shown as \\x1b..., not obeyed).")
@click.option("--config", type=click.Path(path_type=Path), help="waterspider.toml to read (default: ./waterspider.toml if present).")
@click.option("--store", type=click.Path(path_type=Path), help="The run's state file (default .waterspider/state.db in the repository).")
@click.option("--repo-path", type=click.Path(path_type=Path), help="The repository the run worked on (default: .).")
def log_show(issue: str, attempt: int | None, follow: bool, raw: bool, config: Path | None, store: Path | None, repo_path: Path | None) -> None:
    """Print the agent log of an issue's session (`12`, `#12`, `owner/name#12`), ended or running."""
    from waterspider_tui.adapters.agents.registry import parser_for
    from waterspider_tui.core.commands import resolve_issue
    from waterspider_tui.engine.session_logs import sessions_of

    settings, snapshot = read_store(config, store, repo_path)
    try:
        task = resolve_issue(snapshot, issue)
    except ValueError as error:
        fail(str(error))
    sessions = sessions_of(task)
    label = f"#{task.issue.number}"
    if not sessions:
        fail(f"{label} has not run yet: there is no log")
    chosen = attempt if attempt is not None else max(sessions)
    session = sessions.get(chosen)
    if session is None:
        fail(f"{label} has no attempt {chosen} (attempts: {', '.join(str(number) for number in sorted(sessions))})")
    attempt_label = f"{label} attempt {chosen}"
    state = task.state.value
    if task.result is not None and task.result.error_class is not None and chosen == max(sessions):
        state += f" ({task.result.error_class.value})"
    width = max(shutil.get_terminal_size((200, 24)).columns - 1, 80)
    printer = _Printer(parser_for(session.agent) if not raw else None, width, exact=not sys.stdout.isatty())
    heading = f"{label} {task.issue.title} · attempt {chosen} of {max(sessions)} · {session.agent} on {session.host or session.executor} · {state}"
    if session.executor == "ssh":
        _show_from_host(settings, session, attempt_label, heading, printer, follow, snapshot, task.key)
        return
    path = Path(session.log_path)
    if not path.is_absolute():
        path = settings.workspace.repo_path / path
    if not path.is_file():
        where = f"on {session.host} ({session.executor})" if session.executor != "local" else "here"
        fail(f"the log of {attempt_label} is not {where} at {path}: removed, or on another machine")
    click.echo(f"{heading} · {path}", err=True)
    offset = printer.feed(_read_file(path, 0))
    if not follow:
        printer.finish()
        return
    _follow(printer, lambda at: _read_file(path, at), offset, settings, snapshot, task.key, session.session_id)


def _read_file(path: Path, offset: int) -> bytes:
    if os.path.getsize(path) <= offset:
        return b""
    with open(path, "rb") as stream:
        stream.seek(offset)
        return stream.read()


def _show_from_host(
    settings: object, session: object, attempt_label: str, heading: str, printer: _Printer, follow: bool, snapshot: object, key: str,
) -> None:
    """The log of a session on an SSH host, read there (as the control center reads it)."""
    from waterspider_tui.cli.log_hosts import HostLog, LogNotReadable

    try:
        host_log = HostLog(settings, session, attempt_label)  # type: ignore[arg-type]
    except LogNotReadable as error:
        fail(str(error))
    try:
        try:
            host_log.check()
        except LogNotReadable as error:
            fail(str(error))
        click.echo(f"{heading} · {session.host}:{session.log_path}", err=True)  # type: ignore[attr-defined]
        offset = printer.feed(host_log.read(0))
        if not follow:
            printer.finish()
            return
        _follow(printer, host_log.read, offset, settings, snapshot, key, session.session_id)  # type: ignore[attr-defined]
    finally:
        host_log.close()


class _Printer:
    """Turns the agent's output into printed lines, a whole line at a time."""

    def __init__(self, parser: object | None, width: int, *, exact: bool = True) -> None:
        self.parser = parser
        self.width = width
        self.exact = exact
        """Raw lines byte for byte (into a pipe or file); else their control characters made visible,
        so an agent's OSC 52 cannot write the operator's clipboard nor a sequence move the cursor."""
        self.partial = b""

    def feed(self, chunk: bytes) -> int:
        """Print the whole lines `chunk` completes; how many bytes it had."""
        data = self.partial + chunk
        complete, _, self.partial = data.rpartition(b"\n")
        if complete or data.endswith(b"\n"):
            for line in complete.split(b"\n"):
                self._line(line.decode("utf-8", "replace"))
        return len(chunk)

    def _line(self, line: str) -> None:
        from waterspider_tui.text.log_text import log_lines, visible_controls

        if self.parser is None:
            click.echo(line if self.exact else visible_controls(line), color=True)
            return
        for text in log_lines(self.parser.feed(line), self.width):  # type: ignore[attr-defined]
            click.echo(text)

    def finish(self) -> None:
        if self.partial:
            self._line(self.partial.decode("utf-8", "replace"))
            self.partial = b""


def _follow(
    printer: _Printer, read_from: Callable[[int], bytes], offset: int, settings: object, snapshot: object, key: str, session_id: str,
) -> None:
    """Print new output until the session has ended (as the store says) or Ctrl-C."""
    from waterspider_tui.core.state import apply_all
    from waterspider_tui.store.event_log import EventLog

    log_file = EventLog(settings.store_path(), read_only=True)  # type: ignore[attr-defined]
    checked = time.monotonic()
    try:
        while True:
            time.sleep(FOLLOW_POLL_S)
            offset += printer.feed(read_from(offset))
            if time.monotonic() - checked >= STORE_POLL_S:
                checked = time.monotonic()
                snapshot = apply_all(snapshot, log_file.read(after_seq=snapshot.seq))  # type: ignore[attr-defined]
                task = snapshot.tasks.get(key)  # type: ignore[attr-defined]
                if task is None or task.session is None or task.session.session_id != session_id or task.state.value != "running":
                    printer.feed(read_from(offset))
                    printer.finish()
                    click.echo(f"(the session ended: {task.state.value if task else 'gone'})", err=True)
                    return
    except KeyboardInterrupt:
        printer.finish()
    finally:
        log_file.close()


@log.command("summarize")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--agent", type=click.Choice(AGENT_KINDS), help="Agent that wrote the log (detected when left out).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def log_summarize(path: Path, agent: str | None, as_json: bool) -> None:
    """Print the parsed summary of a session log: outcome, error class, turns, tools, cost."""
    from waterspider_tui.adapters.agents.summarize import format_summary, summarize_log

    summary = summarize_log(path, agent)
    click.echo(json.dumps(summary, indent=2, default=str) if as_json else format_summary(summary))
