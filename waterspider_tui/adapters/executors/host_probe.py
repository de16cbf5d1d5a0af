"""This machine's load and memory, read without extra dependencies."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from waterspider_tui.core.models import HostStatus


def _memory_percent() -> float | None:
    try:
        with open("/proc/meminfo") as meminfo:
            values = {line.split(":")[0]: int(line.split()[1]) for line in meminfo if ":" in line}
        total, available = values["MemTotal"], values.get("MemAvailable", values.get("MemFree", 0))
        return round(100.0 * (total - available) / total, 1) if total else None
    except (OSError, KeyError, ValueError, IndexError):
        pass
    if sys.platform == "darwin":
        try:
            output = subprocess.run(["memory_pressure", "-Q"], capture_output=True, text=True, timeout=2).stdout
            free = float(output.rsplit(":", 1)[1].strip().rstrip("%"))
            return round(100.0 - free, 1)
        except (OSError, ValueError, IndexError, subprocess.SubprocessError):
            return None
    return None


def probe_local(name: str, slots_total: int) -> HostStatus:
    try:
        load = os.getloadavg()[0]
    except OSError:
        load = None
    return HostStatus(name=name, slots_total=slots_total, reachable=True, load=load, mem_percent=_memory_percent(), probed_at=time.time())
