"""Tails one session's stdout file through its agent's parser, line by line, memory bounded."""

from __future__ import annotations

from collections import deque
from pathlib import Path

from waterspider_tui.adapters.agents.base import LogEntry, StreamParser

READ_CHUNK = 1 << 20
MAX_LINE_BYTES = 4 << 20
"""A longer line is cut: the start goes to the parser, the rest up to the newline is skipped."""
LOG_LINES_KEPT = 2000


class SessionWatch:
    """Reads what a session printed since the last call and keeps a bounded readable log."""

    def __init__(self, stdout_path: Path, parser: StreamParser) -> None:
        self.stdout_path = stdout_path
        self.parser = parser
        self.offset = 0
        self._partial = b""
        self._skipping = False
        self.log: deque[LogEntry] = deque(maxlen=LOG_LINES_KEPT)
        self.bytes_read = 0

    def read_new(self, *, final: bool = False) -> list[LogEntry]:
        """Parse every complete line written since the last call (and the tail when final)."""
        entries: list[LogEntry] = []
        try:
            with open(self.stdout_path, "rb") as stream:
                stream.seek(self.offset)
                while True:
                    chunk = stream.read(READ_CHUNK)
                    if not chunk:
                        break
                    self.offset += len(chunk)
                    self.bytes_read += len(chunk)
                    entries.extend(self._take(chunk))
                    if not final and len(chunk) < READ_CHUNK:
                        break
        except FileNotFoundError:
            pass
        if final and self._partial:
            entries.extend(self._feed(self._partial))
            self._partial = b""
        self.log.extend(entries)
        return entries

    def _take(self, chunk: bytes) -> list[LogEntry]:
        entries: list[LogEntry] = []
        data = self._partial + chunk
        self._partial = b""
        start = 0
        while True:
            newline = data.find(b"\n", start)
            if newline < 0:
                break
            if self._skipping:
                self._skipping = False
            else:
                entries.extend(self._feed(data[start:newline]))
            start = newline + 1
        rest = data[start:]
        if self._skipping:
            return entries
        if len(rest) > MAX_LINE_BYTES:
            entries.extend(self._feed(rest[:MAX_LINE_BYTES]))
            self._skipping = True
        else:
            self._partial = rest
        return entries

    def _feed(self, raw: bytes) -> list[LogEntry]:
        return self.parser.feed(raw.decode("utf-8", errors="replace").rstrip("\r"))
