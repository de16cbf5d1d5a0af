"""The fault suite's bench: a repository, a seeded backlog, the real orchestrator, and ways to kill it.

The orchestrator runs as `waterspider run` in a subprocess of its own process group; it can be
killed by its pid, by its process group, or with every process of the run at once (a power cut).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.e2e.helpers import WATERSPIDER, clean_env, git
from tests.git_checkout import make_checkout

AGENT = Path(__file__).with_name("fault_agent.py")
RUN_TIMEOUT_S = 90.0
"""A run that does not end by then is a hang, reported as one."""


def toml_list(items: list[str]) -> str:
    return "[" + ", ".join(json.dumps(item) for item in items) + "]"


@dataclass
class Bench:
    """One repository, one issue folder, one config with the ledger agent, and the run's files."""

    root: Path
    seed: int
    issues: int = 8
    capacity: int = 3
    deps: dict[int, list[int]] | None = None
    """Issue -> the issues it depends on (lower numbers, so no cycle); drawn from the seed when not given."""
    sessions: dict[str, Any] = field(default_factory=dict)
    """Extra `[sessions]` settings."""
    labels: dict[int, list[str]] = field(default_factory=dict)
    """Issue -> its labels (`fault:NAME` labels tell the agent in `labels` mode how to misbehave)."""
    mode: str = "work"
    """The agent's MODE (fault_agent.py)."""
    warm_pool: int = 0
    """No warm pool by default: its refill, outside the dispatch lock, can race a dispatch's `git worktree
    add` and fail an issue as `workspace` (GUARANTEES.md, known holes). Set 2 to run with the pool."""

    def __post_init__(self) -> None:
        self.repo = make_checkout(self.root / "repo")
        for key, value in (("user.name", "fault agent"), ("user.email", "agent@waterspider.invalid")):
            git(self.repo, "config", key, value)
        self.head = git(self.repo, "rev-parse", "HEAD").strip()
        self.ledger = self.root / "ledger.jsonl"
        self.folder = self.root / "issues"
        self.folder.mkdir()
        self.config = self.root / "waterspider.toml"
        if self.deps is None:
            self.deps = random_deps(random.Random(self.seed), self.issues)
        self.write()

    def write(self) -> None:
        for number in range(1, self.issues + 1):
            front = {"title": f"Fault issue {number}", "depends_on": self.dependencies.get(number, []), "labels": self.labels.get(number, [])}
            lines = "".join(f"{key}: {json.dumps(value)}\n" for key, value in front.items())
            (self.folder / f"{number:03d}.md").write_text(f"---\n{lines}---\nDo issue {number}.\n")
        argv = [sys.executable, "-S", str(AGENT), str(self.ledger), self.mode, str(self.seed), "{number}"]
        sessions = {"retry_backoff_s": 0, "max_attempts": 12, "grace_s": 1, "niceness": 0, **self.sessions}
        self.config.write_text(
            f'[agent]\nkind = "command"\noptions = {{ argv = {toml_list(argv)} }}\n'
            f"[scheduler]\ncapacity = {self.capacity}\n[issues]\npoll_interval_s = 0.5\n[workspace]\nwarm_pool = {self.warm_pool}\n"
            "[sessions]\n" + "".join(f"{key} = {json.dumps(value)}\n" for key, value in sessions.items())
        )

    @property
    def dependencies(self) -> dict[int, list[int]]:
        """The dependencies the issue files declare (`deps`, once drawn)."""
        return self.deps or {}

    @property
    def store(self) -> Path:
        return self.repo / ".waterspider" / "state.db"

    def argv(self, *extra: str) -> list[str]:
        """`waterspider run` on this bench, printing JSON lines unless `--no-ui` is among `extra`."""
        output = [] if "--no-ui" in extra else ["--json"]
        return [*WATERSPIDER, "run", "--issues", str(self.folder), "--repo-path", str(self.repo), "--agent", "command",
                "--config", str(self.config), *output, "--until-idle", *extra]

    def start(self, *extra: str, name: str = "run", env: dict[str, str] | None = None) -> Orchestrator:
        return Orchestrator.start(self.argv(*extra), self.root / f"{name}.out", self.root / f"{name}.err", env=env)

    def run(self, *extra: str, name: str = "final", timeout: float = RUN_TIMEOUT_S) -> Finished:
        orchestrator = self.start(*extra, name=name)
        return orchestrator.wait(timeout)


