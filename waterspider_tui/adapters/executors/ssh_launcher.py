"""Starts one session's runner on an SSH host, detached from the connection (standard library only).

`python3 -I -S ssh_launcher.py RUNNER_PY < order.json` prints `PID new` once the runner has written
its pid (or `PID existing` when the session was already started: a start repeated after a lost
answer never makes a second agent).
The order is one JSON object: `session_dir`, `argv`, `cwd`, `env` (the agent's variables),
`inherit` (names taken from the host's own environment: HOME, PATH, ...), `path_prepend`,
`files` (name -> text, written into the session folder first), `stdin_file` (and
`stdin_via_runner`, true when the runner opens it itself), `nice`, and
`orphan_after_s` / `orphan_check_s` for the watchdog below.

Why not the local executor's way (a Popen from the orchestrator): the process that starts the
runner here is an SSH channel's shell, which ends with the channel. The runner is forked into a
session of its own (`setsid`, so it and the agent form one process group that `stop` signals as
a whole), with stdin, stdout and stderr on /dev/null so that no file of the channel is held open,
and the launcher exits as soon as the runner is up. The variables arrive on stdin, never on a
command line that other users of the host could read with `ps`.

The watchdog: a host cut off from its orchestrator must not let the agent run on while the
orchestrator requeues the issue elsewhere. The orchestrator touches `lease` in the session folder
each time it checks whether the session ended; a small process in the session's group stops the
group (TERM, then KILL) once the lease is older than `orphan_after_s`, and writes `orphaned`
saying so. It ends by itself with the session (a pipe the runner and the agent hold closes).
"""

from __future__ import annotations

import json
import os
import select
import signal
import sys
import time

GRACE_S = 10.0


def _write(path: str, text: str, mode: int = 0o600) -> None:
    temporary = f"{path}.tmp{os.getpid()}"
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(temporary, path)


def _read_pid(path: str) -> int:
    try:
        with open(path) as handle:
            return int(handle.read().strip() or 0)
    except (OSError, ValueError):
        return 0


def _exit_record(session_dir: str, error: str) -> None:
    record = {"returncode": 127, "ended": time.time(), "error": error}
    _write(os.path.join(session_dir, "exit.json"), json.dumps(record), 0o644)


def _stdin_path(order: dict, session_dir: str) -> str:
    """The agent's stdin file as an absolute path (a relative name is in the session folder); '' for none."""
    stdin_file = order.get("stdin_file") or ""
    return os.path.join(session_dir, os.path.expanduser(stdin_file)) if stdin_file else ""


def _environment(order: dict, stdin_path: str) -> dict[str, str]:
    env = {name: os.environ[name] for name in order.get("inherit", ()) if name in os.environ}
    # Paths of the session on this host may be given as `~/...` (a shell expands those in assignments too).
    env.update({name: os.path.expanduser(value) if value.startswith("~/") else value for name, value in order.get("env", {}).items()})
    prepend = [os.path.expanduser(folder) for folder in order.get("path_prepend", ())]
    path = [folder for folder in prepend if os.path.isdir(folder)] + env.get("PATH", os.defpath).split(os.pathsep)
    env["PATH"] = os.pathsep.join(dict.fromkeys(folder for folder in path if folder))
    env["WATERSPIDER_RUNNER_CWD"] = os.path.expanduser(order.get("cwd") or "~")
    if order.get("nice"):
        env["WATERSPIDER_RUNNER_NICE"] = str(order["nice"])
    if stdin_path and order.get("stdin_via_runner"):
        env["WATERSPIDER_RUNNER_STDIN"] = stdin_path
    return env


def _argv(order: dict, stdin_path: str) -> list[str]:
    argv = [os.path.expanduser(arg) if arg.startswith("~/") else arg for arg in order["argv"]]
    if stdin_path and not order.get("stdin_via_runner"):
        # A runner that only gives /dev/null as stdin: a shell that execs the agent with the file
        # instead keeps the agent's pid and process group.
        argv = ["/bin/sh", "-c", 'exec "$@" < "$0"', stdin_path, *argv]
    return argv


