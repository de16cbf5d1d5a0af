"""Each sink's cursor (the last event it has delivered), in the event log's own SQLite file."""

from __future__ import annotations

import sqlite3
from pathlib import Path

_SCHEMA = "CREATE TABLE IF NOT EXISTS sink_cursors(sink TEXT PRIMARY KEY, seq INTEGER NOT NULL)"


class SinkCursors:
    """Reads and moves sink cursors through a connection of its own on the log's file.

    Kept beside the events so that a restart resumes each sink exactly where it stopped;
    a sink never seen before starts at 0 (everything in the log is offered to it).
    """

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(_SCHEMA)

    def get(self, sink: str) -> int:
        row = self._db.execute("SELECT seq FROM sink_cursors WHERE sink=?", (sink,)).fetchone()
        return int(row[0]) if row else 0

    def set(self, sink: str, seq: int) -> None:
        self._db.execute(
            "INSERT INTO sink_cursors(sink, seq) VALUES (?, ?) ON CONFLICT(sink) DO UPDATE SET seq=excluded.seq",
            (sink, int(seq)),
        )

    def all(self) -> dict[str, int]:
        """Every sink's cursor, for `status` and tests."""
        return {str(sink): int(seq) for sink, seq in self._db.execute("SELECT sink, seq FROM sink_cursors")}

    def close(self) -> None:
        self._db.close()
