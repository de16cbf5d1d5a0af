"""Many sessions starting at once on reused issue worktrees, from several threads, on real git.

Marking where each branch starts once read the branch's commit through GitPython's one
`git cat-file` process per repository, from every start thread at once: the threads read each
other's answers, and some waited for ever for one (three sessions of a 200-at-once run stayed
"starting" with nothing to say why). Each start must return, and mark its branch.
"""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path

from tests.git_checkout import make_checkout
from waterspider_tui.adapters.workspace import WorkspaceManager, start_ref

THREADS = 8
ISSUES = 48
ROUNDS = 5
JOIN_S = 120.0
"""Far longer than the few seconds all these starts take: only a start that never returns reaches it."""


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout.strip()


def test_starts_from_many_threads_at_once_all_return_and_mark_their_branches(tmp_path: Path) -> None:
    repo = make_checkout(tmp_path / "repo")
    for number in range(1, ISSUES + 1):
        _git(repo, "worktree", "add", "-q", "-b", f"feature/issue-{number}", str(repo / ".worktrees" / f"issue-{number}"), "main")
    manager = WorkspaceManager(repo)
    failures: list[str] = []
    done: list[int] = []

    def start_each(numbers: range) -> None:
        for _ in range(ROUNDS):
            for number in numbers:
                try:
                    workspace = manager.prepare(number)
                except Exception as error:  # any failure is the finding: collected, asserted below
                    failures.append(f"#{number}: {type(error).__name__}: {error}")
                    continue
                assert workspace.reused
                done.append(number)

    threads = [threading.Thread(target=start_each, args=(range(first, ISSUES + 1, THREADS),), daemon=True) for first in range(1, THREADS + 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(JOIN_S)
    assert not [thread.name for thread in threads if thread.is_alive()], "a start never returned"
    assert failures == []
    assert len(done) == ISSUES * ROUNDS
    for number in range(1, ISSUES + 1):
        branch = f"feature/issue-{number}"
        assert _git(repo, "rev-parse", start_ref(branch)) == _git(repo, "rev-parse", f"refs/heads/{branch}")
