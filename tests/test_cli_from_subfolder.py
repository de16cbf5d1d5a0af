"""Commands started in a folder inside the repository work on the repository, as git does."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.helpers import run_cli
from tests.test_cli_requeue_running import _bench, _states


def test_run_status_and_requeue_from_a_subfolder_use_the_repository_top(tmp_path: Path) -> None:
    repo, issues, config = _bench(tmp_path)
    sub = repo / "src" / "deep"
    sub.mkdir(parents=True)
    first = run_cli("run", "--no-ui", "--until-idle", "--issues", str(issues), "--config", str(config), cwd=sub)
    assert "is not a git repository" not in first.stderr
    assert first.returncode == 1 and "summary: finished: 2 failed" in first.stdout
    assert _states(repo / ".waterspider" / "state.db") == {"1": "failed", "2": "failed"}
    assert not (sub / ".waterspider").exists()

    status = run_cli("status", cwd=sub)
    assert status.returncode == 0 and "#1 failed (agent_exit)" in " ".join(status.stdout.split())
    requeued = run_cli("requeue", "1", cwd=sub)
    assert (requeued.returncode, requeued.stdout) == (0, "#1 requeued\n")


def test_outside_any_repository_the_folder_is_named_as_it_was(tmp_path: Path) -> None:
    issues = tmp_path / "issues"
    issues.mkdir()
    (issues / "001.md").write_text("---\ntitle: One\n---\n")
    result = run_cli("run", "--no-ui", "--until-idle", "--issues", str(issues), "--agent", "simulated", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("waterspider: . is not a git repository")


def test_a_run_sums_up_its_own_sources_not_an_earlier_runs_in_the_same_store(tmp_path: Path) -> None:
    repo, issues, config = _bench(tmp_path)
    first = run_cli("run", "--no-ui", "--until-idle", "--issues", str(issues), "--repo-path", str(repo), "--config", str(config))
    assert first.returncode == 1 and "summary: finished: 2 failed" in first.stdout
    other = tmp_path / "other-issues"
    other.mkdir()
    (other / "007-else.md").write_text("---\ntitle: Something else\n---\n")
    second_config = tmp_path / "second.toml"
    second_config.write_text(config.read_text().replace("[issues]\n", '[issues]\nrepo_name = "docs"\n'))
    (tmp_path / "marks" / "tried-7").touch()  # issue 7 succeeds at once
    second = run_cli("run", "--no-ui", "--until-idle", "--issues", str(other), "--repo-path", str(repo), "--config", str(second_config))
    assert second.returncode == 0, second.stdout + second.stderr
    assert "summary: all done: 1 succeeded\n" in second.stdout
    assert "results: 1 issue: 1 succeeded, 0 failed" in second.stdout
    assert "local#1" not in second.stdout.split("summary:")[1]
