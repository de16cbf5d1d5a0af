"""Three Mac minis: mini-1 busy, mini-2 down for a few minutes, mini-3 drained with its last session finishing."""

from __future__ import annotations

from waterspider_tui.core import events as ev
from waterspider_tui.core.models import HostStatus, Outcome, Progress

from .scenarios import MIN, NOW, Scenario, finish, issue, polled, run, seen

LOADS = {
    "mini-1": [2.1, 2.8, 3.3, 3.9, 4.2, 4.0, 3.7, 3.5, 3.8, 4.1, 3.9, 3.9],
    "mini-2": [0.5, 0.6, 0.4, 0.9, 1.1, 0.7, 0.6, 0.5, None, None, None, None],
    "mini-3": [1.9, 1.7, 1.4, 1.2, 1.0, 0.9, 0.7, 0.8, 0.6, 0.5, 0.5, 0.4],
}
MEMORY = {
    "mini-1": [52, 55, 58, 61, 66, 70, 71, 69, 72, 74, 73, 74],
    "mini-2": [31, 33, 30, 35, 38, 36, 34, 33, None, None, None, None],
    "mini-3": [64, 62, 60, 57, 55, 51, 48, 47, 45, 44, 42, 41],
}
DOWN_SINCE = 4
"""mini-2's last four probes failed."""


def _probes(name: str, slots: int, used: int) -> list[ev.Event]:
    out: list[ev.Event] = []
    loads, memory = LOADS[name], MEMORY[name]
    for index, (load, mem) in enumerate(zip(loads, memory)):
        at = NOW - (len(loads) - index) * 15
        reachable = load is not None
        out.append(ev.HostProbed(ts=at, host=HostStatus(
            name=name, slots_total=slots, slots_used=used if reachable else 0, reachable=reachable, load=load,
            mem_percent=float(mem) if mem is not None else None, cores=8, probed_at=at, labels=("macos",), os="Darwin",
            error="" if reachable else "nothing listens on mini-2:22: is sshd running (System Settings > General > Sharing > Remote Login)?",
        )))
    return out


def three_hosts() -> Scenario:
    issues = [
        issue(601, "Cache the product images", "P1"),
        issue(602, "Retry failed exports", "P2"),
        issue(603, "Faster search index", "P1", estimate=90),
        issue(604, "Tidy the settings page", "P3"),
        issue(605, "Audit log export", "P2"),
        issue(606, "Rotate API keys", "P1"),
    ]
    events: list[ev.Event] = [*seen(*issues)]
    events += finish(605, "mini-2", 20 * MIN, Outcome.SUCCEEDED, 40 * MIN)
    events += run(601, "mini-1", 14 * MIN, Progress("implementing", 2, 5, 21, 0.74, "Edit src/images/cache.py (+40 −6)", NOW - 15))
    events += run(602, "mini-1", 6 * MIN, Progress("testing", 3, 5, 12, 0.31, "Bash pytest -q tests/export", NOW - 8))
    events += run(603, "mini-3", 35 * MIN, Progress("testing", 4, 5, 38, 1.42, "Bash npm test", NOW - 30))
    events += _probes("mini-1", 3, 2)
    events += _probes("mini-2", 3, 0)
    events += _probes("mini-3", 2, 1)
    events.append(ev.HostDrained(ts=NOW - 10 * MIN, host="mini-3", by="operator"))
    events.append(polled())
    return Scenario("three_hosts", events)
