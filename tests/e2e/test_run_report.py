"""`--no-ui --until-idle` ends with the report's summary and writes the report where asked (`--report`,
`[report] out`), as a CI job would attach it; its figures are the stored events'."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.helpers import run_cli
from tests.git_checkout import make_checkout
from waterspider_tui.core import events as ev
from waterspider_tui.store.event_log import EventLog


def _project(tmp_path: Path, *, report_out: str = "") -> tuple[Path, Path, Path]:
    repo = make_checkout(tmp_path / "repo")
    issues = tmp_path / "issues"
    issues.mkdir()
    (issues / "001.md").write_text("---\ntitle: Passes its gate\n---\nDo it.\n")
    (issues / "002.md").write_text("---\ntitle: Fails its gate\n---\nDo it too.\n")
    config = tmp_path / "waterspider.toml"
    report_table = f'[report]\nout = "{report_out}"\n' if report_out else ""
    config.write_text(f'''
[agent]
kind = "simulated"
options = {{ duration_s = 0.2 }}
[sessions]
max_attempts = 1
[pipeline]
steps = ["commits", "gate"]
[pipeline.gate]
max_rounds = 0
commands = [{{ name = "only issue 1", run = "git rev-parse --abbrev-ref HEAD | grep -qx feature/issue-1" }}]
{report_table}''')
    return repo, issues, config


def _finished(store: Path) -> list[ev.SessionFinished]:
    log = EventLog(store, read_only=True)
    try:
        return [e for e in log.read() if isinstance(e, ev.SessionFinished)]
    finally:
        log.close()


def test_the_run_ends_with_the_report_summary_and_writes_json_by_suffix(tmp_path: Path) -> None:
    repo, issues, config = _project(tmp_path)
    out = tmp_path / "artifacts" / "night.json"
    done = run_cli("run", "--config", str(config), "--issues", str(issues), "--repo-path", str(repo),
                   "--no-ui", "--until-idle", "--report", str(out))
    assert done.returncode == 1, done.stderr[-2000:]
    lines = done.stdout.splitlines()
    results = [line for line in lines if line.startswith("results: ")]
    assert results and results[0].startswith("results: 2 issues: 1 succeeded, 1 failed, 0 retrying, 0 cancelled · 2 sessions")
    advice = lines[lines.index(results[0]) + 1]
    assert advice.startswith("  gate_failed ×1: ")
    assert f"report written to {out} (2 sessions, 2 issues)" in done.stderr
    figures = json.loads(out.read_text())
    finished = _finished(repo / ".waterspider" / "state.db")
    assert figures["totals"]["sessions"] == len(finished) == 2
    assert {f["error_class"] for f in figures["failures"]} == {"gate_failed"}
    assert {i["issue"]: i["gate"] for i in figures["issues"]} == {"local#1": "passed", "local#2": "failed"}


def test_report_out_in_the_config_writes_html_and_json_lines_stay_pure(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    repo, issues, config = _project(tmp_path, report_out=str(out))
    done = run_cli("run", "--config", str(config), "--issues", str(issues), "--repo-path", str(repo), "--json", "--until-idle")
    assert done.returncode == 1, done.stderr[-2000:]
    assert all(json.loads(line) for line in done.stdout.splitlines() if line.strip()), "stdout holds only JSON lines"
    page = out.read_text()
    assert page.startswith("<!doctype html>") and ">#2<" in page and "local#2" not in page and "gate_failed" in page
    assert "report written to" in done.stderr


def test_an_unwritable_report_path_is_one_line_and_the_run_still_ends(tmp_path: Path) -> None:
    repo, issues, config = _project(tmp_path)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    done = run_cli("run", "--config", str(config), "--issues", str(issues), "--repo-path", str(repo),
                   "--no-ui", "--until-idle", "--report", str(blocker / "report.md"))
    assert done.returncode == 1
    assert "cannot write the report" in done.stderr and "Traceback" not in done.stderr
    assert "results: 2 issues" in done.stdout
