"""Dispatch latency and orchestrator overhead with the real Engine, real processes and real worktrees.

For C concurrent sessions: C chains of two issues (#i, then #C+i waiting on it), capacity C,
the simulated agent (a real child process under the detached runner; runs of 6 s ± 90%), a
repository of 10,000 files. Readiness is an issue appearing (first wave: all C in one burst) or
its dependency's SessionFinished (second wave: one by one, while the other sessions run);
from the event log we take, per session:
decided (SessionStarted), spawned (SessionSpawned: the process exists), its first output read
(the first SessionProgressed: the agent is at work and the orchestrator has seen it). Each issue's worktree is made beforehand with --no-checkout
(a thousand checkouts of 10,000 files would not fit the time), so a session finds its worktree
ready; what the product's warm pool costs at dispatch instead (`git worktree move` of a checked-out
worktree and a branch switch) and a cold `git worktree add` are timed on their own.
Each level runs in its own process, so CPU and peak RSS are the orchestrator's alone.

Each level runs once per launcher (`--launchers direct,runner`: the agent under a shell wrapper,
or under the Python runner, the previous design), back to back in the same run. Per start, the
engine's spawn spans (`engine/spawn_spans.py`) split the orchestrator's own work (its share of
the plan, placing, the two store writes, the worktree taken from the pool, the agent's launch,
the pid file and priority) from the machine's process start (fork and exec of the session's
first program); both are reported as p50 / p95 / p99 / worst.
Usage: python benchmarks/bench_dispatch.py [--levels 1,50,200] [--launchers direct,runner] [--timeout 240]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SEED_MEAN_WAIT_S = 5.0
"""The seed's design polled every 10 s: a task waited 5 s on average before dispatch."""
REPO_FILES = 10_000
OWN_COST_GOAL_S = 0.005
"""The orchestrator's own work per start, at p99 (issue 17)."""
DURATION_JITTER = 0.9
"""Agent runs take --agent-seconds × (1 ± 0.9): the first wave finishes spread out, so the second
wave's issues become ready one by one while the other sessions run (the steady state)."""


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=bench", "-c", "user.email=bench@waterspider.invalid", *args], cwd=repo, check=True, capture_output=True)


def make_repo(root: Path) -> Path:
    repo = root / "repo"
    for index in range(REPO_FILES):
        path = repo / "src" / f"m{index % 100:02d}" / f"f{index}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"VALUE = {index}\n")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "10,000 files")
    return repo


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))] if ordered else float("nan")


def prepare_seconds(repo: Path, samples: int, *, from_pool: bool) -> list[float]:
    """`WorkspaceManager.prepare` for new issues, as dispatch calls it: a real `git worktree add`
    with its checkout, or (`from_pool`) taking a worktree the warm pool checked out beforehand
    (`refill`, not timed): a `git worktree move` and the branch pointed at."""
    from waterspider_tui.adapters.workspace import WorkspaceManager

    manager = WorkspaceManager(repo, warm_pool=samples if from_pool else 0)
    manager.refill()
    first = 95_001 if from_pool else 90_001
    seconds = []
    for number in range(first, first + samples):
        started = time.perf_counter()
        manager.prepare(number)
        seconds.append(time.perf_counter() - started)
    return seconds


def spawn_seconds(samples: int = 5) -> list[float]:
    """The same-run baseline: how long this machine takes to fork/exec a Python child."""
    async def one() -> float:
        started = time.perf_counter()
        process = await asyncio.create_subprocess_exec(sys.executable, "-c", "pass")
        elapsed = time.perf_counter() - started
        await process.wait()
        return elapsed
    return [asyncio.run(one()) for _ in range(samples)]


def warm_up_plan() -> None:
    """One plan() before the run: networkx compiles its dispatchers on first use (~0.2 s once per process)."""
    from waterspider_tui.core import events as ev
    from waterspider_tui.core.models import Issue
    from waterspider_tui.core.scheduler import plan
    from waterspider_tui.core.state import replay

    issues = [Issue(repo="warm/up", number=1, title="a"), Issue(repo="warm/up", number=2, title="b", depends_on=("warm/up#1",))]
    plan(replay([ev.IssueSeen(ts=0.0, issue_data=issue) for issue in issues]), 0.0)


