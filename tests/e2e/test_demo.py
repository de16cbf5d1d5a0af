"""The demo end to end in --json mode: real worktrees, real processes, real SQLite."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.helpers import git, json_events, run_cli


def _dependency_map(events: list[dict]) -> dict[str, tuple[str, ...]]:
    from waterspider_tui.core.dag import parse_references

    deps: dict[str, tuple[str, ...]] = {}
    for event in events:
        if event["event"] == "issue_seen":
            issue = event["issue_data"]
            key = f"{issue['repo']}#{issue['number']}"
            deps[key] = tuple(dict.fromkeys(tuple(issue["depends_on"]) + parse_references(issue["body"], issue["repo"])))
    return deps


def test_demo_runs_every_issue_once_in_dependency_order(tmp_path: Path) -> None:
    result = run_cli("demo", "--json", "--speed", "20", "--capacity", "4", "--dir", str(tmp_path))
    assert result.returncode == 0, result.stderr[-2000:]
    events = json_events(result.stdout)
    assert all({"ts", "event", "issue"} <= set(event) for event in events)

    deps = _dependency_map(events)
    assert len(deps) == 20
    started: dict[str, int] = {}
    succeeded_at: dict[str, int] = {}
    running: set[str] = set()
    most_at_once = 0
    for position, event in enumerate(events):
        if event["event"] == "session_started":
            issue = event["issue"]
            assert issue not in started, f"{issue} ran twice"
            started[issue] = position
            for dep in deps[issue]:
                assert dep in succeeded_at, f"{issue} started before its dependency {dep} succeeded"
            running.add(issue)
            most_at_once = max(most_at_once, len(running))
        elif event["event"] == "session_finished":
            running.discard(event["issue"])
            assert event["result"]["outcome"] == "succeeded", event
            succeeded_at[event["issue"]] = position
    assert set(started) == set(deps)
    assert set(succeeded_at) == set(deps)
    assert most_at_once <= 4
    assert most_at_once >= 2, "the demo never ran sessions in parallel"

    repo = tmp_path / "widgets"
    for key in deps:
        number = key.rpartition("#")[2]
        log = git(repo, "log", "--format=%s", f"main..feature/issue-{number}")
        assert f"#{number}" in log, f"no agent commit on feature/issue-{number}"
        assert (repo / ".worktrees" / f"issue-{number}" / "waterspider-work" / f"issue-{number}.md").exists()
    assert git(repo, "status", "--porcelain") == "", "the operator's checkout was touched"


def test_demo_with_failures_exits_non_zero_and_says_why(tmp_path: Path) -> None:
    result = run_cli("demo", "--no-ui", "--speed", "30", "--fail-rate", "1", "--dir", str(tmp_path))
    assert result.returncode == 1
    assert "failed (" in result.stdout
    assert "summary:" in result.stdout
    assert "not run: waits on" in result.stdout
