"""A restart does not record again a warning the store already holds and that is still true
(the dependency cycle of the issue folder): --no-ui prints it at the first start only, and the
event log holds it once."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.helpers import empty_project, run_cli
from waterspider_tui.cli.common import events_at
from waterspider_tui.core import events as ev


def test_a_restart_does_not_tell_the_same_cycle_again(tmp_path: Path) -> None:
    repo, issues = empty_project(tmp_path)
    (issues / "001.md").write_text("---\nnumber: 1\ntitle: One\ndepends_on: [2]\n---\nb\n")
    (issues / "002.md").write_text("---\nnumber: 2\ntitle: Two\ndepends_on: [1]\n---\nb\n")
    store = tmp_path / "state.db"
    args = ("run", "--no-ui", "--until-idle", "--issues", str(issues), "--repo-path", str(repo), "--store", str(store), "--agent", "simulated")
    first = run_cli(*args)
    second = run_cli(*args)
    assert first.returncode == second.returncode == 1, first.stderr + second.stderr  # the held issues never ran
    assert "dependency cycle" in first.stdout + first.stderr
    assert "dependency cycle" not in second.stdout + second.stderr
    told = [event for event in events_at(store) if isinstance(event, ev.Warned) and "dependency cycle" in event.message]
    assert len(told) == 1
