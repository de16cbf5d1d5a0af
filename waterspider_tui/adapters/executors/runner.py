"""The tiny wrapper every local session runs under, detached from the orchestrator.

`python -I -S runner.py SESSION_DIR -- ARGV...` (or `python -m waterspider_tui.adapters.executors.runner`)
starts the agent with stdin closed and its stdout/stderr in files, and records in SESSION_DIR:
`runner.pid`, `child.pid`, a `heartbeat` file touched every few seconds, and on the end
`exit.json` (`{"returncode": N, "ended": TS}`). `WATERSPIDER_RUNNER_CWD` is the agent's directory,
`WATERSPIDER_RUNNER_NICE` the niceness it runs at. Because the orchestrator only reads these
files, it can die and restart and still reattach to the session or collect its result.

It imports almost nothing (`os.posix_spawn` rather than `subprocess`, no `pathlib`, `json` only
to report a failed start): when a hundred sessions start at once, each runner's start-up CPU
is taken from the orchestrator and the other sessions.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time

HEARTBEAT_INTERVAL_S = 2.0


def _write_atomic(path: str, text: str) -> None:
    temporary = path + ".tmp"
    with open(temporary, "w") as handle:
        handle.write(text)
    os.replace(temporary, path)


def _beat(path: str, stop: threading.Event) -> None:
    while not stop.wait(HEARTBEAT_INTERVAL_S):
        try:
            with open(path, "w") as handle:
                handle.write(f"{time.time():.3f}\n")
        except OSError:
            pass


def _exit_record(returncode: int, error: str = "") -> str:
    if not error:
        return f'{{"returncode": {returncode}, "ended": {time.time():.6f}}}'
    import json  # only when the agent could not start: json costs start-up time otherwise

    return json.dumps({"returncode": returncode, "ended": time.time(), "error": error})


def _spawn(argv: list[str], stdout: str, stderr: str) -> int:
    """Start the agent with stdin from /dev/null and its output appended to the two files."""
    append = os.O_WRONLY | os.O_CREAT | os.O_APPEND
    actions = [
        (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, stdout, append, 0o644),
        (os.POSIX_SPAWN_OPEN, 2, stderr, append, 0o644),
    ]
    # A runner started with signals ignored (nohup, a terminal's job control) must not pass that on.
    return os.posix_spawnp(argv[0], argv, os.environ, file_actions=actions, setsigdef=(signal.SIGINT, signal.SIGTERM, signal.SIGHUP))


def run(session_dir: str, argv: list[str], cwd: str | None) -> int:
    os.makedirs(session_dir, exist_ok=True)
    join = os.path.join
    _write_atomic(join(session_dir, "runner.pid"), f"{os.getpid()}\n")
    with open(join(session_dir, "heartbeat"), "w") as heartbeat:
        heartbeat.write(f"{time.time():.3f}\n")
    session_dir = os.path.abspath(session_dir)
    try:
        if cwd:
            os.chdir(cwd)  # posix_spawn has no cwd of its own; the runner's directory does not matter
        pid = _spawn(argv, join(session_dir, "stdout.jsonl"), join(session_dir, "stderr.log"))
    except OSError as error:
        with open(join(session_dir, "stderr.log"), "ab") as stderr:
            stderr.write(f"waterspider: cannot start {argv[0]}: {error}\n".encode())
        _write_atomic(join(session_dir, "exit.json"), _exit_record(127, str(error)))
        return 127
    _write_atomic(join(session_dir, "child.pid"), f"{pid}\n")

    def forward(signum: int, _frame: object) -> None:
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    stop = threading.Event()
    threading.Thread(target=_beat, args=(join(session_dir, "heartbeat"), stop), daemon=True).start()
    _, status = os.waitpid(pid, 0)  # retried after each forwarded signal (PEP 475)
    stop.set()
    _write_atomic(join(session_dir, "exit.json"), _exit_record(os.waitstatus_to_exitcode(status)))
    return 0


def lower_priority(target: int, pid: int = 0) -> None:
    """Run a process (0: this one) at this absolute niceness, and on Linux its autogroup too.

    With autogroups (the default on desktop kernels) the CPU is shared between sessions first
    and by niceness only within one, and every runner is a session of its own, whose autogroup
    starts at nice 0: without it two hundred sessions would leave the orchestrator a
    two-hundredth of the machine whatever their niceness. The orchestrator calls this for a new
    runner at once, so the runner's own start-up already yields; the runner calls it again.
    """
    try:
        if os.getpriority(os.PRIO_PROCESS, pid) < target:
            os.setpriority(os.PRIO_PROCESS, pid, target)
    except OSError:
        pass
    try:
        with open(f"/proc/{pid or 'self'}/autogroup", "w") as autogroup:
            autogroup.write(str(target))
    except OSError:  # no autogroups here (macOS, or a kernel without them), or the process is gone
        pass


def main() -> None:
    args = sys.argv[1:]
    if len(args) < 3 or args[1] != "--":
        print("usage: python runner.py SESSION_DIR -- ARGV...", file=sys.stderr)
        raise SystemExit(2)
    cwd = os.environ.pop("WATERSPIDER_RUNNER_CWD", None)
    nice = os.environ.pop("WATERSPIDER_RUNNER_NICE", "")
    if nice:
        lower_priority(int(nice))
    raise SystemExit(run(args[0], args[2:], cwd))


if __name__ == "__main__":
    main()
