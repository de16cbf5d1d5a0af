"""`waterspider plan`: the dry run over an issue folder or a store, as JSON and as text."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from waterspider_tui.cli import cli
from waterspider_tui.core import events as ev
from waterspider_tui.core.models import Issue
from waterspider_tui.store.event_log import SCHEMA_VERSION, EventLog

WATERSPIDER = Path(sys.executable).with_name("waterspider")

ISSUES = {
    "001-login.md": "---\ntitle: Fix login\nlabels: [P0-Critical]\nestimate: 30m\ncreated: 2020-01-01T00:00:00Z\n---\nThe crash.\n",
    "002-profile.md": "---\ntitle: Profile page\ncreated: 2020-01-01T00:00:00Z\n---\nDepends on #1.\n",
    "003-cycle-a.md": "---\ntitle: Cycle A\ncreated: 2020-01-01T00:00:00Z\n---\nBlocked by #4.\n",
    "004-cycle-b.md": "---\ntitle: Cycle B\ndepends_on: [3]\ncreated: 2020-01-01T00:00:00Z\n---\n",
    "005-docs.md": "---\ntitle: Docs\nlabels: [P2-Medium]\nestimate: 30m\ncreated: 2020-01-01T00:00:00Z\n---\nRequires #99 (nobody knows it).\n",
    "006-done.md": "---\ntitle: Already done\nstate: closed\n---\n",
    "010-broken.md": "---\nlabels: [P1-High]\n---\nNo title.\n",
}

EXPECTED_ORDER = [
    # label 0.5×1.0, time 0.2×(1 − 30/480), deps 0.2×(60/60), age 0.1×1 (years old)
    {"issue": 1, "score": 0.9875, "parts": {"label": 0.5, "time": 0.1875, "deps": 0.2, "age": 0.1}},
    # label 0.5×0.4, time 0.2×(1 − 30/480), no dependants, age 0.1×1
    {"issue": 5, "score": 0.4875, "parts": {"label": 0.2, "time": 0.1875, "deps": 0.0, "age": 0.1}},
]
EXPECTED_BLOCKED = [
    {"issue": 2, "reason": "dependency", "waiting_on": [1], "cycle": []},
    {"issue": 3, "reason": "cycle", "waiting_on": [], "cycle": [3, 4]},
    {"issue": 4, "reason": "cycle", "waiting_on": [], "cycle": [3, 4]},
]


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.upper().startswith("WATERSPIDER_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    issues = tmp_path / "issues"
    issues.mkdir()
    for name, text in ISSUES.items():
        (issues / name).write_text(text)
    return issues


def shape(data: dict) -> dict:
    """The documented part of the plan JSON: order with issue, score, parts; blocked with the why."""
    return {
        "order": [{name: item[name] for name in ("issue", "score", "parts")} for item in data["order"]],
        "blocked": [{name: item[name] for name in ("issue", "reason", "waiting_on", "cycle")} for item in data["blocked"]],
    }


def test_plan_json_from_a_folder_in_a_real_process(folder: Path, tmp_path: Path) -> None:
    env = {name: value for name, value in os.environ.items() if not name.upper().startswith("WATERSPIDER_")}
    result = subprocess.run(
        [str(WATERSPIDER), "plan", "--issues", str(folder), "--json"],
        capture_output=True, text=True, timeout=60, cwd=tmp_path, env=env,
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) == {"order", "blocked", "skipped", "warnings"}
    assert data["warnings"] == [
        "#5 refers to #99, which is not known: not waiting on it",
        "dependency cycle #3 → #4 → #3: these issues are held until it is broken",
    ]
    assert shape(data) == {"order": EXPECTED_ORDER, "blocked": EXPECTED_BLOCKED}
    assert data["skipped"] == [{"path": str(folder / "010-broken.md"), "error": "010-broken.md: 'title' is missing or empty"}]
    for item in data["order"]:
        assert isinstance(item["issue"], int) and isinstance(item["score"], float)
        assert item["score"] == pytest.approx(sum(item["parts"].values()), abs=1e-3)
    assert [item["title"] for item in data["order"]] == ["Fix login", "Docs"]
    assert data["blocked"][0]["detail"] == "waits on #1 (queued)"
    assert result.stderr.splitlines() == ["skipped: 010-broken.md: 'title' is missing or empty"]  # the warnings are in the JSON


def test_plan_json_through_click(folder: Path) -> None:
    result = CliRunner().invoke(cli, ["plan", "--issues", str(folder), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert shape(data) == {"order": EXPECTED_ORDER, "blocked": EXPECTED_BLOCKED}
    assert "010-broken.md" in result.stderr and "'title' is missing" in result.stderr


def test_plan_as_text(folder: Path) -> None:
    result = CliRunner().invoke(cli, ["plan", "--issues", str(folder)])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "ready (2), in dispatch order:"
    assert lines[1].split()[:3] == ["1.", "#1", "0.988"]
    assert "Fix login" in lines[1]
    assert "blocked (3):" in lines
    assert any(line.split() == ["#2", "waits", "on", "#1", "(ready)"] for line in lines), "the control center's words"
    assert any("#3 cycle #3 → #4 → #3" in " ".join(line.split()) for line in lines)


def test_a_folder_with_only_bad_files_plans_nothing(tmp_path: Path) -> None:
    issues = tmp_path / "bad"
    issues.mkdir()
    (issues / "1.md").write_text("no front matter")
    (issues / "2.md").write_bytes(b"---\ntitle: caf\xe9\n---\n")
    result = CliRunner().invoke(cli, ["plan", "--issues", str(issues), "--json"])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert (data["order"], data["blocked"], len(data["skipped"])) == ([], [], 2)
    assert [line.split(":")[1].strip() for line in result.stderr.splitlines()] == ["1.md", "2.md"]


@pytest.mark.parametrize(
    "args",
    [["plan", "--bogus"], ["plan", "--capacity", "0"], ["plan", "--capacity", "many"], ["plan", "--json", "extra-argument"]],
)
def test_bad_flags_exit_2(args: list[str], folder: Path) -> None:
    result = CliRunner().invoke(cli, [*args, "--issues", str(folder)])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "Error" in result.stderr


def test_a_missing_issue_folder_exits_2_with_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["plan", "--issues", str(tmp_path / "nowhere"), "--json"])
    assert result.exit_code == 2
    assert result.stderr == f"waterspider: issue folder {tmp_path / 'nowhere'} does not exist\n"


def test_a_bad_config_file_exits_2_with_one_line(tmp_path: Path, folder: Path) -> None:
    config = tmp_path / "ws.toml"
    config.write_text("[scheduler]\ncapacity = 0\n")
    result = CliRunner().invoke(cli, ["plan", "--config", str(config), "--issues", str(folder)])
    assert result.exit_code == 2
    assert result.stderr.startswith("waterspider: bad setting scheduler.capacity in ")
    assert result.stderr.count("\n") == 1


def _store(path: Path, *events: ev.Event) -> None:
    log = EventLog(path)
    log.append(list(events))
    log.close()


def test_plan_from_a_store_shows_a_paused_issue(tmp_path: Path) -> None:
    now = time.time()
    store = tmp_path / "state.db"
    _store(
        store,
        *[ev.IssueSeen(ts=now, issue_data=Issue(repo="local", number=n, title=f"issue {n}", created=now - 3600, labels=("P1",)))
          for n in (1, 2, 3)],
        ev.IssuePaused(ts=now, issue="local#2", by="op"),
        ev.IssueHeld(ts=now, issue="local#3", reason="untrusted edit"),
    )
    result = CliRunner().invoke(cli, ["plan", "--store", str(store), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [item["issue"] for item in data["order"]] == [1]
    assert shape(data)["blocked"] == [
        {"issue": 2, "reason": "paused", "waiting_on": [], "cycle": []},
        {"issue": 3, "reason": "held", "waiting_on": [], "cycle": []},
    ]


def test_plan_from_a_store_of_a_newer_schema_exits_2(tmp_path: Path) -> None:
    store = tmp_path / "state.db"
    _store(store, ev.Warned(ts=0.0, message="hello"))
    with sqlite3.connect(store) as db:
        db.execute("UPDATE meta SET value=? WHERE key='schema_version'", (str(SCHEMA_VERSION + 1),))
    result = CliRunner().invoke(cli, ["plan", "--store", str(store), "--json"])
    assert result.exit_code == 2
    assert "schema version" in result.stderr and result.stderr.count("\n") == 1


def test_plan_without_issues_or_store_exits_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["plan", "--json"])
    assert result.exit_code == 2
    assert "nothing to plan: give --issues DIR" in result.stderr and result.stdout == ""


def _seen(number: int, title: str, body: str = "") -> ev.IssueSeen:
    return ev.IssueSeen(ts=time.time(), issue_data=Issue(repo="local", number=number, title=title, body=body, created=time.time() - 3600))


def _succeeded(number: int) -> list[ev.Event]:
    from waterspider_tui.core.models import Outcome, SessionInfo, SessionResult

    now = time.time()
    session = SessionInfo(session_id=f"s{number}", issue=f"local#{number}", executor="local", log_path="/tmp/w/log", host="local", attempt=1, branch=f"feature/issue-{number}", worktree="/tmp/w", started_at=now - 60)
    return [ev.SessionStarted(ts=now - 60, issue=f"local#{number}", session=session),
            ev.SessionFinished(ts=now, issue=f"local#{number}", session_id=f"s{number}", result=SessionResult(outcome=Outcome.SUCCEEDED))]


def test_plan_where_a_store_is_reads_that_store(tmp_path: Path) -> None:
    _store(tmp_path / ".waterspider" / "state.db", _seen(1, "Done before"), *_succeeded(1), _seen(2, "Still to do"))
    result = CliRunner().invoke(cli, ["plan", "--json"])
    assert result.exit_code == 0, result.stderr
    assert [item["issue"] for item in json.loads(result.stdout)["order"]] == [2]
    elsewhere = CliRunner().invoke(cli, ["plan", "--json", "--repo-path", str(tmp_path / "other")])
    assert elsewhere.exit_code == 2
    assert "nothing to plan" in elsewhere.stderr and str(tmp_path / "other" / ".waterspider" / "state.db") in elsewhere.stderr


def test_plan_of_a_folder_applies_the_store_and_warns_like_a_run(tmp_path: Path) -> None:
    _store(tmp_path / ".waterspider" / "state.db", _seen(1, "Done before"), *_succeeded(1),
           ev.IssueSeen(ts=time.time(), issue_data=Issue(repo="acme/widgets", number=9, title="Another source's")))
    issues = tmp_path / "issues"
    issues.mkdir()
    (issues / "001-done.md").write_text("---\ntitle: Done before\n---\n")
    (issues / "002-next.md").write_text("---\ntitle: Next\n---\nDepends on #1, #999 and foo/bar#3.\n")
    result = CliRunner().invoke(cli, ["plan", "--issues", str(issues), "--json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert [item["issue"] for item in data["order"]] == [2], "#1 succeeded in the store: not ready again"
    assert data["blocked"] == []
    assert data["warnings"] == [
        "#2 refers to foo/bar#3, which is not known: not waiting on it",
        "#2 refers to #999, which is not known: not waiting on it",
    ]
    text = CliRunner().invoke(cli, ["plan", "--issues", str(issues)])
    assert text.exit_code == 0
    assert text.stderr.splitlines() == [f"warning: {warning}" for warning in data["warnings"]]


def test_plan_of_a_missing_store_says_nothing_ran(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["plan", "--store", str(tmp_path / "none.db")])
    assert result.exit_code == 2
    assert "nothing has run here yet" in result.stderr


def test_plan_and_status_options_have_help() -> None:
    for command in ("plan", "status"):
        result = CliRunner().invoke(cli, [command, "--help"])
        options = [line for line in result.stdout.splitlines() if line.strip().startswith("--")]
        assert options and all(len(line.split("  ")) > 1 and line.split("  ", 1)[1].strip() for line in options), options
