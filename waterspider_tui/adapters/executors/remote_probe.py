"""A host's load, cores, memory and free disk from one sh script, on Linux (/proc) and macOS (sysctl, vm_stat).

The script prints sections (`== name` then the tool's own output) and `parse_probe` reads them, so
the parsing is tested on recorded outputs of both systems without either at hand.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from waterspider_tui.adapters.executors.ssh_connection import remote_path

PROBE = r"""
d=%(disk_dir)s
while [ ! -d "$d" ] && [ "$d" != / ]; do d=$(dirname "$d"); done
echo "== os"; uname -s
case "$(uname -s)" in
Darwin)
  echo "== loadavg"; sysctl -n vm.loadavg
  echo "== ncpu"; sysctl -n hw.ncpu
  echo "== memsize"; sysctl -n hw.memsize
  echo "== pressure"; sysctl -n kern.memorystatus_vm_pressure_level 2>/dev/null
  echo "== vm_stat"; vm_stat
  ;;
*)
  echo "== loadavg"; cat /proc/loadavg
  echo "== ncpu"; getconf _NPROCESSORS_ONLN 2>/dev/null || nproc
  echo "== meminfo"; cat /proc/meminfo
  echo "== pressure"; cat /proc/pressure/memory 2>/dev/null
  ;;
esac
echo "== df"; df -kP "$d"
echo "== sessions"
n=0
for f in %(sessions_dir)s/*/*/runner.pid; do
  [ -f "$f" ] || continue
  [ -f "${f%%/runner.pid}/exit.json" ] && continue
  kill -0 "$(cat "$f" 2>/dev/null)" 2>/dev/null && n=$((n + 1))
done
echo "$n"
"""

MAC_PRESSURE = {"1": "normal", "2": "warning", "4": "critical"}
"""`kern.memorystatus_vm_pressure_level`, the level Activity Monitor's memory pressure graph shows."""
PSI_WARNING, PSI_CRITICAL = 10.0, 40.0
"""Linux: the share of the last 10 s in which some task waited for memory (`/proc/pressure/memory`)
at which memory counts as under pressure; chosen to match a Mac's yellow and red."""


def probe_script(disk_dir: str, sessions_dir: str) -> str:
    return PROBE % {"disk_dir": remote_path(disk_dir), "sessions_dir": remote_path(sessions_dir)}


@dataclass(frozen=True)
class ProbeReading:
    os: str = ""
    load1: float | None = None
    cores: int | None = None
    mem_percent: float | None = None
    mem_pressure: str = ""
    """`normal`, `warning` or `critical`; empty when the host does not say."""
    disk_free_gb: float | None = None
    sessions_running: int | None = None


def sections(output: str) -> dict[str, str]:
    found: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in output.splitlines():
        if line.startswith("== "):
            current = found.setdefault(line[3:].strip(), [])
        elif current is not None:
            current.append(line)
    return {name: "\n".join(lines).strip() for name, lines in found.items()}


def _number(text: str) -> float | None:
    try:
        return float(text.strip().strip("{}").split()[0])
    except (ValueError, IndexError):
        return None


def _integer(text: str) -> int | None:
    value = _number(text)
    return int(value) if value is not None else None


def linux_memory(meminfo: str) -> float | None:
    values = {}
    for line in meminfo.splitlines():
        name, _, rest = line.partition(":")
        if rest.split():
            values[name.strip()] = _number(rest)
    total, available = values.get("MemTotal"), values.get("MemAvailable", values.get("MemFree"))
    if not total or available is None:
        return None
    return round(100.0 * (total - available) / total, 1)


def linux_pressure(psi: str) -> str:
    match = re.search(r"^some\b.*?avg10=([\d.]+)", psi, re.MULTILINE)
    if not match:
        return ""
    share = float(match.group(1))
    return "critical" if share >= PSI_CRITICAL else "warning" if share >= PSI_WARNING else "normal"


def mac_memory(vm_stat: str, memsize: int | None) -> float | None:
    """Memory used as Activity Monitor counts it: app memory (anonymous less purgeable), wired, compressed."""
    page = re.search(r"page size of (\d+) bytes", vm_stat)
    pages = {name.strip().strip('"'): int(value) for name, value in re.findall(r"^([^:\n]+):\s+(\d+)\.?\s*$", vm_stat, re.MULTILINE)}
    if not page or not memsize:
        return None
    if "Anonymous pages" in pages:
        app = pages["Anonymous pages"] - pages.get("Pages purgeable", 0)
    else:
        app = pages.get("Pages active", 0)
    used = (app + pages.get("Pages wired down", 0) + pages.get("Pages occupied by compressor", 0)) * int(page.group(1))
    return round(min(100.0, 100.0 * used / memsize), 1)


def disk_free_gb(df: str) -> float | None:
    """Available space from `df -kP` (or `df -k`): the column before the first `NN%`."""
    lines = [line for line in df.splitlines() if line.strip()]
    if len(lines) < 2:
        return None
    fields = " ".join(lines[1:]).split()
    for index, field in enumerate(fields):
        if re.fullmatch(r"\d+%", field) and index > 0 and fields[index - 1].isdigit():
            return round(int(fields[index - 1]) / (1024 * 1024), 1)
    return None


def parse_probe(output: str) -> ProbeReading:
    found = sections(output)
    system = found.get("os", "").strip()
    if system == "Darwin":
        memory = mac_memory(found.get("vm_stat", ""), _integer(found.get("memsize", "")))
        pressure = MAC_PRESSURE.get(found.get("pressure", "").strip(), "")
    else:
        memory = linux_memory(found.get("meminfo", ""))
        pressure = linux_pressure(found.get("pressure", ""))
    return ProbeReading(
        os=system, load1=_number(found.get("loadavg", "")), cores=_integer(found.get("ncpu", "")),
        mem_percent=memory, mem_pressure=pressure, disk_free_gb=disk_free_gb(found.get("df", "")),
        sessions_running=_integer(found.get("sessions", "")),
    )
