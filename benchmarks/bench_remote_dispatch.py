"""Dispatch to a remote slot (a real OpenSSH server on 127.0.0.1) against a local slot in the same run,
and what one orchestrator spends holding 50 and 200 sessions on one SSH host at once.

Every run is the real Engine with a command agent (a Python child printing two lines a second)
in a process of its own, so CPU time and peak RSS are the orchestrator's alone. The host is
`tests/adapters/ssh/sshd_server.py`'s sshd (its own home and clone, keys made here); the local
runs use a clone of the same one-commit repository, so both sides do the same git work.

1. One at a time (capacity 1, `--sequential` issues): ready (the slot freed, or the issue seen)
   → decided (SessionStarted) → process running (SessionSpawned), per session; the remote/local
   ratio of the medians. The first remote session also connects and copies the runner: shown apart.
2. Many at once (`--levels`, all issues seen in one poll, capacity and slots = level): ready →
   spawned p50 / p95 / p99 / worst on each side; then, with every session running, a window of
   `--hold` seconds: the orchestrator's CPU share of one core, its RSS, TCP connections to the
   host, and SSH channels open (the commands sshd runs for them, counted under the listener).

Needs root and /usr/sbin/sshd (as the SSH tests do). Usage:
python benchmarks/bench_remote_dispatch.py [--sequential 12] [--levels 50,200] [--hold 8] [--timeout 150]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "adapters" / "ssh")]

AGENT = """
import os, sys, time
release, deadline, line = os.environ["RELEASE"], time.time() + float(os.environ["MAX_S"]), 0
print("started", os.environ["WATERSPIDER_ISSUE_NUMBER"], flush=True)
while time.time() < deadline and not os.path.exists(release):
    time.sleep(0.5)
    line += 1
    print("working", line, flush=True)
"""
"""Runs until the release file exists (or MAX_S): every session is running while the window is measured."""


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))] if ordered else float("nan")


def ms4(values: list[float]) -> str:
    return " / ".join(f"{percentile(values, share) * 1000:.0f}" for share in (0.5, 0.95, 0.99)) + f" / {max(values, default=float('nan')) * 1000:.0f} ms"


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def established_to(port: int) -> int:
    """TCP connections in ESTABLISHED state whose server side is `port` on this machine."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if fields[3] == "01" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                count += 1
    return count


def descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(parent, []).append(int(stat.parent.name))
    found, stack = [], [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def ssh_channels(listener: int) -> int:
    """Commands sshd runs for the orchestrator now (the pump, a start, a git command): one per open channel.
    sshd's own per-connection processes are not counted."""
    count = 0
    for pid in descendants(listener):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0]
        except OSError:
            continue
        if not command.startswith(b"sshd"):
            count += 1
    return count


