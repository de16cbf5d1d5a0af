"""`waterspider report` on a real store: JSON figures equal the stored events; Markdown; one offline HTML
file that headless Chromium opens and draws."""

from __future__ import annotations

import json
import os
import re
import struct
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.reporting.browser import chromium, dom, screenshot
from tests.reporting.report_fixture import night_events
from waterspider_tui.cli import cli
from waterspider_tui.core import events as ev
from waterspider_tui.core.models import ErrorClass
from waterspider_tui.store.event_log import EventLog

REQUIRE_BROWSER = os.environ.get("WATERSPIDER_REQUIRE_BROWSER") == "1"
"""Read at import: the suite clears WATERSPIDER_* variables around each test."""


@pytest.fixture
def store(tmp_path: Path) -> Path:
    path = tmp_path / "state.db"
    log = EventLog(path)
    log.append([e for e in night_events()])
    log.close()
    return path


def _report(*args: str) -> str:
    result = CliRunner().invoke(cli, ["report", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_the_json_report_adds_up_the_stored_events(store: Path) -> None:
    figures = json.loads(_report("--store", str(store), "--format", "json"))
    stored = list(EventLog(store, read_only=True).read())
    finished = [e for e in stored if isinstance(e, ev.SessionFinished)]
    # Gate rounds sent back to the agent are rounds of one attempt, not sessions of their own.
    sent_back = [e for e in finished if e.result.error_class is ErrorClass.GATE_FAILED and e.will_retry]
    assert sent_back and figures["totals"]["sessions"] == len(finished) - len(sent_back)
    assert figures["totals"]["cost_usd"] == pytest.approx(sum(e.result.cost_usd for e in finished))
    assert figures["totals"]["issues"] == len({e.issue for e in finished})
    everything = json.loads(_report("--store", str(store), "--format", "json", "--since", "2000-01-01"))
    assert everything["totals"] == figures["totals"]
    assert json.loads(_report("--store", str(store), "--format", "json", "--since", "1h"))["totals"]["sessions"] == 0


def test_markdown_is_the_default_and_a_bad_since_is_one_line(store: Path) -> None:
    text = _report("--store", str(store))
    assert text.startswith("# Waterspider results") and "## Failures" in text and "| gate_failed after 3 rounds | 1 | 1 |" in text
    assert "| 1 round sent back, then passed |" in text and "| failed after 3 rounds |" in text
    bad = CliRunner().invoke(cli, ["report", "--store", str(store), "--since", "yesterday"])
    assert bad.exit_code == 2 and "neither a span" in bad.output
    missing = CliRunner().invoke(cli, ["report", "--store", str(store.parent / "none.db")])
    assert missing.exit_code == 2 and "nothing has run here yet" in missing.output


def test_an_unknown_suffix_is_refused_in_one_line_unless_a_format_is_given(store: Path, tmp_path: Path) -> None:
    pdf = tmp_path / "r.pdf"
    refused = CliRunner().invoke(cli, ["report", "--store", str(store), "--out", str(pdf)])
    assert refused.exit_code == 2 and not pdf.exists()
    assert refused.stderr == f"waterspider: cannot write a report as .pdf ({pdf}): use .md, .json or .html, or give --format\n"
    assert "report written to" in _report("--store", str(store), "--out", str(pdf), "--format", "md")
    assert pdf.read_text().startswith("# Waterspider results")
    run = CliRunner().invoke(cli, ["run", "--no-ui", "--issues", str(tmp_path), "--store", str(store), "--report", str(tmp_path / "r.docx")])
    assert run.exit_code == 2, "refused before the run starts"
    assert run.stderr == f"waterspider: cannot write a report as .docx ({tmp_path / 'r.docx'}): use .md, .json or .html\n"


def test_the_html_report_is_one_offline_file_a_browser_draws(store: Path, tmp_path: Path) -> None:
    out = tmp_path / "out" / "report.html"
    assert "report written to" in _report("--store", str(store), "--out", str(out))
    page = out.read_text()
    assert page.startswith("<!doctype html>") and page.count("<svg") >= 6
    assert not re.search(r"<script|<link|<img|@import|url\(|src=", page), "nothing is fetched: it opens offline"
    if chromium() is None:
        if REQUIRE_BROWSER:
            pytest.fail("WATERSPIDER_REQUIRE_BROWSER=1 but chromium is not installed")
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    drawn = dom(out, tmp_path / "profile")
    assert drawn.count("<svg") == page.count("<svg") and "acme/widgets#12" in drawn
    png = screenshot(out, tmp_path / "report.png", tmp_path / "profile", size=(1200, 1600))
    header = png.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", header[16:24]) == (1200, 1600)
    assert png.stat().st_size > 30_000, "a page with charts, not a blank one"


def test_issues_of_one_repository_are_named_by_number_in_the_tables(tmp_path: Path) -> None:
    """`#7` reads right when every issue is of one source (a local folder's `local#7` is an internal key);
    the JSON figures keep the keys."""
    path = tmp_path / "state.db"
    log = EventLog(path)
    log.append(night_events(repo="local"))
    log.close()
    text = _report("--store", str(path))
    assert "local#" not in text
    assert re.search(r"^\| #\d+ \| ", text, re.MULTILINE)
    figures = json.loads(_report("--store", str(path), "--format", "json"))
    assert all(issue["issue"].startswith("local#") for issue in figures["issues"])
