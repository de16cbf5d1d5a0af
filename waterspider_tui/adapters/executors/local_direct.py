"""The light way to start a local session: the agent under a few lines of `sh`, no Python runner.

The orchestrator starts `nice -n N sh -c WRAPPER ws-session SESSION_DIR STDIN -- ARGV...` in a
session (process group) of its own, with the agent's directory as its cwd. The shell writes
the same files the Python runner does, so `DetachedProcesses` finds a session again whichever
way it started: `runner.pid` (the shell's pid, which is also the process group), `heartbeat`
(the start time, once), the agent's `stdout.jsonl` and `stderr.log`, and on the end `exit.json`
(`{"returncode": N}`; its mtime is the end). The shell outlives an orchestrator killed with
SIGKILL like the runner does, and a stop signals the whole group as before.

What the agent starts in a session of its own (`setsid`, a daemon's double fork) leaves the
process group and, once its parent exits, goes to init: the runner, a Linux child subreaper,
kept such processes below itself; the shell has no subreaper. So every session's environment
carries its mark (`local_marks.py`), and at the end of the agent and on a stop the processes
still carrying it are ended with the group (Linux; elsewhere only the group is).

What only the runner does (choose `[sessions] launcher = "runner"` where it matters):
- it refreshes `heartbeat` every 2 s and writes `child.pid`;
- it tells an agent killed by a signal from one exiting with 128 + that number: here both
  read as killed by the signal (`-N`), as a shell reports them.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import time
from pathlib import Path

from waterspider_tui.adapters.agents.base import LaunchSpec
from waterspider_tui.adapters.executors.local_marks import MARK_VARIABLE, SharedLooks, mark_of, session_start, signal_marked
from waterspider_tui.adapters.executors.local_pids import _pid_alive

WRAPPER = r"""d=$1; input=$2; [ -n "$3" ] && { echo "$3" > /proc/self/autogroup; } 2>/dev/null; shift 4
set -C; { echo $$ > "$d/runner.pid"; } 2>/dev/null; set +C
printf '%s\n' "$WS_STARTED" > "$d/heartbeat"
unset WS_STARTED
trap : TERM INT HUP
"$@" < "$input" >> "$d/stdout.jsonl" 2>> "$d/stderr.log"
rc=$?
trap '' TERM INT HUP
kill -TERM 0 2>/dev/null
[ "$rc" -gt 128 ] && [ "$rc" -le 192 ] && rc=$((128 - rc))
printf '{"returncode": %d}\n' "$rc" > "$d/exit.json"
"""
"""Why each line: the session's autogroup (Linux) is lowered first, by the shell itself, so
the orchestrator has nothing left to do after the start (why autogroups: `runner.lower_priority`);
the pid is written by the shell too, so an orchestrator killed between the
spawn and its own write still finds the session, but only where the file is not there yet
(noclobber): truncating the orchestrator's file would show a reader an empty pid for a moment; the traps only defer a stop signal until the
agent (in the foreground, with default signal handling) has ended of it; `kill -TERM 0` then
asks whatever the agent left in the group to end (the orchestrator SIGKILLs what is still
there after LEFTOVER_GRACE_S); signal deaths become negative like `os.waitstatus_to_exitcode`."""
WRAPPER_NAME = "ws-session"
"""The shell's $0: `ps` shows sessions by this name."""
LEFTOVER_GRACE_S = 2.0
"""Once the agent has exited, what it left in its group gets this long after SIGTERM before SIGKILL."""
LEFTOVER_KILL_WAIT_S = 2.0
"""How long SIGKILLed leftovers may take to be gone before the end is reported anyway."""
LEFTOVER_POLL_S = 0.05


