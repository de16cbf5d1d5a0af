"""The append-only event log in SQLite (WAL), with the one-live-session-per-issue guard."""

from __future__ import annotations

import os
import sqlite3
from dataclasses import replace
from pathlib import Path
from typing import Collection, Iterable, Iterator

from waterspider_tui.core import events as ev
from waterspider_tui.store.codec import decode, encode
from waterspider_tui.store.store_file import SchemaError, StoreError, check_file, sqlite_error

__all__ = ["SCHEMA_VERSION", "DuplicateSession", "EventLog", "SchemaError", "StoreError"]

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


class DuplicateSession(RuntimeError):
    """A second live session for one issue was refused."""


class EventLog:
    """Appends events durably and reads them back in order."""

    def __init__(self, path: Path | str, *, read_only: bool = False) -> None:
        """Open the store at path, making a new one if none is there; anything unusable is a StoreError."""
        self.path = Path(path)
        self.read_only = read_only
        if check_file(self.path, read_only=read_only):
            self._create()
        try:
            if read_only:
                self._db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)
            else:
                self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA busy_timeout=5000")
        except sqlite3.Error as error:
            raise sqlite_error(self.path, error, read_only=read_only) from error
        try:
            self._check_version()  # before anything is written: a store this version cannot read stays as it is
            if not read_only:
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=NORMAL")
                _add_schema(self._db)
        except sqlite3.Error as error:
            self._db.close()
            raise sqlite_error(self.path, error, read_only=read_only) from error
        except BaseException:
            self._db.close()
            raise

    def _create(self) -> None:
        """Make a new store beside the path and link it into place whole, so the path never holds an empty file."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise StoreError(f"{self.path} cannot be created: {error.strerror} ({error.filename})") from error
        draft = self.path.with_name(f".{self.path.name}.{os.getpid()}.new")
        for leftover in (draft, draft.with_name(f"{draft.name}-wal"), draft.with_name(f"{draft.name}-shm")):
            leftover.unlink(missing_ok=True)
        try:
            db = sqlite3.connect(draft, isolation_level=None)
            try:
                db.execute("PRAGMA journal_mode=WAL")
                _add_schema(db)
            finally:
                db.close()  # writes it all into the file and removes its -wal and -shm
        except sqlite3.Error as error:
            draft.unlink(missing_ok=True)
            raise sqlite_error(self.path, error, read_only=False) from error
        try:
            os.link(draft, self.path)  # unlike a rename, never replaces a store another process made meanwhile
        except FileExistsError:
            pass
        except OSError:  # a file system without hard links
            os.replace(draft, self.path)
        draft.unlink(missing_ok=True)

    def _check_version(self) -> None:
        """Refuse a database that is not a store, or a store of a newer schema."""
        tables = {name for (name,) in self._db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if not tables and not self.read_only:
            return  # an empty database (an older version stopped while making the store): the schema is added
        if not {"meta", "events", "live_sessions"} <= tables:
            raise StoreError(f"{self.path} is not a waterspider store (an SQLite database without its tables)")
        row = self._db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        if row is not None and (not row[0].isdigit() or int(row[0]) > SCHEMA_VERSION):
            raise SchemaError(
                f"{self.path} was written by a newer waterspider (schema version {row[0]}, this one reads up to {SCHEMA_VERSION}): upgrade waterspider"
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

    def read(self, after_seq: int = 0, *, types: Collection[str] = ()) -> Iterator[ev.Event]:
        """Events after a sequence number, oldest first (only of `types` when given); types this
        version does not know are skipped."""
        try:
            if types:
                marks = ",".join("?" * len(types))
                query, values = f"SELECT seq, type, data FROM events WHERE seq > ? AND type IN ({marks}) ORDER BY seq", (after_seq, *types)
            else:
                query, values = "SELECT seq, type, data FROM events WHERE seq > ? ORDER BY seq", (after_seq,)
            cursor = self._db.execute(query, values)
            for seq, type_name, payload in cursor:
                if type_name in ev.EVENT_TYPES:
                    yield decode(type_name, payload, seq)
        except sqlite3.DatabaseError as error:  # a page damaged past what opening the store reads
            raise sqlite_error(self.path, error, read_only=self.read_only) from error

    def last_seq(self) -> int:
        """The seq of the newest stored event; 0 for an empty log."""
        return int(self._db.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()[0])

    def count(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM events").fetchone()[0])

    def close(self) -> None:
        self._db.close()


def _add_schema(db: sqlite3.Connection) -> None:
    """Create what is missing of this version's tables; a store without a version gets this one."""
    db.executescript(_SCHEMA)
    db.execute("INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))


def _with_seq(event: ev.Event, seq: int) -> ev.Event:
    return replace(event, seq=seq)
