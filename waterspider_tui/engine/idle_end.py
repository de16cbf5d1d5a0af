"""When `--until-idle` ends: what can never run does not keep the run going, and hosts only briefly
down are waited for, as long as a running orchestrator waits before it takes them as lost."""

from __future__ import annotations

from typing import TYPE_CHECKING

from waterspider_tui.core import events as ev

if TYPE_CHECKING:
    from waterspider_tui.core.scheduler import Plan
    from waterspider_tui.core.state import Snapshot
    from waterspider_tui.engine.engine import Engine


NEVER_ANSWERED_POLLS = 5
"""Failed polls, with no good one before them, after which a source is taken as never answering:
`--until-idle` ends (exit 1, saying so) instead of waiting for ever, as from cron it would."""


class IdleEnd:
    """Answers whether a run waiting only on hosts is done waiting; says once that it waits, and once that it gives up."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._said_waiting = False
        self._said_given_up = False
        self.failed_polls: dict[str, int] = {}
        """Source name -> polls failed in this run before its first good one."""
        self._said_unanswered: set[str] = set()

    def poll_failed(self, source: str) -> None:
        if source not in self.engine.polled:
            self.failed_polls[source] = self.failed_polls.get(source, 0) + 1

    def never_answered(self) -> list[tuple[str, str]]:
        """(source, its last failure) for each source given up on: no good poll in this run, NEVER_ANSWERED_POLLS failed."""
        engine = self.engine
        return [
            (source.name, status.message if (status := engine.snapshot.sources.get(source.name)) else "")
            for source, _ in engine.sources
            if source.name not in engine.polled and self.failed_polls.get(source.name, 0) >= NEVER_ANSWERED_POLLS
        ]

    def sources_known(self) -> bool:
        """Every source has answered once, or been given up on (said once): till then the backlog is unknown."""
        engine = self.engine
        given_up = self.never_answered()
        if len(engine.polled) + len(given_up) < len(engine.sources):
            return False
        for name, message in given_up:
            if name not in self._said_unanswered:
                self._said_unanswered.add(name)
                engine.record(ev.Warned(ts=engine.clock.now(), message=(
                    f"{name} never answered in {NEVER_ANSWERED_POLLS} polls ({message}): the run ends, its issues unknown"
                ), notice=True))
        return True

    def can_run(self, snapshot: Snapshot, key: str) -> bool:
        """Some configured host could take the issue once up and free (not pinned to an unknown host, labels some host has)."""
        task = snapshot.tasks.get(key)
        return task is not None and not self.engine.pool.never_fits(snapshot, task, self.engine.agent.name)

    def runnable(self, snapshot: Snapshot, current: Plan) -> bool:
        """Whether anything ready could still run somewhere."""
        return any(self.can_run(snapshot, item.issue) for item in current.ready)

    def hosts_given_up(self) -> bool:
        """With every host down: True once each has been down past its lost window (said once), False while waiting (said once)."""
        engine = self.engine
        left, window = engine.pool.down_wait_left()
        now = engine.clock.now()
        if left > 0:
            if not self._said_waiting:
                self._said_waiting, self._said_given_up = True, False
                engine.record(ev.Warned(ts=now, message=(
                    f"every host is down: the run waits up to {window:.0f}s (lost_after_s) for one to answer before it ends"
                ), notice=True))
            return False
        if not self._said_given_up:
            self._said_given_up, self._said_waiting = True, False
            engine.record(ev.Warned(ts=now, message=f"no host answered within {window:.0f}s (lost_after_s): the run ends with work not done"))
        return True
