"""A dependant of an issue whose file cannot be read says so, with the file's error, where it was
'open, not queued here'; once the file reads again the blocker is an issue like any other."""

from __future__ import annotations

from pathlib import Path

from waterspider_tui.adapters.local_issues import LocalIssueSource
from waterspider_tui.core.scheduler import plan
from waterspider_tui.core.state import Snapshot, apply_all
from waterspider_tui.engine.collector import poll_events

NOW = 1_800_000_000.0


async def _polled(source: LocalIssueSource, snapshot: Snapshot) -> Snapshot:
    return apply_all(snapshot, poll_events(snapshot, ("local",), await source.poll(), NOW))


async def test_a_blocker_whose_file_cannot_be_read_is_named_with_its_error(tmp_path: Path) -> None:
    (tmp_path / "0001-blocker.md").write_text("---\ntitle: [broken\n---\n", encoding="utf-8")
    (tmp_path / "0002-dependant.md").write_text("---\ntitle: Dependant\ndepends_on: [1]\n---\n", encoding="utf-8")
    source = LocalIssueSource(tmp_path)

    snapshot = await _polled(source, Snapshot())
    [blocked] = plan(snapshot, NOW).blocked
    assert blocked.issue == "local#2"
    assert blocked.detail.startswith("waits on #1 (its file cannot be read: 0001-blocker.md: "), blocked.detail
    assert "not queued here" not in blocked.detail

    (tmp_path / "0001-blocker.md").write_text("---\ntitle: Blocker\n---\n", encoding="utf-8")
    snapshot = await _polled(source, snapshot)
    assert snapshot.rejected_issues == {} and snapshot.rejected == {}
    [blocked] = plan(snapshot, NOW).blocked
    assert blocked.detail == "waits on #1 (queued)"

