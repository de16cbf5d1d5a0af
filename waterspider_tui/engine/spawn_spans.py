"""Where the orchestrator's time goes when it starts a session: named wall-time spans per session.

Kept in memory (no logging on the hot path) for the dispatch benchmark and for anyone asking
why starts are slow. Each span is `time.perf_counter` around one piece of work, measured where
the work runs (in a thread, that thread), so waiting for a free thread is not counted as work;
beside it, `time.thread_time` over the same piece: the CPU it took, without the waits for the
GIL and for a core that the wall time includes on a busy machine.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Callable, TypeVar

T = TypeVar("T")

ORCHESTRATOR_SPANS = (
    "plan", "place", "session_started", "worktree", "launch", "launch_files", "launch_check", "pid_file", "priority", "session_spawned",
)
"""The orchestrator's own work per start: its share of the plan that decided it, placing it, the
two store writes, taking its worktree, the agent's launch (its files), the pid file and the
priority. `process_start` (fork and exec, until the new program runs) is the machine's, apart."""
MACHINE_SPANS = ("process_start",)
KEEP_SESSIONS = 10_000
"""The most recent starts kept: a long run does not grow without bound."""


class SpawnSpans:
    """Span name -> [wall seconds, CPU seconds], per session id, for the most recent KEEP_SESSIONS starts.

    Written from the loop and from start threads: each call touches one session's entry, and the
    GIL keeps a dict's single operations whole.
    """

    def __init__(self, keep: int = KEEP_SESSIONS) -> None:
        self.keep = keep
        self.by_session: OrderedDict[str, dict[str, list[float]]] = OrderedDict()

    def add(self, session_id: str, name: str, seconds: float, cpu_seconds: float = 0.0) -> None:
        """Add to the span `name` of `session_id` (a span measured twice adds up)."""
        spans = self.by_session.get(session_id)
        if spans is None:
            spans = self.by_session[session_id] = {}
            if len(self.by_session) > self.keep:
                self.by_session.popitem(last=False)
        span = spans.setdefault(name, [0.0, 0.0])
        span[0] += seconds
        span[1] += cpu_seconds

    def timed(self, session_id: str, name: str, function: Callable[..., T], *args: object) -> T:
        """Run `function(*args)` here and add its wall and CPU time to the span."""
        started, cpu = time.perf_counter(), time.thread_time()
        try:
            return function(*args)
        finally:
            self.add(session_id, name, time.perf_counter() - started, time.thread_time() - cpu)

    def orchestrator_s(self, session_id: str, *, cpu: bool = False) -> float:
        """The orchestrator's own work for one start, in seconds of wall time (or of CPU)."""
        spans = self.by_session.get(session_id, {})
        return sum(spans[name][1 if cpu else 0] for name in ORCHESTRATOR_SPANS if name in spans)
