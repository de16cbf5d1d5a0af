"""The fault suite's seeds and its tally, printed at the end of the pytest run.

Every test draws its randomness from one base seed: `WATERSPIDER_FAULT_SEED` when set (to replay
a run), else a fresh one each run, printed in the summary and in every failure's message.
"""

from __future__ import annotations

import os
import random
import secrets
import sys
from dataclasses import dataclass, field

import pytest

if sys.platform != "linux":
    collect_ignore_glob = ["test_*.py"]
    """The suite kills process groups and reads /proc: Linux only."""

SEED_VARIABLE = "WATERSPIDER_FAULT_SEED"


@dataclass
class FaultTally:
    """What the suite did and found, summed over its tests."""

    base_seed: int
    crash_points: int = 0
    """kill -9s (of the orchestrator, its group, or the whole run) that a restart recovered from."""
    faults: int = 0
    """Other faults injected: misbehaving agents, GitHub errors, relabels, broken worktrees and stores."""
    duplicates: int = 0
    lost: int = 0
    cut_off: int = 0
    seeds: dict[str, int] = field(default_factory=dict)
    """Test name -> the seed it ran with."""
    notes: list[str] = field(default_factory=list)

    def seed_for(self, name: str) -> int:
        seed = random.Random(f"{self.base_seed}:{name}").randrange(1 << 31)
        self.seeds[name] = seed
        return seed


TALLY = pytest.StashKey[FaultTally]()


def _base_seed() -> int:
    given = os.environ.get(SEED_VARIABLE, "").strip()
    return int(given) if given else secrets.randbelow(1_000_000)


@pytest.fixture(scope="session")
def fault_tally(request: pytest.FixtureRequest) -> FaultTally:
    stash = request.config.stash
    if TALLY not in stash:
        stash[TALLY] = FaultTally(_base_seed())
    return stash[TALLY]


@pytest.fixture
def fault_seed(request: pytest.FixtureRequest, fault_tally: FaultTally) -> int:
    """This test's seed, derived from the base seed and its name (replayable one test at a time)."""
    return fault_tally.seed_for(request.node.name)


def replay_hint(tally: FaultTally) -> str:
    return f"replay with {SEED_VARIABLE}={tally.base_seed}"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, exitstatus: int, config: pytest.Config) -> None:
    tally = config.stash.get(TALLY, None)
    if tally is None:
        return
    write = terminalreporter.write_line
    terminalreporter.section("fault suite")
    write(f"crash points survived: {tally.crash_points}")
    write(f"faults injected:       {tally.faults}")
    write(f"duplicates:            {tally.duplicates} (must be 0)")
    write(f"lost:                  {tally.lost} (must be 0)")
    write(f"completions cut off by a power cut, retried as promised: {tally.cut_off}")
    for note in tally.notes:
        write(f"  {note}")
    write(f"base seed {tally.base_seed} ({replay_hint(tally)}); per test: "
          + ", ".join(f"{name}={seed}" for name, seed in sorted(tally.seeds.items())))