class MemorySource:
    """An issue source that offers a fixed list once."""

    name = "bench"
    repos = ("bench/repo",)

    def __init__(self, issues: list) -> None:
        self.issues = issues

    async def poll(self):  # type: ignore[no-untyped-def]
        from waterspider_tui.adapters.source_base import PollResult

        return PollResult(issues=list(self.issues))

    async def close(self) -> None:
        return None


def run_level(concurrency: int, repo: Path, work: Path, agent_s: float, launcher: str = "direct") -> dict:
    from waterspider_tui.adapters.agents.simulated import SimulatedAgent, SimulatedOptions
    from waterspider_tui.adapters.executors.local import LocalExecutor
    from waterspider_tui.adapters.executors.local_processes import DetachedProcesses
    from waterspider_tui.adapters.executors.pool import ExecutorPool
    from waterspider_tui.adapters.pipeline.registry import make_steps
    from waterspider_tui.adapters.workspace import WorkspaceManager
    from waterspider_tui.core import events as ev
    from waterspider_tui.core.models import Issue
    from waterspider_tui.core.scheduler import SchedulerConfig
    from waterspider_tui.engine import Engine, SessionPolicy
    from waterspider_tui.engine.spawn_spans import ORCHESTRATOR_SPANS
    from waterspider_tui.store.event_log import EventLog
    from waterspider_tui.store.state_store import StateStore

    # each level and launcher its own issue numbers and branches in the shared repository
    base = concurrency * 1000 + (500_000 if launcher == "runner" else 0)
    numbers = range(base + 1, base + 2 * concurrency + 1)
    for number in numbers:  # the warm pool: worktrees made before their issues become ready
        path = repo / ".worktrees" / f"issue-{number}"
        git(repo, "worktree", "add", "-q", "--no-checkout", "-b", f"feature/issue-{number}", str(path), "main")
        # The index as a checkout leaves it (no files written): else the agent's commit would delete
        # all 10,000 files and every diff after it would list them.
        git(path, "read-tree", "HEAD")
    issues = [
        Issue(repo="bench/repo", number=n, title=f"issue {n}", labels=("P2",), estimate_min=5.0, created=time.time(),
              depends_on=(f"bench/repo#{n - concurrency}",) if n > base + concurrency else ())
        for n in numbers
    ]

    class CountingStore(StateStore):
        recorded = 0

        def record(self, events, *, durable: bool = True):  # type: ignore[no-untyped-def]
            stored = super().record(list(events), durable=durable)
            if durable:  # transient events (host load, in-phase progress) are published, never stored
                CountingStore.recorded += len(stored)
            return stored

    store = CountingStore(EventLog(work / "state.db"))
    engine = Engine(
        store=store, sources=[(MemorySource(issues), 3600.0)],
        agent=SimulatedAgent(SimulatedOptions(duration_s=agent_s, steps=3, duration_jitter=DURATION_JITTER)),
        pool=ExecutorPool([LocalExecutor(WorkspaceManager(repo), work / "sessions", slots=concurrency, launcher=launcher)]),
        scheduler=SchedulerConfig(capacity=concurrency), policy=SessionPolicy(stall_timeout_s=600.0, max_attempts=1),
        steps=make_steps(["commits"]),
    )
    lines_read = 0

    def count_lines(_key: str, entries: list) -> None:
        nonlocal lines_read
        lines_read += len(entries)

    engine.subscribe_logs(count_lines)
    plans: list[tuple[float, int]] = []
    """Every plan() of the run: its CPU seconds and how many starts it dispatched."""
    planner_plan = engine.planner.plan

    profile = cProfile.Profile() if os.environ.get("WS_BENCH_PLAN_PROFILE") else None
    """With WS_BENCH_PLAN_PROFILE=path.prof set, every plan() of the level is profiled into path.prof.<level>."""

    def counted_plan(snapshot, now):  # type: ignore[no-untyped-def]
        cpu_started = time.thread_time()
        if profile is not None:
            profile.enable()
        decided = planner_plan(snapshot, now)
        if profile is not None:
            profile.disable()
        plans.append((time.thread_time() - cpu_started, len(decided.dispatch)))
        return decided

    engine.planner.plan = counted_plan  # type: ignore[method-assign]
    warm_up_plan()
    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    wall_started = time.perf_counter()
    asyncio.run(engine.run(until_idle=True))
    wall = time.perf_counter() - wall_started
    if profile is not None:
        profile.dump_stats(f"{os.environ['WS_BENCH_PLAN_PROFILE']}.{concurrency}")
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)

    events = list(store.log.read())
    seen = {e.issue_data.key: e.ts for e in events if isinstance(e, ev.IssueSeen)}
    finished = {e.issue: e.ts for e in events if isinstance(e, ev.SessionFinished)}
    started = {e.issue: e for e in events if isinstance(e, ev.SessionStarted)}
    spawned = {e.issue: e.ts for e in events if isinstance(e, ev.SessionSpawned)}
    first_output: dict[str, float] = {}
    for e in events:  # the first progress is stored once the agent's first output has been read
        if isinstance(e, ev.SessionProgressed):
            first_output.setdefault(e.issue, e.ts)
    decide, spawn, output, wave = [], [], [], []
    burst_spawned = max(spawned.get(issue.key, 0.0) for issue in issues if not issue.depends_on)
    for issue in issues:
        key = issue.key
        if key not in spawned:  # it failed before its agent ran, or waited on one that failed: counted below
            continue
        ready = max([seen[key], *(finished[dep] for dep in issue.depends_on)])
        # 1: in the first burst; 2: ready one by one once the burst has started; 3: while it was still starting
        wave.append(1 if not issue.depends_on else 2 if ready > burst_spawned else 3)
        decide.append(started[key].ts - ready)
        spawn.append(spawned[key] - ready)
        output.append(first_output.get(key, float("nan")) - ready)
    # A slot is taken until the session's end is recorded; how long after the agent process ended that was.
    processes = DetachedProcesses()
    exits = {key: processes.exit_status(Path(e.session.log_path).parent) for key, e in started.items()}
    finish_lag = [finished[key] - status.ended for key, status in exits.items() if status is not None and key in finished]
    spans = engine.sessions.spans
    timed = [spans.by_session[e.session.session_id] for e in started.values() if e.session.session_id in spans.by_session]
    own = [spans.orchestrator_s(e.session.session_id) for e in started.values() if e.session.session_id in spans.by_session]
    own_cpu = [spans.orchestrator_s(e.session.session_id, cpu=True) for e in started.values() if e.session.session_id in spans.by_session]
    process_start = [parts.get("process_start", [0.0, 0.0])[0] for parts in timed]
    parts = {name: [part.get(name, [0.0, 0.0])[0] for part in timed] for name in ORCHESTRATOR_SPANS}
    parts_cpu = {name: [part.get(name, [0.0, 0.0])[1] for part in timed] for name in ORCHESTRATOR_SPANS}
    written = sum(len(Path(e.session.log_path).read_text().splitlines()) for e in started.values() if Path(e.session.log_path).exists())
    outcomes = [e.result.outcome.value for e in events if isinstance(e, ev.SessionFinished)]
    failures = sorted({f"{e.result.error_class.value if e.result.error_class else e.result.outcome.value}: {e.result.error[:160]}"
                       for e in events if isinstance(e, ev.SessionFinished) and e.result.outcome.value != "succeeded"})
    return {
        "own_s": own, "own_cpu_s": own_cpu, "process_start_s": process_start, "parts_s": parts, "parts_cpu_s": parts_cpu, "output_s": output, "launcher": launcher,
        "concurrency": concurrency, "sessions": len(issues), "succeeded": outcomes.count("succeeded"), "failures": failures,
        "decide_s": decide, "spawn_s": spawn, "wave": wave, "slot_idle_s": sum(spawn), "finish_lag_s": finish_lag,
        "wall_s": wall, "cpu_s": cpu, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "events_in": CountingStore.recorded, "events_stored": store.log.count(),
        "stream_lines_written": written, "stream_lines_read": lines_read, "plans": plans, "log": str(work / "state.db"),
    }


