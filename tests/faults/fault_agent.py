"""A `command` agent for the fault suite: it keeps a ledger, commits, and misbehaves on request.

    python fault_agent.py LEDGER MODE SEED NUMBER

Every run appends `start` to LEDGER as it begins, and `finish` just before it exits 0 (`exit`
when it gives up): one JSON object a line (`event`, `issue`, `attempt`, `pid`, `session`, `t`),
written with O_APPEND in one write, so that lines of parallel agents never interleave and a kill
leaves whole lines. In between it sleeps a time drawn from SEED, the issue and the attempt,
writes a file and commits it on its branch. Standard library only: it runs under the session
runner, outside the test process.

MODE is `work` (the above), `slow` (the same, sleeping 0.5 to 2 s instead of 0.1 to 0.6), or `labels`: the issue's `fault:NAME` labels say how to misbehave
after the `start` line, any together: `stubborn` leaves a grandchild that ignores SIGTERM,
`setsid` one in a session of its own (their pids in `leftovers.NAME` in the session folder,
for the test to check by pid), `garbage` prints binary, invalid UTF-8, terminal escapes and a
3 MB line, `signal` kills itself with SIGSEGV, `hang` prints nothing more for ten minutes, `wait`
waits (talking) until the test creates LEDGER.go, then works.
"""

from __future__ import annotations

import json
import os
import random
import resource
import signal
import subprocess
import sys
import time

GRANDCHILD = "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\ntime.sleep(600)\n"
"""A grandchild that ignores SIGTERM and would outlive the session by ten minutes."""


class GaveUp(Exception):
    """The agent gives up with this exit code (recorded in the ledger as `exit`)."""


def ledger(path: str, event: str, number: str, **extra: object) -> None:
    record = {
        "event": event, "issue": int(number), "attempt": int(os.environ.get("WATERSPIDER_ISSUE_ATTEMPT", "0")),
        "pid": os.getpid(), "session": os.environ.get("WATERSPIDER_ISSUE_SESSION_DIR", ""), "t": time.time(), **extra,
    }
    handle = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(handle, (json.dumps(record) + "\n").encode())
        os.fsync(handle)
    finally:
        os.close(handle)


def say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def commit(number: str, attempt: str) -> None:
    """One file and one commit on the issue's branch, in the worktree the agent runs in."""
    name = f"issue-{number}-attempt-{attempt}.txt"
    with open(name, "w") as handle:
        handle.write(f"work on issue {number}, attempt {attempt}\n")
    for args in (["add", name], ["commit", "-q", "-m", f"issue {number}: attempt {attempt}"]):
        for _ in range(20):  # a git the previous (killed) attempt left may hold index.lock a moment
            done = subprocess.run(["git", *args], capture_output=True, text=True)
            if done.returncode == 0:
                break
            time.sleep(0.25)
        else:
            say(f"error: git {args[0]} failed: {done.stderr.strip()}")
            raise GaveUp(1)


def spawn_leftover(folder: str, name: str, *, new_session: bool) -> None:
    """Start a grandchild that ignores SIGTERM and record its pid in `leftovers.NAME` in the session folder."""
    child = subprocess.Popen([sys.executable, "-c", GRANDCHILD], start_new_session=new_session,
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(os.path.join(folder, f"leftovers.{name}"), "a") as handle:
        handle.write(f"{child.pid}\n")


def wait_for(gate: str, limit_s: float = 60.0) -> None:
    """Wait for the test to create `gate`, saying so every half second (so it never looks stalled)."""
    deadline = time.monotonic() + limit_s
    while not os.path.exists(gate) and time.monotonic() < deadline:
        say("waiting for the test")
        time.sleep(0.5)


def faults(mode: str) -> set[str]:
    """The ways to misbehave: MODE itself, or with `labels` the issue's `fault:NAME` labels."""
    if mode != "labels":
        return {mode}
    labels = os.environ.get("WATERSPIDER_ISSUE_LABELS", "").split(",")
    return {label.removeprefix("fault:") for label in labels if label.startswith("fault:")}


def main() -> None:
    path, mode, seed, number = sys.argv[1:5]
    attempt = os.environ.get("WATERSPIDER_ISSUE_ATTEMPT", "0")
    folder = os.environ.get("WATERSPIDER_ISSUE_SESSION_DIR", ".")
    rng = random.Random(f"{seed}:{number}:{attempt}")
    chosen = faults(mode)
    ledger(path, "start", number, faults=sorted(chosen - {"work"}))
    say(f"working on issue {number}, attempt {attempt}")
    for name in ("stubborn", "setsid"):
        if name in chosen:
            spawn_leftover(folder, name, new_session=name == "setsid")
    if "garbage" in chosen:
        out = sys.stdout.buffer
        out.write(bytes(range(256)) * 64 + b"\n")
        out.write(b"\xff\xfe\xc3\x28 invalid \xed\xa0\x80 utf-8\n")
        out.write(b"x" * (3 << 20) + b"\n")
        out.write(b"\x1b]0;title\x07\x1b[2J\x00\x00 the end\n")
        out.flush()
    if "signal" in chosen:
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # no core file in the worktree
        os.kill(os.getpid(), signal.SIGSEGV)
    if "hang" in chosen:
        time.sleep(600)
    if "wait" in chosen:
        wait_for(path + ".go")
    time.sleep(rng.uniform(0.5, 2.0) if "slow" in chosen else rng.uniform(0.1, 0.6))
    try:
        commit(number, attempt)
    except GaveUp as error:
        ledger(path, "exit", number, code=error.args[0])
        raise SystemExit(error.args[0]) from None
    say(f"committed issue {number}")
    ledger(path, "finish", number)


if __name__ == "__main__":
    main()
