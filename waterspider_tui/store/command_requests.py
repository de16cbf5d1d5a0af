"""Commands for a running orchestrator, written by another process into the store's SQLite file.

A `--no-ui` run has no control center, so `waterspider requeue` and its kin reach the run
through the store it already has open: the command line adds a request, the running engine
carries it out on its next look and writes one reply per command, and the command line prints
those replies. A request nobody has taken can be withdrawn, so a command line that gave up
waiting never sees its request carried out later behind its back.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from waterspider_tui.core import commands as cmd

_SCHEMA = """
CREATE TABLE IF NOT EXISTS command_requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    requested_at REAL NOT NULL,
    commands TEXT NOT NULL,
    replies TEXT
)
"""

_COMMAND_KINDS: dict[str, type[cmd.Command]] = {
    kind.__name__: kind
    for kind in (
        cmd.PauseDispatcher, cmd.ResumeDispatcher, cmd.PauseIssue, cmd.ResumeIssue, cmd.Bump, cmd.Pin,
        cmd.Requeue, cmd.Cancel, cmd.DrainHost, cmd.RestoreHost, cmd.Refresh,
    )
}


@dataclass(frozen=True)
class Reply:
    """What became of one command: its confirmation line, or why it did not apply."""

    ok: bool
    message: str


@dataclass(frozen=True)
class Request:
    id: int
    commands: list[cmd.Command]


class CommandRequests:
    """The request table, through a connection of its own on the store's file (WAL)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        try:
            self._db.execute("PRAGMA busy_timeout=5000")
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(_SCHEMA)
        except sqlite3.Error:
            self._db.close()
            raise

    def submit(self, commands: list[cmd.Command]) -> int:
        cursor = self._db.execute(
            "INSERT INTO command_requests(requested_at, commands) VALUES (?, ?)",
            (time.time(), json.dumps([encode_command(command) for command in commands])),
        )
        return int(cursor.lastrowid or 0)

    def pending(self) -> list[Request]:
        """Requests not yet answered, oldest first; a command this version does not know is answered as such."""
        rows = self._db.execute("SELECT id, commands FROM command_requests WHERE replies IS NULL ORDER BY id").fetchall()
        requests = []
        for row_id, payload in rows:
            try:
                commands = [decode_command(item) for item in json.loads(payload)]
            except (ValueError, TypeError, AttributeError):  # not written by a waterspider: answered, never carried out
                self.answer(int(row_id), [Reply(False, "the request could not be read")])
                continue
            requests.append(Request(int(row_id), commands))
        return requests

    def answer(self, request_id: int, replies: list[Reply]) -> None:
        self._db.execute(
            "UPDATE command_requests SET replies=? WHERE id=? AND replies IS NULL",
            (json.dumps([asdict(reply) for reply in replies]), request_id),
        )

    def replies(self, request_id: int) -> list[Reply] | None:
        """The replies to a request, or None while it waits (or once it was withdrawn)."""
        row = self._db.execute("SELECT replies FROM command_requests WHERE id=?", (request_id,)).fetchone()
        if row is None or row[0] is None:
            return None
        return [Reply(bool(item["ok"]), str(item["message"])) for item in json.loads(row[0])]

    def withdraw(self, request_id: int) -> bool:
        """Take back a request nobody answered; False when it was answered meanwhile (read its replies)."""
        cursor = self._db.execute("DELETE FROM command_requests WHERE id=? AND replies IS NULL", (request_id,))
        return cursor.rowcount > 0

    def close(self) -> None:
        self._db.close()


def encode_command(command: cmd.Command) -> dict[str, Any]:
    return {"kind": type(command).__name__, **asdict(command)}


def decode_command(item: dict[str, Any]) -> cmd.Command:
    kind = _COMMAND_KINDS.get(str(item.get("kind")))
    if kind is None:
        return UnknownCommand(kind=str(item.get("kind")))
    known = {field.name for field in fields(kind)}
    return kind(**{name: value for name, value in item.items() if name in known})


@dataclass(frozen=True)
class UnknownCommand(cmd.Command):
    """A command a newer waterspider asked for: answered as not understood, never guessed at."""

    kind: str = ""
