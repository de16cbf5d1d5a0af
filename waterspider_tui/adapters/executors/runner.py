"""The tiny wrapper every local session runs under, detached from the orchestrator.

`python -m waterspider_tui.adapters.executors.runner SESSION_DIR -- ARGV...` starts the agent
with stdin closed and its stdout/stderr in files, and records in SESSION_DIR:
`runner.pid`, `child.pid`, a `heartbeat` file touched every few seconds, and on the end
`exit.json` (`{"returncode": N, "ended": TS}`). Because the orchestrator only reads these
files, it can die and restart and still reattach to the session or collect its result.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

HEARTBEAT_INTERVAL_S = 2.0


def _write_atomic(path: Path, text: str) -> None:
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_text(text)
    os.replace(temporary, path)


def _beat(path: Path, stop: threading.Event) -> None:
    while not stop.wait(HEARTBEAT_INTERVAL_S):
        try:
            path.write_text(f"{time.time():.3f}\n")
        except OSError:
            pass


def run(session_dir: Path, argv: list[str], cwd: str | None) -> int:
    session_dir.mkdir(parents=True, exist_ok=True)
    _write_atomic(session_dir / "runner.pid", f"{os.getpid()}\n")
    (session_dir / "heartbeat").write_text(f"{time.time():.3f}\n")
    with open(session_dir / "stdout.jsonl", "ab", buffering=0) as stdout, open(session_dir / "stderr.log", "ab", buffering=0) as stderr:
        try:
            child = subprocess.Popen(argv, cwd=cwd, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr)
        except OSError as error:
            stderr.write(f"waterspider: cannot start {argv[0]}: {error}\n".encode())
            returncode = 127
            _write_atomic(session_dir / "exit.json", json.dumps({"returncode": returncode, "ended": time.time(), "error": str(error)}))
            return returncode
        _write_atomic(session_dir / "child.pid", f"{child.pid}\n")

        def forward(signum: int, _frame: object) -> None:
            try:
                child.send_signal(signum)
            except ProcessLookupError:
                pass

        signal.signal(signal.SIGTERM, forward)
        signal.signal(signal.SIGINT, forward)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        stop = threading.Event()
        threading.Thread(target=_beat, args=(session_dir / "heartbeat", stop), daemon=True).start()
        returncode = child.wait()
        stop.set()
    _write_atomic(session_dir / "exit.json", json.dumps({"returncode": returncode, "ended": time.time()}))
    return 0


def main() -> None:
    args = sys.argv[1:]
    if len(args) < 3 or args[1] != "--":
        print("usage: python -m waterspider_tui.adapters.executors.runner SESSION_DIR -- ARGV...", file=sys.stderr)
        raise SystemExit(2)
    cwd = os.environ.pop("WATERSPIDER_RUNNER_CWD", None)
    raise SystemExit(run(Path(args[0]), args[2:], cwd))


if __name__ == "__main__":
    main()
