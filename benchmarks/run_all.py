"""Runs every benchmark in turn, each bounded in time; the whole set fits in 10 minutes on 2 cores.

Usage: python benchmarks/run_all.py [--quick]   (prints Markdown; paste it into benchmarks/README.md)
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHMARKS = [
    (["bench_scheduling.py"], 240.0),
    (["bench_plan_speed.py"], 60.0),
    (["bench_dispatch.py", "--levels", "1,50,200", "--timeout", "170"], 420.0),
    (["bench_session_end.py"], 60.0),
    (["bench_remote_dispatch.py"], 300.0),
    (["bench_github_cost.py"], 240.0),
    (["bench_tui_load.py"], 180.0),
]
QUICK_ARGS = {
    "bench_scheduling.py": ["--quick"],
    "bench_dispatch.py": ["--levels", "1,10", "--timeout", "60"],
    "bench_session_end.py": ["--processes", "0,50", "--repeat", "10", "--burst", "50", "--burst-processes", "50"],
    "bench_remote_dispatch.py": ["--sequential", "6", "--levels", "20", "--hold", "3", "--timeout", "60"],
    "bench_github_cost.py": ["--quick"],
    "bench_tui_load.py": ["--presses", "20"],
}
"""What `--quick` runs instead of each script's full arguments."""


def main() -> int:
    quick = "--quick" in sys.argv[1:]
    failures = 0
    started = time.perf_counter()
    for args, limit in BENCHMARKS:
        if quick and args[0] in QUICK_ARGS:
            args = [args[0], *QUICK_ARGS[args[0]]]
        try:
            result = subprocess.run([sys.executable, str(HERE / args[0]), *args[1:]], timeout=limit, capture_output=True, text=True)
        except subprocess.TimeoutExpired:
            print(f"\n{args[0]}: stopped after {limit:.0f} s\n")
            failures += 1
            continue
        print(result.stdout)
        if result.returncode:
            print(f"{args[0]} exited {result.returncode}: {result.stderr.strip()[-800:]}\n")
            failures += 1
    print(f"_all benchmarks: {time.perf_counter() - started:.0f} s_")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
