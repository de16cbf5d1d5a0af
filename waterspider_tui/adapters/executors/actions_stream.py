"""The agent's stream-json as it travels through a GitHub Actions run: out through the job log, back in from it.

`waterspider exec-issue` prints every stream-json line of its agent with STREAM_PREFIX in front,
beside the readable lines, so the orchestrator can recover the session's events from the job's
log while the run is still going (the `stream` artifact, uploaded at the end, stays the complete
record). The job log GitHub serves puts a timestamp before every line and a byte-order mark
before the first; `stream_lines` takes those off again.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Callable, Collection, Mapping

from waterspider_tui.core.models import EarlierRound, ErrorClass

if TYPE_CHECKING:
    from waterspider_tui.core.models import SessionInfo

STREAM_PREFIX = "ws-stream| "
"""Before each stream-json line in the job log; chosen so no agent's readable output starts with it."""
STEP_PREFIX = "ws-step| "
"""Before `NAME started` and `NAME ended` in the job log, as a step after the agent runs: the agent
is silent then, and its silence is no stall."""
RECORD_FILE = "session.json"
"""Beside the stream in the artifact: how the session ended on the runner, with each step after the agent."""
_TIMESTAMP = re.compile(rb"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z ")
_BOM = "\ufeff".encode()


def _printed(log: bytes) -> list[bytes]:
    """What the job printed, line by line, without the log's byte-order mark and timestamps."""
    return [_TIMESTAMP.sub(b"", line.removeprefix(_BOM).rstrip(b"\r"), count=1) for line in log.split(b"\n")]


def stream_lines(log: bytes) -> list[bytes]:
    """The stream-json lines (each with its newline) printed with STREAM_PREFIX in complete job-log lines."""
    prefix = STREAM_PREFIX.encode()
    return [line[len(prefix):] + b"\n" for line in _printed(log) if line.startswith(prefix)]


class StreamLog:
    """A job log read in pieces: complete lines are handed on, the unfinished last one is kept."""

    def __init__(self) -> None:
        self.offset = 0
        """Bytes of the job log read so far (the next read asks from here)."""
        self._partial = b""
        self.in_step = ""
        """The step after the agent running on the runner as far as the log has said; empty otherwise."""

    def feed(self, chunk: bytes) -> list[bytes]:
        self.offset += len(chunk)
        data = self._partial + chunk
        complete, newline, self._partial = data.rpartition(b"\n")
        if not newline:
            return []
        stream, step = STREAM_PREFIX.encode(), STEP_PREFIX.encode()
        found: list[bytes] = []
        for line in _printed(complete):
            if line.startswith(stream):
                found.append(line[len(stream):] + b"\n")
                self.in_step = ""  # the agent speaks again: a new round
            elif line.startswith(step):
                name, _, what = line[len(step):].decode("utf-8", errors="replace").rpartition(" ")
                self.in_step = name if what == "started" else ""
        return found


def merge(shown: bytes, complete: bytes) -> bytes:
    """The whole stream once the artifact arrived, continuing what the live log already gave.

    Normally the artifact starts with exactly what was shown. When the log lost or cut lines,
    the artifact's lines after as many as were shown follow, so no line is read twice.
    """
    if complete.startswith(shown):
        return complete
    lines_shown = shown.count(b"\n")
    rest = complete.split(b"\n")[lines_shown:]
    return shown + b"\n".join(rest)


def write_record(
    path: Path, outcome: str, error_class: str, error: str, steps: list[Mapping[str, Any]], *,
    agent_exit_code: int | None = None, rounds: int = 1, agent_rounds: list[Mapping[str, Any]] | None = None,
) -> None:
    """The session's end as `exec-issue` saw it: `steps` holds each step after the agent of every
    round (`round`, from 1; a failed gate sends the work back to the agent for another), and
    `failed_step` names the step of the last round that failed. `agent_exit_code` is the agent's
    own exit in the last round, which the run's conclusion (exec-issue's exit) does not tell;
    `agent_rounds` each round as an attempt of its own (session_id, attempt, error_class, error,
    cost_usd its own part, turns, duration_s, and stream_from/stream_to: its bytes in the stream)."""
    failed = next((step for step in final_steps({"steps": steps}).values() if not step.get("ok")), None)
    record = {"outcome": outcome, "error_class": error_class, "error": error, "steps": list(steps),
              "failed_step": str(failed["step"]) if failed else "", "agent_exit_code": agent_exit_code, "rounds": rounds,
              "agent_rounds": list(agent_rounds or [])}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")


def final_steps(record: Mapping[str, Any] | None) -> dict[str, Mapping[str, Any]]:
    """Each step of the record's last round by its name, in the order they ran (a record written
    before rounds were kept counts as one round)."""
    steps = [step for step in (record or {}).get("steps") or [] if isinstance(step, Mapping) and step.get("step")]
    last_round = max((int(step.get("round") or 1) for step in steps), default=1)
    return {str(step["step"]): step for step in steps if int(step.get("round") or 1) == last_round}


