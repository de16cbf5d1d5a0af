"""Unused snapshots across xdist workers: unused for the run only where every worker that looked found it unused."""

from __future__ import annotations

from tests.xdist_snapshots import unused_in_every_view


def test_a_snapshot_one_worker_used_is_not_unused_and_one_no_worker_used_is() -> None:
    reports = [
        {"looked_at": ["snaps/a.svg", "snaps/b.svg", "snaps/orphan.svg"], "unused": [["snaps/b.svg", "test_b"], ["snaps/orphan.svg", "test_orphan"]]},
        {"looked_at": ["snaps/a.svg", "snaps/b.svg", "snaps/orphan.svg"], "unused": [["snaps/a.svg", "test_a"], ["snaps/orphan.svg", "test_orphan"]]},
        {"looked_at": [], "unused": []},  # ran no snapshot test: has no say
    ]
    assert unused_in_every_view(reports) == [("snaps/orphan.svg", "test_orphan")]


def test_a_worker_that_never_looked_at_a_file_does_not_clear_its_unused_snapshot() -> None:
    reports = [
        {"looked_at": ["snaps/x.ambr"], "unused": [["snaps/x.ambr", "test_gone"]]},
        {"looked_at": ["snaps/y.ambr"], "unused": []},
    ]
    assert unused_in_every_view(reports) == [("snaps/x.ambr", "test_gone")]
