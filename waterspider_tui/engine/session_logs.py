"""Any session's log after the fact: found through the store, read through its executor."""

from __future__ import annotations

from typing import TYPE_CHECKING

from waterspider_tui.adapters.executors.base import ExecutorError
from waterspider_tui.core.models import LogEntry, SessionInfo
from waterspider_tui.engine.output_reader import OutputReader

if TYPE_CHECKING:
    from waterspider_tui.adapters.agents.base import StreamParser
    from waterspider_tui.adapters.executors.base import Executor
    from waterspider_tui.core.state import TaskRecord


def sessions_of(task: TaskRecord) -> dict[int, SessionInfo]:
    """Every session of the issue by attempt: the finished ones from its history, and the current one."""
    found: dict[int, SessionInfo] = {}
    for attempt in task.history:
        found[attempt.attempt] = SessionInfo(
            session_id=attempt.session_id, issue=task.key, attempt=attempt.attempt, executor=attempt.executor,
            host=attempt.host, worktree=attempt.worktree, branch=attempt.branch, log_path=attempt.log_path,
            session_dir=attempt.session_dir, started_at=0.0, agent=attempt.agent or "simulated",
        )
    if task.session is not None:
        found[task.session.attempt] = task.session
    return found


async def read_log(executor: Executor, session: SessionInfo, parser: StreamParser, limit_bytes: int) -> list[LogEntry]:
    """The session's output parsed as its agent's stream; a host that cannot be reached says so."""
    reader = OutputReader(parser)
    try:
        while reader.offset < limit_bytes:
            chunk = await executor.read_output(session, reader.offset)
            if not chunk:
                break
            reader.feed(chunk)
    except ExecutorError as error:
        return [*reader.log, LogEntry("error", f"the log on {session.host} cannot be read now: {error}")]
    reader.finish()
    if not reader.log:
        return [LogEntry("system", f"no output was recorded ({session.log_path})")]
    return list(reader.log)


__all__ = ["read_log", "sessions_of"]
