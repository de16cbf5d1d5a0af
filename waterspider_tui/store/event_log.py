"""The append-only event log in SQLite (WAL), with the one-live-session-per-issue guard."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path
from typing import Iterable, Iterator

from waterspider_tui.core import events as ev
from waterspider_tui.store.codec import decode, encode

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    ts REAL NOT NULL,
    type TEXT NOT NULL,
    issue TEXT,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_issue ON events(issue);
CREATE TABLE IF NOT EXISTS live_sessions (
    issue TEXT PRIMARY KEY,
    session_id TEXT NOT NULL,
    started_seq INTEGER NOT NULL
);
"""


class SchemaError(RuntimeError):
    """The database was written by a newer (or unknown) schema."""


class DuplicateSession(RuntimeError):
    """A second live session for one issue was refused."""


class EventLog:
    """Appends events durably and reads them back in order."""

    def __init__(self, path: Path | str, *, read_only: bool = False) -> None:
        self.path = Path(path)
        if read_only:
            self._db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)
            self._check_version(read_only=True)
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA busy_timeout=5000")
            self._db.executescript(_SCHEMA)
            self._check_version()

    def _check_version(self, *, read_only: bool = False) -> None:
        """Refuse a log written by a newer schema; a new writable log gets this version."""
        try:
            row = self._db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        except sqlite3.OperationalError:
            if read_only:
                return  # no tables yet: a writer is still creating the log
            raise
        if row is None:
            if not read_only:
                self._db.execute("INSERT INTO meta(key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
        elif int(row[0]) > SCHEMA_VERSION:
            raise SchemaError(
                f"{self.path} has schema version {row[0]}, this waterspider knows up to {SCHEMA_VERSION}: upgrade waterspider"
            )

    def append(self, events: Iterable[ev.Event]) -> list[ev.Event]:
        """Store events in one transaction and return them with their sequence numbers.

        A SessionStarted for an issue that already has a live session is refused with
        DuplicateSession and nothing of the batch is stored.
        """
        stored: list[ev.Event] = []
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            for event in events:
                cursor = db.execute(
                    "INSERT INTO events(ts, type, issue, data) VALUES (?, ?, ?, ?)",
                    (event.ts, event.type, event.issue_key, encode(event)),
                )
                seq = int(cursor.lastrowid or 0)
                self._guard_sessions(event, seq)
                stored.append(_with_seq(event, seq))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return stored

    def _guard_sessions(self, event: ev.Event, seq: int) -> None:
        if isinstance(event, ev.SessionStarted):
            live = self._db.execute("SELECT session_id FROM live_sessions WHERE issue=?", (event.issue,)).fetchone()
            if live is not None:
                raise DuplicateSession(f"{event.issue} already has a live session {live[0]}")
            self._db.execute(
                "INSERT INTO live_sessions(issue, session_id, started_seq) VALUES (?, ?, ?)",
                (event.issue, event.session.session_id, seq),
            )
        elif isinstance(event, ev.SessionFinished):
            self._db.execute("DELETE FROM live_sessions WHERE issue=? AND session_id=?", (event.issue, event.session_id))

    def live_sessions(self) -> dict[str, str]:
        return dict(self._db.execute("SELECT issue, session_id FROM live_sessions").fetchall())

    def read(self, after_seq: int = 0) -> Iterator[ev.Event]:
        """Events after a sequence number, oldest first; types this version does not know are skipped."""
        cursor = self._db.execute("SELECT seq, type, data FROM events WHERE seq > ? ORDER BY seq", (after_seq,))
        for seq, type_name, payload in cursor:
            if type_name in ev.EVENT_TYPES:
                yield decode(type_name, payload, seq)

    def count(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM events").fetchone()[0])

    def close(self) -> None:
        self._db.close()


def _with_seq(event: ev.Event, seq: int) -> ev.Event:
    return replace(event, seq=seq)