def child(args: argparse.Namespace) -> None:
    work = Path(tempfile.mkdtemp(prefix=f"ws-bench-{args.child}-"))
    repo = Path(args.repo)
    result = run_level(args.child, repo, work, args.agent_seconds, args.launcher)
    print(json.dumps(result))


def ms4(values: list[float]) -> str:
    """p50 / p95 / p99 / worst in milliseconds."""
    return " / ".join(f"{percentile(values, share) * 1000:.1f}" for share in (0.5, 0.95, 0.99)) + f" / {max(values, default=float('nan')) * 1000:.1f} ms"


def run_child(level: int, launcher: str, repo: Path, args: argparse.Namespace) -> dict | str:
    """One level under one launcher in a process of its own: its result, or why there is none."""
    try:
        out = subprocess.run([sys.executable, __file__, "--child", str(level), "--launcher", launcher, "--repo", str(repo),
                              "--agent-seconds", str(args.agent_seconds)], capture_output=True, text=True, timeout=args.timeout)
        return json.loads(out.stdout.strip().splitlines()[-1])
    except subprocess.TimeoutExpired:
        return f"did not finish within {args.timeout:.0f} s"
    except (IndexError, json.JSONDecodeError):
        return f"failed: {out.stderr.strip().splitlines()[-1] if out.stderr.strip() else 'no output'}"