def _watch_lease(session_dir: str, group: int, after_s: float, check_s: float, session_open: int) -> None:
    """`session_open` reads EOF once the runner, the agent and all they started have ended."""
    lease = os.path.join(session_dir, "lease")
    ended = os.path.join(session_dir, "exit.json")
    while True:
        if select.select([session_open], [], [], check_s)[0] or os.path.exists(ended):
            return
        try:
            os.killpg(group, 0)
            age = time.time() - os.stat(lease).st_mtime
        except OSError:
            return
        if age <= after_s:
            continue
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        try:
            _write(os.path.join(session_dir, "orphaned"), f"stopped: no word from the orchestrator for {age:.0f}s\n", 0o644)
            os.killpg(group, signal.SIGTERM)
        except OSError:
            return
        deadline = time.time() + GRACE_S
        while time.time() < deadline and not os.path.exists(ended):
            time.sleep(0.2)
        os.killpg(group, signal.SIGKILL)  # the whole group, this watchdog last
        return


def _detach(order: dict, runner: str, session_dir: str) -> None:
    """In the forked child: a session of its own, no file of the SSH channel, then the runner."""
    try:
        os.setsid()
        devnull = os.open(os.devnull, os.O_RDWR)
        for descriptor in (0, 1, 2):
            os.dup2(devnull, descriptor)
        after_s = float(order.get("orphan_after_s") or 0)
        if after_s > 0:
            session_open, held = os.pipe()
            watcher = os.fork()
            if watcher == 0:
                try:
                    os.close(held)
                    if os.fork() == 0:  # the grandchild is adopted by init: the runner never reaps it
                        _watch_lease(session_dir, os.getpgid(0), after_s, float(order.get("orphan_check_s") or 5), session_open)
                finally:
                    os._exit(0)
            os.waitpid(watcher, 0)
            os.close(session_open)
            os.set_inheritable(held, True)  # held by the runner and the agent: the watchdog ends with them
        python = sys.executable or "python3"
        stdin_path = _stdin_path(order, session_dir)
        os.execve(python, [python, "-I", "-S", runner, session_dir, "--", *_argv(order, stdin_path)], _environment(order, stdin_path))
    except BaseException as error:  # whatever happens, the orchestrator finds an exit record
        try:
            _exit_record(session_dir, f"cannot start the runner: {error}")
        finally:
            os._exit(127)


def _await_runner(session_dir: str, pid: int, timeout_s: float = 5.0) -> None:
    """Return once the runner has written its pid (or an exit record); a runner that died first gets one."""
    deadline = time.time() + timeout_s
    started = os.path.join(session_dir, "runner.pid")
    ended = os.path.join(session_dir, "exit.json")
    while time.time() < deadline:
        if os.path.exists(started) or os.path.exists(ended):
            return
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            if not os.path.exists(started) and not os.path.exists(ended):
                _exit_record(session_dir, f"the session runner ended (status {os.waitstatus_to_exitcode(status)}) before it started the agent")
            return
        time.sleep(0.005)


def main() -> None:
    if sys.version_info < (3, 9):
        raise SystemExit(f"{sys.executable} is Python {sys.version.split()[0]}: the session runner needs 3.9 or newer (set the host's python)")
    runner = sys.argv[1]
    if not os.path.isfile(runner):
        raise SystemExit(f"the session runner {runner} is missing")
    order = json.loads(sys.stdin.buffer.read())
    session_dir = os.path.abspath(os.path.expanduser(order["session_dir"]))
    os.makedirs(session_dir, mode=0o700, exist_ok=True)
    try:
        lock = os.open(os.path.join(session_dir, "launch.lock"), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        deadline = time.time() + 5
        while not (pid := _read_pid(os.path.join(session_dir, "runner.pid"))) and time.time() < deadline:
            if os.path.exists(os.path.join(session_dir, "exit.json")):
                break
            time.sleep(0.05)
        print(f"{pid} existing")
        return
    os.write(lock, f"{time.time():.3f}\n".encode())
    os.close(lock)
    for name, text in (order.get("files") or {}).items():
        if not name or "/" in name or name in (".", ".."):
            raise SystemExit(f"refused a session file name: {name!r}")
        _write(os.path.join(session_dir, name), text)
    with open(os.path.join(session_dir, "lease"), "w"):
        pass
    pid = os.fork()
    if pid == 0:
        _detach(order, runner, session_dir)
    _await_runner(session_dir, pid)
    print(f"{pid} new")


if __name__ == "__main__":
    main()
