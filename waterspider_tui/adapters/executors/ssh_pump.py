"""Answers an orchestrator's questions about this host's sessions over one SSH channel (standard library only).

`python3 -I -S ssh_pump.py` reads one JSON request per line on stdin:
`{"read": [[path, offset, limit], ...], "state": [session_dir, ...], "touch": [path, ...]}`
and answers each with one JSON line `{"sizes": [n, ...], "states": [{...}, ...]}` followed by the
bytes read, file after file (`sizes` says where each ends). It ends with its stdin.

Why a process that stays: the orchestrator asks for every session's output five times a second
and for its liveness twice; as sh scripts that would start several processes per session per
question on the host (hundreds a second for fifty sessions), here it is a few system calls.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

HEARTBEAT_FRESH_S = 20.0
"""A runner beats every 2 s; a pid whose heartbeat is this fresh is taken for ours without asking `ps`."""


def _read(path: str, offset: int, limit: int) -> bytes:
    try:
        with open(os.path.expanduser(path), "rb") as handle:
            handle.seek(offset)
            return handle.read(max(0, limit))
    except OSError:
        return b""


def _text(path: str) -> str:
    try:
        with open(path) as handle:
            return handle.read().strip()
    except (OSError, UnicodeDecodeError):
        return ""


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return 0.0


def _process(pid: int) -> tuple[str, str] | None:
    """(state letter, command line) of a live pid, or None when it is gone."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            letter = stat.read().rsplit(b")", 1)[1].split()[0].decode()
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            return letter, cmdline.read().replace(b"\0", b" ").decode("utf-8", "replace")
    except (OSError, IndexError):
        pass
    try:  # no /proc (macOS)
        shown = subprocess.run(["ps", "-o", "stat=,command=", "-p", str(pid)], capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "?", ""
    if not shown:
        return None
    letter, _, command = shown.partition(" ")
    return letter[:1], command.strip()


def state(session_dir: str) -> dict[str, object]:
    folder = os.path.expanduser(session_dir)
    found = _state(folder)
    orphaned = _text(os.path.join(folder, "orphaned"))
    if orphaned:  # the watchdog stopped it: why it ended, whatever its exit says
        found["orphaned"] = orphaned
    return found


def _state(folder: str) -> dict[str, object]:
    now = time.time()
    ended = _text(os.path.join(folder, "exit.json"))
    if ended:
        return {"exit": ended}
    pid_text = _text(os.path.join(folder, "runner.pid"))
    if not pid_text.isdigit():
        lock = _number(_text(os.path.join(folder, "launch.lock")))
        return {"starting_age_s": max(0.0, now - lock)} if lock else {}
    pid = int(pid_text)
    beat = _number(_text(os.path.join(folder, "heartbeat")))
    beat_age = max(0.0, now - beat) if beat else None
    alive = False
    if beat_age is not None and beat_age < HEARTBEAT_FRESH_S and not os.path.exists(f"/proc/{pid}"):
        try:  # macOS: a fresh heartbeat and a live pid are our runner; `ps` only when in doubt
            os.kill(pid, 0)
            alive = True
        except ProcessLookupError:
            alive = False
        except PermissionError:
            alive = True
    else:
        found = _process(pid)
        alive = found is not None and found[0] != "Z" and f" {folder} " in f" {found[1]} "
    ended = _text(os.path.join(folder, "exit.json"))  # it may have ended while we looked
    if ended:
        return {"exit": ended}
    return {"pid": pid, "alive": alive, "heartbeat_age_s": beat_age}


def answer(request: dict) -> tuple[dict[str, object], list[bytes]]:
    for path in request.get("touch", ()):
        try:
            os.utime(os.path.expanduser(path))
        except OSError:
            pass
    chunks = [_read(str(path), int(offset), int(limit)) for path, offset, limit in request.get("read", ())]
    states = [state(str(folder)) for folder in request.get("state", ())]
    return {"sizes": [len(chunk) for chunk in chunks], "states": states}, chunks


def main() -> None:
    out = sys.stdout.buffer
    for line in sys.stdin.buffer:
        try:
            header, chunks = answer(json.loads(line))
        except (ValueError, TypeError, AttributeError) as error:
            header, chunks = {"sizes": [], "states": [], "error": str(error)}, []
        out.write(json.dumps(header).encode() + b"\n")
        for chunk in chunks:
            out.write(chunk)
        out.flush()


if __name__ == "__main__":
    main()
