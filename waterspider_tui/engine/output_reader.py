"""Turns one session's output, fed as bytes from its executor, into parsed log lines, memory bounded."""

from __future__ import annotations

from collections import deque

from waterspider_tui.adapters.agents.base import LogEntry, StreamParser

READ_CHUNK = 1 << 20
MAX_LINE_BYTES = 4 << 20
"""A longer line is cut: the start goes to the parser, the rest up to the newline is skipped."""
LOG_LINES_KEPT = 2000


class OutputReader:
    """Keeps the byte offset read so far, the unfinished last line, and a bounded readable log.

    It never opens a file: the executor reads from `offset` wherever the session runs, so a
    remote session's output is parsed exactly like a local one's.
    """

    def __init__(self, parser: StreamParser) -> None:
        self.parser = parser
        self.offset = 0
        self._partial = b""
        self._skipping = False
        self.log: deque[LogEntry] = deque(maxlen=LOG_LINES_KEPT)

    def feed(self, chunk: bytes) -> list[LogEntry]:
        """Parse every complete line in what was read since the last call."""
        self.offset += len(chunk)
        entries = self._take(chunk) if chunk else []
        self.log.extend(entries)
        return entries

    def finish(self) -> list[LogEntry]:
        """The last line, when the session ended without a newline after it."""
        entries: list[LogEntry] = []
        if self._partial and not self._skipping:
            entries = self._parse(self._partial)
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
                entries.extend(self._parse(data[start:newline]))
            start = newline + 1
        rest = data[start:]
        if self._skipping:
            return entries
        if len(rest) > MAX_LINE_BYTES:
            entries.extend(self._parse(rest[:MAX_LINE_BYTES]))
            self._skipping = True
        else:
            self._partial = rest
        return entries

    def _parse(self, raw: bytes) -> list[LogEntry]:
        return self.parser.feed(raw.decode("utf-8", errors="replace").rstrip("\r"))
