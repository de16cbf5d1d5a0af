"""The load balancer's rule: which host a session goes to, and why, from the facts alone."""

from __future__ import annotations

from dataclasses import dataclass

PIN_PREFIX = "host:"
NEED_PREFIX = "needs:"


@dataclass(frozen=True)
class HostCandidate:
    """One host as the balancer sees it at this moment."""

    executor: str
    host: str
    slots: int
    used: int = 0
    labels: tuple[str, ...] = ()
    agents: tuple[str, ...] = ()
    """Agent kinds installed; empty means any."""
    reachable: bool = True
    checked: bool = True
    """The host answered a probe in this run; until then it is not known to be reachable."""
    load: float | None = None
    cores: int | None = None
    draining: bool = False

    @property
    def load_per_core(self) -> float:
        if self.load is None:
            return 0.0
        return self.load / max(1, self.cores or 1)


@dataclass(frozen=True)
class Placement:
    executor: str
    host: str
    reason: str
    fresh_reason: str = ""
    """Why the issue's agent session, which its retry would resume, cannot be resumed here: it starts afresh."""


@dataclass(frozen=True)
class NoPlace:
    reason: str


def _describe(candidate: HostCandidate) -> str:
    load = f", load {candidate.load_per_core:.1f}/core" if candidate.load is not None else ""
    return f"{candidate.host}: {candidate.used}/{candidate.slots} slots{load}"


def _why_not(candidate: HostCandidate, agent: str, needs: tuple[str, ...]) -> str | None:
    if not candidate.checked:
        return f"{candidate.host} not checked yet"
    if not candidate.reachable:
        return f"{candidate.host} unreachable"
    if candidate.draining:
        return f"{candidate.host} draining"
    if candidate.agents and agent not in candidate.agents:
        return f"{candidate.host} has no {agent}"
    missing = [need for need in needs if need not in candidate.labels]
    if missing:
        return f"{candidate.host} lacks {', '.join(missing)}"
    if candidate.used >= candidate.slots:
        return f"{candidate.host} full"
    return None


def choose_host(candidates: list[HostCandidate], *, labels: tuple[str, ...], agent: str) -> Placement | NoPlace:
    """A healthy host with a free slot, the agent and the labels the issue needs.

    An issue label `host:NAME` pins it to that host and `needs:LABEL` asks for a host label.
    Among the hosts that fit: least loaded per core, then the most free slots, then by name,
    so the same facts always give the same host.
    """
    pinned = [label[len(PIN_PREFIX):] for label in labels if label.startswith(PIN_PREFIX)]
    needs = tuple(label[len(NEED_PREFIX):] for label in labels if label.startswith(NEED_PREFIX))
    pool = [c for c in candidates if not pinned or c.host in pinned]
    if pinned and not pool:
        return NoPlace(f"pinned to {', '.join(pinned)}, which is not a configured host")
    fitting: list[HostCandidate] = []
    refusals: list[str] = []
    for candidate in pool:
        why = _why_not(candidate, agent, needs)
        if why is None:
            fitting.append(candidate)
        else:
            refusals.append(why)
    if not fitting:
        return NoPlace("no host fits: " + "; ".join(refusals) if refusals else "no host configured")
    fitting.sort(key=lambda c: (round(c.load_per_core, 2), c.used / max(1, c.slots), -(c.slots - c.used), c.host))
    chosen = fitting[0]
    others = [_describe(c) for c in fitting[1:3]] + refusals[:2]
    reason = f"on {_describe(chosen)}" + (f" ({'; '.join(others)})" if others else "")
    if len(candidates) == 1:
        reason = f"on {chosen.host}"
    return Placement(executor=chosen.executor, host=chosen.host, reason=reason)