def round_of(session_id: str) -> tuple[str, int]:
    """(the session's id, k) for the k-th round `ID.k` of a session with rounds; (session_id, 0) otherwise."""
    base, dot, number = session_id.rpartition(".")
    return (base, int(number)) if dot and base and number.isdigit() else (session_id, 0)


def round_output(record: Mapping[str, Any] | None, stream: bytes, round_number: int) -> bytes:
    """The k-th round's part of a session's stream, as the record places it; b"" where it does not."""
    rounds = [round_ for round_ in (record or {}).get("agent_rounds") or [] if isinstance(round_, Mapping)]
    if not 0 < round_number <= len(rounds):
        return b""
    start, stop = int(rounds[round_number - 1].get("stream_from") or 0), int(rounds[round_number - 1].get("stream_to") or 0)
    return stream[start:stop] if stop > start else b""


def round_results(record: Mapping[str, Any] | None, session_id: str, attempt: int) -> tuple[tuple[EarlierRound, ...], Mapping[str, Any] | None]:
    """The rounds before the record's last, each an attempt of its own (numbered on from `attempt`,
    session `ID.k` for the k-th: the session's own id stays its last round's), and the last round's
    entry; ((), None) for a record without rounds."""
    rounds = [round_ for round_ in (record or {}).get("agent_rounds") or [] if isinstance(round_, Mapping)]
    if not rounds:
        return (), None
    earlier = tuple(
        EarlierRound(
            session_id=f"{session_id}.{number}",
            attempt=int(round_.get("attempt") or attempt + number - 1),
            error_class=ErrorClass(round_["error_class"]) if round_.get("error_class") in ErrorClass._value2member_map_ else None,
            error=str(round_.get("error") or ""), cost_usd=float(round_.get("cost_usd") or 0.0),
            turns=int(round_.get("turns") or 0), duration_s=float(round_.get("duration_s") or 0.0),
        )
        for number, round_ in enumerate(rounds[:-1], 1)
    )
    return earlier, rounds[-1]


def step_failure(record: Mapping[str, Any] | None, *, except_steps: Collection[str] = ()) -> tuple[str, str]:
    """(failure class, `step: why`) when a step after the agent failed on the runner; ("", "") otherwise,
    and for a failed step in `except_steps` (the orchestrator takes that one's outcome as its own step's)."""
    if not record or not record.get("failed_step") or record["failed_step"] in except_steps:
        return "", ""
    return str(record.get("error_class") or "crashed"), str(record.get("error") or f"{record['failed_step']} failed")


class StreamTee:
    """An executor that hands on everything, and also writes each byte of a session's output once,
    in order, to `sink` (the file the workflow uploads) and each complete line to `echo` with
    STREAM_PREFIX (the job log). Sessions one after another (the gate's rounds) follow each other
    in the sink, each from its own first byte, each starting on a line of its own."""

    def __init__(self, executor: Any, sink: IO[bytes], echo: Callable[[str], None] | None = None) -> None:
        self._executor = executor
        self._sink = sink
        self._echo = echo
        self._written: dict[str, int] = {}
        """Session id -> how much of its output is in the sink."""
        self._current = ""
        self._partial = b""
        self._ends_line = True
        self._position = 0
        self.spans: dict[str, tuple[int, int]] = {}
        """Session id -> where its output is in the sink, [from, to): a round's part of the stream."""

    def __getattr__(self, name: str) -> Any:
        return getattr(self._executor, name)

    async def read_output(self, session: SessionInfo, offset: int, limit: int = 1 << 20) -> bytes:
        chunk: bytes = await self._executor.read_output(session, offset, limit)
        end = offset + len(chunk)
        written = self._written.get(session.session_id, 0)
        if end > written and offset <= written:
            if session.session_id != self._current:
                self.finish()  # the session before it ended: its last line is closed
                self._current = session.session_id
            self._take(chunk[written - offset:])
            self._written[session.session_id] = end
        return chunk

    def _take(self, new: bytes) -> None:
        self._sink.write(new)
        self._sink.flush()
        self._advance(len(new))
        self._ends_line = new.endswith(b"\n")
        if self._echo is None:
            return
        data = self._partial + new
        complete, newline, self._partial = data.rpartition(b"\n")
        if newline:
            for line in complete.split(b"\n"):
                self._echo(STREAM_PREFIX + line.decode("utf-8", errors="replace").rstrip("\r"))

    def _advance(self, written: int) -> None:
        start = self.spans.get(self._current, (self._position, self._position))[0]
        self._position += written
        self.spans[self._current] = (start, self._position)

    def finish(self) -> None:
        """The last line, when the output did not end with a newline."""
        if not self._ends_line:
            self._sink.write(b"\n")
            self._sink.flush()
            self._advance(1)
            self._ends_line = True
        if self._echo is not None and self._partial:
            self._echo(STREAM_PREFIX + self._partial.decode("utf-8", errors="replace"))
        self._partial = b""


def open_stream_file(path: Path) -> IO[bytes]:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.open("wb")
