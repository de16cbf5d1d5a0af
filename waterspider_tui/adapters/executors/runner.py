"""The tiny wrapper every local session runs under, detached from the orchestrator.

`python -I -S runner.py SESSION_DIR -- ARGV...` (or `python -m waterspider_tui.adapters.executors.runner`)
starts the agent with its stdout/stderr in files, and records in SESSION_DIR:
`runner.pid`, `child.pid`, a `heartbeat` file touched every few seconds, and on the end
`exit.json` (`{"returncode": N, "ended": TS}`). `WATERSPIDER_RUNNER_CWD` is the agent's directory,
`WATERSPIDER_RUNNER_NICE` the niceness it runs at, `WATERSPIDER_RUNNER_STDIN` a file to read as its
stdin (the prompt; a name relative to SESSION_DIR; /dev/null without it). Because the orchestrator only reads these
files, it can die and restart and still reattach to the session or collect its result.

It imports almost nothing (`os.posix_spawn` rather than `subprocess`, no `pathlib`, `json` only
to report a failed start): when a hundred sessions start at once, each runner's start-up CPU
is taken from the orchestrator and the other sessions.

Nothing of a session outlives it: once the agent has exited, whatever it left running below the
runner gets SIGTERM, then SIGKILL after LEFTOVER_GRACE_S, before `exit.json` is written. On Linux
the runner is a child subreaper (through ctypes, its one larger import), so what the agent
started in a session of its own is still below it when its parent exits.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time

HEARTBEAT_INTERVAL_S = 2.0
LEFTOVER_GRACE_S = 2.0
"""Once the agent has exited, what it left running gets this long after SIGTERM before SIGKILL."""
LEFTOVER_KILL_WAIT_S = 2.0
"""How long the runner waits for SIGKILLed leftovers to be gone before it records the exit anyway."""
PR_SET_CHILD_SUBREAPER = 36


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


def _spawn(argv: list[str], stdout: str, stderr: str, stdin: str = os.devnull) -> int:
    """Start the agent with stdin from `stdin` and its output appended to the two files."""
    append = os.O_WRONLY | os.O_CREAT | os.O_APPEND
    actions = [
        (os.POSIX_SPAWN_OPEN, 0, stdin, os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, stdout, append, 0o644),
        (os.POSIX_SPAWN_OPEN, 2, stderr, append, 0o644),
    ]
    # A runner started with signals ignored (nohup, a terminal's job control) must not pass that on.
    return os.posix_spawnp(argv[0], argv, os.environ, file_actions=actions, setsigdef=(signal.SIGINT, signal.SIGTERM, signal.SIGHUP))


def _become_subreaper() -> None:
    """On Linux, become the parent of the agent's orphans instead of init.

    Why: what the agent starts in a session of its own (`setsid`, a daemon's double fork) leaves
    the process group a stop signals, and once its parent exits it is below the runner still,
    where `_end_leftovers` finds it.
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes  # about 3 ms, only here: the rest of the runner needs none of it

        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except (ImportError, OSError, AttributeError):
        pass  # a Python without ctypes: orphans go to init, and only the process group is stopped


def _process_table() -> dict[int, tuple[int, int, bytes]]:
    """Every process as pid -> (parent pid, process group, state letter), read from /proc (empty without it)."""
    table: dict[int, tuple[int, int, bytes]] = {}
    try:
        names = os.listdir("/proc")
    except OSError:
        return table
    for name in names:
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat", "rb") as stat:
                    fields = stat.read().rsplit(b")", 1)[1].split()
                table[int(name)] = (int(fields[1]), int(fields[2]), fields[0])
            except (OSError, IndexError, ValueError):
                pass  # it ended while the table was read
    return table


def descendants(pid: int, table: dict[int, tuple[int, int, bytes]] | None = None) -> list[int]:
    """The processes below pid (its children, theirs, ...), zombies included; empty without /proc."""
    children: dict[int, list[int]] = {}
    for child, (parent, _, _) in (_process_table() if table is None else table).items():
        children.setdefault(parent, []).append(child)
    found: list[int] = []
    parents = [pid]
    while parents:
        below = children.get(parents.pop(), [])
        found += below
        parents += below
    return found


def session_processes(runner_pid: int) -> list[int]:
    """The live processes of a session: those below its runner and those in its process group (the runner's pid)."""
    table = _process_table()
    members = set(descendants(runner_pid, table)) | {pid for pid, (_, group, _) in table.items() if group == runner_pid}
    return sorted(pid for pid in members if table[pid][2] != b"Z")


def _reap_children() -> None:
    """Collect every child that has ended: the orphans the runner takes in become its children."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _end_leftovers(grace_s: float) -> None:
    """SIGTERM every process still below the runner, SIGKILL those there after grace_s, and reap them.

    A process that outlives SIGKILL (stuck in the kernel) is given up on after LEFTOVER_KILL_WAIT_S.
    """
    warned: set[int] = set()
    kill_at = time.monotonic() + grace_s
    while True:
        _reap_children()
        left = descendants(os.getpid())
        now = time.monotonic()
        if not left or now > kill_at + LEFTOVER_KILL_WAIT_S:
            return
        for pid in left:
            if now >= kill_at or pid not in warned:
                try:
                    os.kill(pid, signal.SIGKILL if now >= kill_at else signal.SIGTERM)
                except (ProcessLookupError, PermissionError):
                    pass
                warned.add(pid)
        time.sleep(0.05)


def run(session_dir: str, argv: list[str], cwd: str | None, stdin: str = "") -> int:
    os.makedirs(session_dir, exist_ok=True)
    join = os.path.join
    _write_atomic(join(session_dir, "runner.pid"), f"{os.getpid()}\n")
    with open(join(session_dir, "heartbeat"), "w") as heartbeat:
        heartbeat.write(f"{time.time():.3f}\n")
    session_dir = os.path.abspath(session_dir)
    stdin = join(session_dir, stdin) if stdin else os.devnull  # a relative name is in the session folder
    _become_subreaper()
    try:
        if cwd:
            os.chdir(cwd)  # posix_spawn has no cwd of its own; the runner's directory does not matter
        os.close(os.open(stdin, os.O_RDONLY))  # a missing stdin file is named as such, not blamed on the program
        pid = _spawn(argv, join(session_dir, "stdout.jsonl"), join(session_dir, "stderr.log"), stdin)
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
    while True:  # orphans taken in are reaped here too; retried after each forwarded signal (PEP 475)
        reaped, status = os.waitpid(-1, 0)
        if reaped == pid:
            break
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # the agent is gone: a stop now finds the runner ending its leftovers
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _end_leftovers(LEFTOVER_GRACE_S)
    stop.set()
    _write_atomic(join(session_dir, "exit.json"), _exit_record(os.waitstatus_to_exitcode(status)))
    return 0


def lower_priority(target: int, pid: int = 0, *, autogroup_only: bool = False) -> None:
    """Run a process (0: this one) at this absolute niceness, and on Linux its autogroup too.

    With autogroups (the default on desktop kernels) the CPU is shared between sessions first
    and by niceness only within one, and every runner is a session of its own, whose autogroup
    starts at nice 0: without it two hundred sessions would leave the orchestrator a
    two-hundredth of the machine whatever their niceness. The orchestrator calls this for a new
    runner at once, so the runner's own start-up already yields; the runner calls it again.
    `autogroup_only`: the process is being started under `nice` already (the shell wrapper), so
    only its autogroup is set: lowering it here too could race `nice` and count twice.
    """
    try:
        if not autogroup_only and os.getpriority(os.PRIO_PROCESS, pid) < target:
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
    stdin = os.environ.pop("WATERSPIDER_RUNNER_STDIN", "")
    if nice:
        lower_priority(int(nice))
    raise SystemExit(run(args[0], args[2:], cwd, stdin))


if __name__ == "__main__":
    main()