def wrapper_argv(session_dir: Path, spec: LaunchSpec, niceness: int, autogroup: int | None = None) -> list[str]:
    """The command line that runs `spec` under the shell wrapper, `niceness` nicer than us, its autogroup at `autogroup`."""
    stdin = str(session_dir / spec.stdin_file) if spec.stdin_file else os.devnull
    shell = ["sh", "-c", WRAPPER, WRAPPER_NAME, str(session_dir), stdin, "" if autogroup is None else str(autogroup), "--", *spec.argv]
    return ["nice", "-n", str(niceness), *shell] if niceness > 0 else shell


def wrapper_env(session_dir: Path, spec: LaunchSpec) -> dict[str, str]:
    """The agent's environment with the session's mark, plus the start time the shell writes as the first heartbeat (and removes)."""
    return {**spec.env, MARK_VARIABLE: mark_of(session_dir), "WS_STARTED": f"{time.time():.3f}"}


def check_launchable(session_dir: Path, spec: LaunchSpec) -> None:
    """FileNotFoundError naming what is missing: the program or the stdin file.

    Why before the start: under the runner a failed exec is recorded with its reason; a shell
    would only say `not found` in stderr.log and exit 127.
    """
    if not spec.argv:
        raise FileNotFoundError("the agent's command line is empty")
    program = spec.argv[0]
    if os.sep in program:
        if not os.access(program if os.path.isabs(program) else os.path.join(spec.cwd, program), os.X_OK):
            raise FileNotFoundError(f"{program} is not there or not executable")
    elif shutil.which(program, path=spec.env.get("PATH", os.defpath)) is None:
        raise FileNotFoundError(f"{program} is not on the session's PATH")
    if spec.stdin_file and not (session_dir / spec.stdin_file).is_file():
        raise FileNotFoundError(f"the session's stdin file {session_dir / spec.stdin_file} is missing")


def group_alive(group: int) -> bool:
    """True while any process of the process group `group` is left (zombies included)."""
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


ESCAPE_ROUNDS = 3
"""How many times the end looks again for marked processes: one being ended may start another."""


def _outside(group: int, pids: list[int]) -> list[int]:
    """Those of `pids` not in process group `group` (what the group's signal already reached is left out)."""
    outside = []
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            if os.getpgid(pid) != group:
                outside.append(pid)
    return outside


async def escaped_processes(looks: SharedLooks, session_dir: Path, group: int, signum: int | None = None) -> list[int]:
    """The processes carrying the session's mark (see local_marks.py) outside its process group, sent `signum` if given.

    Why outside only: the group has had its signal; a second SIGTERM can read as "force quit".
    """
    mark = mark_of(session_dir)
    found = _outside(group, await looks.find(mark, session_start(session_dir), group))
    return signal_marked(found, mark, signum) if signum is not None and found else found


async def end_leftovers(group: int, session_dir: Path, looks: SharedLooks, grace_s: float = LEFTOVER_GRACE_S) -> None:
    """End what the agent left: its process group (the shell sent it SIGTERM) and the processes
    carrying the session's mark outside it, SIGKILLed grace_s after SIGTERM.

    Why the mark: a process the agent started with `setsid` or a double fork is out of the group
    and, its parent gone, belongs to init; the runner as a subreaper caught these, the shell cannot.
    Why it is the orchestrator's job: a shell can tell neither without starting `ps`; one
    `killpg(group, 0)` answers for the group, and the look through /proc runs in a thread, never on the loop.
    """
    mark = mark_of(session_dir)
    for _ in range(ESCAPE_ROUNDS):
        escaped = await escaped_processes(looks, session_dir, group, signal.SIGTERM)
        if not escaped and not group_alive(group):
            return
        kill_at = time.monotonic() + grace_s
        while group_alive(group) or any(_pid_alive(pid) for pid in escaped):
            now = time.monotonic()
            if now > kill_at + LEFTOVER_KILL_WAIT_S:
                return  # stuck in the kernel: given up on, as the runner does
            if now >= kill_at:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(group, signal.SIGKILL)
                signal_marked(escaped, mark, signal.SIGKILL)
            await asyncio.sleep(LEFTOVER_POLL_S)
        grace_s = 0.0  # what appeared while the first ones were ended has had its chance