def print_latency(result: dict) -> None:
    level, launcher = result["concurrency"], result["launcher"]
    waves = ((1, f"all {level} appear at once" if level > 1 else "it appears"), (2, "its dependency finished, one by one"),
             (3, "its dependency finished while the burst was still starting"))
    for wave, when in waves:
        chosen = [index for index, value in enumerate(result["wave"]) if value == wave]
        if not chosen:
            continue
        decide, spawn, output = ([result[name][index] for index in chosen] for name in ("decide_s", "spawn_s", "output_s"))
        output = [value for value in output if value == value]  # a session that never wrote is left out (nan)
        print(f"| {launcher} | {level} | {when} ({len(chosen)}) | {percentile(decide, 0.5) * 1000:.1f} / {percentile(decide, 0.99) * 1000:.1f} ms"
              f" | {ms4(spawn)} | {percentile(output, 0.5) * 1000:.0f} / {percentile(output, 0.99) * 1000:.0f} ms"
              f" | ×{percentile(spawn, 0.99) / 0.5:.2f} ({'met' if percentile(spawn, 0.99) <= 0.5 else 'NOT met'}) |")


def print_cost(result: dict) -> None:
    own, own_cpu, process = result["own_s"], result["own_cpu_s"], result["process_start_s"]
    parts = {name: percentile(values, 0.99) for name, values in result["parts_cpu_s"].items()}
    largest = sorted(parts, key=parts.__getitem__, reverse=True)[:3]

    def goal(values: list[float]) -> str:
        return f"×{percentile(values, 0.99) / OWN_COST_GOAL_S:.2f} ({'met' if percentile(values, 0.99) <= OWN_COST_GOAL_S else 'NOT met'})"

    print(f"| {result['launcher']} | {result['concurrency']} | {len(own)} | {ms4(own_cpu)} | {goal(own_cpu)} | {ms4(own)} | {goal(own)}"
          f" | {ms4(process)} | {', '.join(f'{name} {parts[name] * 1000:.1f}' for name in largest)} ms |")