def run_engine(side: str, count: int, capacity: int, args: argparse.Namespace) -> dict:
    """One engine run in this process; prints nothing, returns the figures."""
    from waterspider_tui.adapters.agents.base import EnvPolicy
    from waterspider_tui.adapters.agents.registry import make_agent
    from waterspider_tui.adapters.executors.local import LocalExecutor
    from waterspider_tui.adapters.executors.pool import ExecutorPool
    from waterspider_tui.adapters.executors.ssh import SshExecutor
    from waterspider_tui.adapters.executors.ssh_config import HostConfig
    from waterspider_tui.adapters.local_issues import LocalIssueSource
    from waterspider_tui.adapters.workspace import WorkspaceManager
    from waterspider_tui.core import events as ev
    from waterspider_tui.core.models import TaskState
    from waterspider_tui.core.scheduler import SchedulerConfig
    from waterspider_tui.engine import Engine, SessionPolicy, open_store

    work = Path(tempfile.mkdtemp(prefix=f"ws-remote-{side}-{count}-", dir=args.work))
    issues = work / "issues"
    issues.mkdir()
    first = (100_000 if capacity == 1 else 0) + count * 10  # each run its own issues, branches and worktrees
    for number in range(first + 1, first + count + 1):
        (issues / f"{number:06d}.md").write_text(f"---\ntitle: Issue {number}\n---\nbody {number}\n")
    script = work / "agent.py"
    script.write_text(AGENT)
    release = work / "release"
    if capacity == 1:
        release.touch()  # one at a time: each session ends at once
    agent = make_agent("command", {"argv": [sys.executable, str(script)], "env": {"RELEASE": str(release), "MAX_S": str(args.timeout)}}, EnvPolicy())
    host = json.loads(args.host)
    if side == "remote":
        executor = SshExecutor([HostConfig.model_validate({**host, "slots": capacity})])
    else:
        executor = LocalExecutor(WorkspaceManager(Path(args.local_repo)), work / "sessions", slots=capacity)
    engine = Engine(
        store=open_store(work / "state" / "state.db"), sources=[(LocalIssueSource(issues), 3600.0)], agent=agent,
        pool=ExecutorPool([executor]), scheduler=SchedulerConfig(capacity=capacity),
        policy=SessionPolicy(stall_timeout_s=600.0, timeout_s=args.timeout, grace_s=2.0, max_attempts=1),
    )
    window: dict[str, float] = {}

    async def run() -> None:
        runner = asyncio.create_task(engine.run(until_idle=True))
        if capacity > 1:
            while sum(1 for task in engine.snapshot.tasks.values() if task.state is TaskState.RUNNING and task.session and task.session.pid) < count:
                if runner.done():
                    break
                await asyncio.sleep(0.1)
            await asyncio.sleep(1.0)  # the last starts' replies settle; the steady state is what is measured
            before, wall = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
            connections = channels = 0
            samples = 0
            while time.perf_counter() - wall < args.hold:
                await asyncio.sleep(0.5)
                if side == "remote":
                    connections = max(connections, established_to(host["port"]))
                    channels = max(channels, ssh_channels(args.sshd_pid))
                samples += 1
            after, elapsed = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter() - wall
            window.update(
                cpu_share=((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)) / elapsed,
                rss_mb=rss_mb(), connections=connections, channels=channels,
                running=sum(1 for task in engine.snapshot.tasks.values() if task.state is TaskState.RUNNING),
            )
            release.touch()
        await asyncio.wait_for(runner, args.timeout)
        if isinstance(executor, SshExecutor):
            await executor.close()

    started = time.perf_counter()
    asyncio.run(run())
    events = list(engine.store.log.read())
    seen = {e.issue_data.key: e.ts for e in events if isinstance(e, ev.IssueSeen)}
    starts = sorted((e for e in events if isinstance(e, ev.SessionStarted)), key=lambda e: e.ts)
    spawned = {e.issue: e.ts for e in events if isinstance(e, ev.SessionSpawned)}
    finished = sorted(e.ts for e in events if isinstance(e, ev.SessionFinished))
    decide, spawn = [], []
    for index, start in enumerate(starts):
        # One at a time, an issue is ready when the slot frees: the previous session's end is recorded.
        ready = max(seen[start.issue], finished[index - 1]) if capacity == 1 and index > 0 else seen[start.issue]
        decide.append(start.ts - ready)
        spawn.append(spawned.get(start.issue, float("nan")) - ready)
    outcomes = [e.result.outcome.value for e in events if isinstance(e, ev.SessionFinished)]
    errors = sorted({e.result.error[:160] for e in events if isinstance(e, ev.SessionFinished) and e.result.outcome.value != "succeeded"})
    return {
        "side": side, "count": count, "capacity": capacity, "decide_s": decide, "spawn_s": spawn, "wall_s": time.perf_counter() - started,
        "succeeded": outcomes.count("succeeded"), "errors": errors[:3], "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        **window,
    }


