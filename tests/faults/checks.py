"""What a run left behind, read from the store, the agents' ledger and the repository, and the promises checked on it."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Collection

from tests.e2e.helpers import git
from waterspider_tui.core import events as ev
from waterspider_tui.core.models import Outcome, TaskState
from waterspider_tui.core.state import Snapshot, replay
from waterspider_tui.store.event_log import EventLog


def read_ledger(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def read_store(path: Path) -> tuple[list[ev.Event], Snapshot]:
    events = list(EventLog(path, read_only=True).read())
    return events, replay(events)


def runner_pid(session_dir: str) -> int | None:
    try:
        return int((Path(session_dir) / "runner.pid").read_text().strip())
    except (OSError, ValueError):
        return None


def exit_code_of(session_dir: str) -> int | None:
    """The agent's exit as its runner recorded it; None when the runner never got to write it."""
    try:
        return json.loads((Path(session_dir) / "exit.json").read_text()).get("returncode")
    except (OSError, ValueError):
        return None


@dataclass
class Verdict:
    """The figures of one run, and every broken promise found in it."""

    issues: int = 0
    duplicates: int = 0
    """Issues that succeeded twice in the store, or whose agent's completion was collected twice."""
    lost: int = 0
    """Issues that did not end succeeded."""
    cut_off: int = 0
    """Agents that finished their work but were killed (power cut) before their exit was recorded:
    crashed attempts, retried, as promised."""
    problems: list[str] = field(default_factory=list)

    def check(self, condition: bool, problem: str) -> None:
        if not condition:
            self.problems.append(problem)


def judge_local_run(store: Path, ledger: Path, deps: dict[int, list[int]], count: int, killed: Collection[int] = ()) -> Verdict:
    """Every issue succeeded exactly once, no completion collected twice, dependencies respected,
    and an attempt started again only after the previous agent of its issue was over."""
    killed = set(killed)
    events, snapshot = read_store(store)
    lines = read_ledger(ledger)
    verdict = Verdict(issues=count)
    succeeded = Counter(e.issue for e in events if isinstance(e, ev.SessionFinished) and e.result.outcome is Outcome.SUCCEEDED)
    sessions = {e.session.session_dir: e for e in events if isinstance(e, ev.SessionStarted)}
    finished = {e.session_id: e for e in events if isinstance(e, ev.SessionFinished)}
    collected = Counter(e.session_id for e in events if isinstance(e, ev.SessionFinished))
    verdict.problems += [f"session {session_id} was collected {times} times" for session_id, times in collected.items() if times > 1]
    for number in range(1, count + 1):
        key = f"local#{number}"
        task = snapshot.tasks.get(key)
        state = task.state if task else None
        if state is not TaskState.SUCCEEDED:
            verdict.lost += 1
            verdict.problems.append(f"#{number} ended {state}: {task.result if task else 'never seen'}")
        if succeeded[key] > 1:
            verdict.duplicates += 1
            verdict.problems.append(f"#{number} succeeded {succeeded[key]} times in the store")
    by_issue: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for line in lines:
        by_issue[line["issue"]].append(line)
    success_finish: dict[int, float] = {}
    for number, mine in by_issue.items():
        completions = [line for line in mine if line["event"] == "finish" and exit_code_of(line["session"]) == 0]
        cut = [line for line in mine if line["event"] == "finish" and exit_code_of(line["session"]) is None]
        verdict.cut_off += len(cut)
        if len(completions) > 1:
            verdict.duplicates += 1
            verdict.problems.append(f"#{number}'s agent ran to completion {len(completions)} times: attempts {[c['attempt'] for c in completions]}")
        for line in cut:
            started = sessions.get(line["session"])
            end = finished.get(started.session.session_id) if started else None
            verdict.check(bool({line["pid"], runner_pid(line["session"])} & killed),
                          f"#{number} attempt {line['attempt']} finished but its exit was never recorded, and no kill explains it")
            verdict.check(end is None or end.result.outcome is not Outcome.SUCCEEDED,
                          f"#{number} attempt {line['attempt']} was cut off but is recorded as succeeded")
        if completions:
            success_finish[number] = completions[0]["t"]
            task = snapshot.tasks.get(f"local#{number}")
            verdict.check(task is not None and task.session is not None and task.session.session_dir == completions[0]["session"],
                          f"#{number}: the store's succeeded session is not the one whose agent completed")
        # One agent at a time per issue: a start comes after the previous attempt's agent ended or was killed.
        open_pid: int | None = None
        for line in sorted(mine, key=lambda item: item["t"]):
            if line["event"] == "start":
                verdict.check(open_pid is None or open_pid in killed,
                              f"#{number} attempt {line['attempt']} started while pid {open_pid} still ran an earlier attempt")
                open_pid = line["pid"]
            else:
                open_pid = None
    for number, blockers in deps.items():
        for blocker in blockers:
            done = success_finish.get(blocker)
            for line in by_issue.get(number, ()):
                if line["event"] == "start":
                    verdict.check(done is not None and line["t"] > done,
                                  f"#{number} attempt {line['attempt']} started before its dependency #{blocker} finished")
    return verdict


def checkout_untouched(repo: Path, head: str, branch: str = "main") -> list[str]:
    """The operator's checkout as they left it: same branch, same commit, nothing changed or added."""
    problems = []
    status = git(repo, "status", "--porcelain", "--untracked-files=all")
    if status.strip():
        problems.append(f"the operator's checkout changed: {status.strip()[:500]}")
    current = git(repo, "symbolic-ref", "--short", "HEAD").strip()
    if current != branch:
        problems.append(f"the operator's checkout is on {current}, not {branch}")
    if git(repo, "rev-parse", "HEAD").strip() != head:
        problems.append("the operator's branch moved")
    return problems
