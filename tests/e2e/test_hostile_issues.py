"""Hostile issue files through the real `waterspider` command: each gets an answer, the rest runs."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.helpers import json_events, run_cli
from tests.git_checkout import make_checkout

BOMB = (
    "---\ntitle: Laughs\nlabels:\n"
    + '  - &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    + "".join(f"  - &a{level} [{','.join([f'*a{level - 1}'] * 9)}]\n" for level in range(1, 9))
    + "---\nbody\n"
)

ISSUES = {
    "001-base.md": "---\ntitle: Base\n---\nThe base.\n",
    "002-rocket.md": '---\ntitle: "rocket \\ud83d\\ude80"\n---\nLaunch it.\n',
    "003-bomb.md": BOMB,
    "004-escapes.md": '---\ntitle: "\\e]0;pwned\\aClear \\e[2Jthe screen"\nlabels: ["P2\\e[5m"]\n---\nBody \x1b[31mred\x1b[0m.\n',
    "005-big.md": "---\ntitle: Big body\n---\n" + "A long log line.\n" * 70_000,
}


def _folders(tmp_path: Path) -> tuple[Path, Path, Path]:
    repo = make_checkout(tmp_path / "repo")
    issues = tmp_path / "issues"
    issues.mkdir()
    for name, text in ISSUES.items():
        (issues / name).write_text(text, encoding="utf-8")
    config = tmp_path / "waterspider.toml"
    config.write_text('[agent]\nkind = "simulated"\noptions = { duration_s = 0.3 }\n')
    return repo, issues, config


def test_plan_answers_at_once(tmp_path: Path) -> None:
    _, issues, _ = _folders(tmp_path)
    result = run_cli("plan", "--issues", str(issues), "--json", timeout=60)
    assert result.returncode == 0, result.stderr
    assert "\x1b" not in result.stdout + result.stderr
    plan = json.loads(result.stdout)
    assert "rocket 🚀" in result.stdout
    assert "003-bomb.md: front matter uses a YAML alias (*a0)" in result.stderr
    assert {entry["issue"] for entry in plan["order"]} == {1, 2, 4, 5}


def test_run_works_through_the_rest(tmp_path: Path) -> None:
    repo, issues, config = _folders(tmp_path)
    result = run_cli(
        "run", "--issues", str(issues), "--repo-path", str(repo), "--json", "--until-idle", "--config", str(config), timeout=120
    )
    assert "\x1b" not in result.stdout + result.stderr
    events = json_events(result.stdout)
    rejected = [event["error"] for event in events if event["event"] == "issue_rejected"]
    assert rejected == ["003-bomb.md: front matter uses a YAML alias (*a0); issue files must spell every value out"]
    titles = {event["issue_data"]["title"] for event in events if event["event"] == "issue_seen"}
    assert titles == {"Base", "rocket 🚀", "Clear the screen", "Big body"}
    succeeded = {e["issue"] for e in events if e["event"] == "session_finished" and e["result"]["outcome"] == "succeeded"}
    finished = [(e["issue"], e["result"]["error_class"], e["result"]["error"]) for e in events if e["event"] == "session_finished"]
    assert succeeded == {"local#1", "local#2", "local#4", "local#5"}, finished