def run_child(side: str, count: int, capacity: int, args: argparse.Namespace, host: dict, local_repo: Path, sshd_pid: int) -> dict | str:
    command = [
        sys.executable, __file__, "--child", side, "--count", str(count), "--capacity", str(capacity), "--hold", str(args.hold),
        "--timeout", str(args.timeout), "--host", json.dumps(host), "--local-repo", str(local_repo), "--sshd-pid", str(sshd_pid), "--work", args.work,
    ]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=args.timeout + 30)
    except subprocess.TimeoutExpired:
        return f"did not finish within {args.timeout + 30:.0f} s"
    try:
        return json.loads(done.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        return f"failed: {done.stderr.strip()[-400:] or 'no output'}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sequential", type=int, default=12)
    parser.add_argument("--levels", default="50,200")
    parser.add_argument("--hold", type=float, default=8.0)
    parser.add_argument("--timeout", type=float, default=150.0, help="seconds allowed per run")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--capacity", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--host", help=argparse.SUPPRESS)
    parser.add_argument("--local-repo", help=argparse.SUPPRESS)
    parser.add_argument("--sshd-pid", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--work", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_engine(args.child, args.count, args.capacity, args)))
        return 0

    from sshd_server import SshServer, git, keygen, unavailable

    reason = unavailable()
    if reason:
        print(f"bench_remote_dispatch: skipped: {reason}", file=sys.stderr)
        return 0
    root = Path(tempfile.mkdtemp(prefix="ws-bench-remote-"))
    args.work = str(root)
    seed = root / "seed"
    seed.mkdir()
    git("init", "-q", "-b", "main", cwd=seed)
    (seed / "README.md").write_text("hello\n")
    git("add", "README.md", cwd=seed)
    git("-c", "user.name=bench", "-c", "user.email=bench@waterspider.invalid", "commit", "-q", "-m", "first", cwd=seed)
    origin = root / "origin.git"
    git("clone", "-q", "--bare", str(seed), str(origin))
    local_repo = root / "local"
    git("clone", "-q", str(origin), str(local_repo))
    git("config", "user.name", "waterspider bench", cwd=local_repo)
    git("config", "user.email", "bench@waterspider.invalid", cwd=local_repo)
    server = SshServer(root=root / "host-mini-1", client_key=keygen(root / "id_ed25519"))
    server.make_clone(origin)
    server.start()
    assert server.process is not None
    host = json.loads(server.host("mini-1").model_dump_json())
    results: list[dict] = []
    notes: list[str] = []
    try:
        plan = [(side, args.sequential, 1) for side in ("local", "remote")]
        plan += [(side, level, level) for level in (int(value) for value in args.levels.split(",")) for side in ("local", "remote")]
        for side, count, capacity in plan:
            result = run_child(side, count, capacity, args, host, local_repo, server.process.pid)
            if isinstance(result, str):
                notes.append(f"{side}, {count} {'one at a time' if capacity == 1 else 'at once'}: {result}")
                continue
            results.append(result)
            print(f"({side}, {count} sessions, capacity {capacity}: {result['wall_s']:.0f} s)", file=sys.stderr, flush=True)
    finally:
        server.stop()
        server.kill_sessions()
    report(results, notes, args)
    return 1 if notes else 0


def report(results: list[dict], notes: list[str], args: argparse.Namespace) -> None:
    print("## Remote dispatch (SSH): a real sshd on 127.0.0.1 against local slots, same run\n")
    sequential = {result["side"]: result for result in results if result["capacity"] == 1}
    if len(sequential) == 2:
        print(f"One at a time ({args.sequential} issues, capacity 1; ready = the slot freed):\n")
        print("| slot | first session | ready → decided p50 | ready → process running p50 / p95 / p99 / worst (after the first) | remote ÷ local (p50) |")
        print("|---|---|---|---|---|")
        local_p50 = percentile(sequential["local"]["spawn_s"][1:], 0.5)
        for side in ("local", "remote"):
            result = sequential[side]
            rest = result["spawn_s"][1:]
            ratio = f"×{percentile(rest, 0.5) / local_p50:.1f}" if side == "remote" else "×1"
            print(f"| {side} | {result['spawn_s'][0] * 1000:.0f} ms | {percentile(result['decide_s'][1:], 0.5) * 1000:.1f} ms | {ms4(rest)} | {ratio} |")
    held = [result for result in results if result["capacity"] > 1]
    if held:
        print(f"\nMany at once (all seen in one poll; then {args.hold:.0f} s with every session running and printing two lines a second):\n")
        print("| slot | sessions | ok | ready → process running p50 / p95 / p99 / worst | orchestrator CPU (share of one core) | RSS now / peak"
              " | TCP connections to the host | SSH channels open (most seen) |")
        print("|---|---|---|---|---|---|---|---|")
        for result in held:
            remote = result["side"] == "remote"
            print(f"| {result['side']} | {result['count']} | {result['succeeded']}/{result['count']} | {ms4(result['spawn_s'])}"
                  f" | {result.get('cpu_share', float('nan')):.3f} | {result.get('rss_mb', float('nan')):.0f} / {result['peak_rss_mb']:.0f} MB"
                  f" | {result.get('connections', 0) if remote else '–'} | {result.get('channels', 0) if remote else '–'} |")
    for result in results:
        if result["errors"]:
            notes.append(f"{result['side']}, {result['count']}: {result['count'] - result['succeeded']} did not succeed: " + "; ".join(result["errors"]))
    if notes:
        print("\n" + "\n".join(f"- {note}" for note in notes))


if __name__ == "__main__":
    raise SystemExit(main())