def print_plans(result: dict) -> None:
    """How often the run planned, how many starts each plan that dispatched decided, and what plans cost."""
    plans = result.get("plans", [])
    dispatching = [(cpu, count) for cpu, count in plans if count]
    others = [cpu for cpu, count in plans if not count]
    counts = [count for _, count in dispatching]
    print(f"| {result['launcher']} | {result['concurrency']} | {len(plans)} | {len(dispatching)}"
          f" | {percentile(counts, 0.5):.0f} / {max(counts, default=0)}"
          f" | {percentile([cpu for cpu, _ in dispatching], 0.5) * 1000:.2f} / {percentile([cpu for cpu, _ in dispatching], 0.99) * 1000:.2f} ms"
          f" | {percentile(others, 0.5) * 1000:.2f} / {percentile(others, 0.99) * 1000:.2f} ms | {sum(cpu for cpu, _ in plans):.2f} s |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", default="1,50,200")
    parser.add_argument("--launchers", default="direct,runner", help="each level runs under each, back to back")
    parser.add_argument("--timeout", type=float, default=240.0, help="seconds allowed per level and launcher")
    parser.add_argument("--agent-seconds", type=float, default=6.0)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--launcher", default="direct", help=argparse.SUPPRESS)
    parser.add_argument("--repo", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    root = Path(tempfile.mkdtemp(prefix="ws-bench-"))
    started = time.perf_counter()
    repo = make_repo(root)
    print(f"## Dispatch latency (real engine, processes, worktrees; repository of {REPO_FILES:,} files made in {time.perf_counter() - started:.0f} s)\n")
    add = prepare_seconds(repo, 3, from_pool=False)
    spawn_base = statistics.median(spawn_seconds())
    take = prepare_seconds(repo, 3, from_pool=True)
    print(f"`git worktree add` of {REPO_FILES:,} files: median {statistics.median(add):.2f} s over {len(add)} (serialised by the workspace lock);"
          f" taking a worktree from the warm pool instead: median {statistics.median(take) * 1000:.0f} ms over {len(take)}"
          f" (×{statistics.median(take) / statistics.median(add):.3f})")
    print(f"same-run baseline: fork/exec of a Python child {spawn_base * 1000:.1f} ms\n")
    results: list[dict] = []
    notes: list[str] = []
    for level in (int(value) for value in args.levels.split(",")):
        for launcher in args.launchers.split(","):
            load_before = os.getloadavg()[0]
            result = run_child(level, launcher, repo, args)
            if isinstance(result, str):
                notes.append(f"{level} at once, {launcher}: {result}")
                continue
            result["load"] = (load_before, os.getloadavg()[0])
            results.append(result)
            print(f"({launcher}, {level} at once: done in {result['wall_s']:.0f} s, load average {load_before:.1f} → {result['load'][1]:.1f})",
                  file=sys.stderr, flush=True)
    print("| launcher | sessions at once | when ready | ready → decided p50 / p99 | ready → process spawned p50 / p95 / p99 / worst"
          " | ready → its first output read p50 / p99 | × goal 0.5 s (p99 spawned) |")
    print("|---|---|---|---|---|---|---|")
    for result in results:
        print_latency(result)
    print("\n### The orchestrator's own work per start, apart from the machine's process start\n")
    print(f"| launcher | sessions at once | starts | own work, CPU p50 / p95 / p99 / worst | × goal {OWN_COST_GOAL_S * 1000:.0f} ms (p99)"
          f" | own work, wall p50 / p95 / p99 / worst | × goal {OWN_COST_GOAL_S * 1000:.0f} ms (p99)"
          " | process start (fork + exec, wall) p50 / p95 / p99 / worst | largest parts at p99 (CPU) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for result in results:
        print_cost(result)
    for result in results:
        level, lag = result["concurrency"], result["finish_lag_s"]
        notes.append(f"{result['launcher']}, {level} at once: load average (1 min) {result['load'][0]:.1f} at its start, {result['load'][1]:.1f} at its end;"
                     f" its event log {result['log']} (bench_plan_replay.py replays it)")
        projected = percentile(result["spawn_s"], 0.99) + 0.99 * level * statistics.median(add)
        notes.append(f"{result['launcher']}, {level} at once: agent process ended → its end recorded (slot free) p50 / p99"
                     f" {percentile(lag, 0.5) * 1000:.0f} / {percentile(lag, 0.99) * 1000:.0f} ms;"
                     f" slots idle while work was ready {result['slot_idle_s']:.2f} s in all"
                     f" (seed's poll: ~{SEED_MEAN_WAIT_S * result['sessions']:.0f} s); with a cold `git worktree add` per session"
                     f" and no warm pool the p99 would be about {projected:.0f} s (projected from the median above)")
        if result["failures"]:
            notes.append(f"{result['launcher']}, {level} at once: {result['sessions'] - result['succeeded']} sessions did not succeed; why: "
                         + "; ".join(result["failures"][:5]))
    print("\n" + "\n".join(f"- {note}" for note in notes))
    print("\n### Plans made (every `plan()` of the run, CPU)\n")
    print("| launcher | sessions at once | plans | of them dispatching | starts per dispatching plan p50 / max | plan CPU p50 / p99 (dispatching)"
          " | plan CPU p50 / p99 (the others) | plan CPU in all |")
    print("|---|---|---|---|---|---|---|---|")
    for result in results:
        print_plans(result)
    print("\n## Orchestrator overhead (same runs)\n")
    print("| launcher | sessions at once | sessions | wall | orchestrator CPU share of one core | × goal (1/4 core) | peak RSS | × goal (300 MB) | events in = stored | stream lines read / written |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for result in results:
        share = result["cpu_s"] / result["wall_s"]
        print(f"| {result['launcher']} | {result['concurrency']} | {result['succeeded']}/{result['sessions']} ok | {result['wall_s']:.1f} s | {share:.3f} | ×{share / 0.25:.2f}"
              f" | {result['peak_rss_mb']:.0f} MB | ×{result['peak_rss_mb'] / 300:.2f} | {result['events_in']} = {result['events_stored']}"
              f" {'yes' if result['events_in'] == result['events_stored'] else 'NO'} | {result['stream_lines_read']} / {result['stream_lines_written']} |")

if __name__ == "__main__":
    main()