def random_deps(rng: random.Random, count: int) -> dict[int, list[int]]:
    """A layered graph: each issue after the first two waits on one or two earlier ones, most of the time."""
    deps: dict[int, list[int]] = {}
    for number in range(3, count + 1):
        if rng.random() < 0.75:
            deps[number] = sorted(rng.sample(range(1, number), k=min(number - 1, rng.choice((1, 1, 2)))))
    return deps


@dataclass(frozen=True)
class Finished:
    """How a run ended: its exit code and what it printed."""

    returncode: int
    stdout: str
    stderr: str


@dataclass
class Orchestrator:
    """`waterspider run` as a child in a process group of its own, its output in files (no pipe to fill)."""

    process: subprocess.Popen[bytes]
    out: Path
    err: Path

    @classmethod
    def start(cls, argv: list[str], out: Path, err: Path, env: dict[str, str] | None = None) -> Orchestrator:
        with open(out, "wb") as stdout, open(err, "wb") as stderr:
            process = subprocess.Popen(argv, stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL,
                                       env=env or clean_env(), start_new_session=True)
        return cls(process, out, err)

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait(self, timeout: float = RUN_TIMEOUT_S) -> Finished:
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            power_cut(self.pid, marker=str(self.out.parent))
            self.process.wait(10)
            raise AssertionError(f"the run did not end within {timeout:.0f}s; its stderr ends: {self.err.read_text()[-2000:]}")
        return Finished(self.process.returncode, self.out.read_text(errors="replace"), self.err.read_text(errors="replace"))

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self, how: str, marker: str) -> list[int]:
        """kill -9: `pid` the orchestrator alone, `group` its process group (its git children too),
        `power` every process of the run (sessions included). Returns the pids killed."""
        if how == "pid":
            os.kill(self.pid, signal.SIGKILL)
            killed = [self.pid]
        elif how == "group":
            killed = [pid for pid, group in process_groups().items() if group == self.pid]
            os.killpg(self.pid, signal.SIGKILL)
        else:
            killed = power_cut(self.pid, marker)
        self.process.wait(10)
        return killed


def process_groups() -> dict[int, int]:
    """pid -> process group of every process, from /proc."""
    groups: dict[int, int] = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat", "rb") as stat:
                    groups[int(name)] = int(stat.read().rsplit(b")", 1)[1].split()[2])
            except (OSError, IndexError, ValueError):
                pass
    return groups


def cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def power_cut(orchestrator_pid: int, marker: str) -> list[int]:
    """SIGKILL the orchestrator's process group and the group of every process whose command line
    names `marker` (the runners and agents of this run, in groups of their own), frozen first with
    SIGSTOP so that nothing of the run moves between the first kill and the last."""
    own = os.getpgid(0)
    groups = {orchestrator_pid}
    needle = marker.encode()
    for _ in range(3):  # a runner started while we looked is caught on the next pass
        for group in groups:
            signal_group(group, signal.SIGSTOP)
        table = process_groups()
        found = {group for pid, group in table.items() if needle in cmdline(pid)} | groups
        found.discard(own)
        if found == groups:
            break
        groups = found
    table = process_groups()
    killed = sorted(pid for pid, group in table.items() if group in groups)
    for group in groups:
        signal_group(group, signal.SIGKILL)
    return killed


def signal_group(group: int, signum: int) -> None:
    try:
        os.killpg(group, signum)
    except (ProcessLookupError, PermissionError):
        pass


def running(pid: int, needle: bytes = b"") -> bool:
    """Whether pid is a live process (a zombie is dead), and one whose command line holds `needle`."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            if stat.read().rsplit(b")", 1)[1].split()[0] == b"Z":
                return False
    except OSError:
        return False
    return needle in cmdline(pid)


def wait_until(condition: Any, timeout: float, step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return bool(condition())
