"""The documented workload JSON: creation times as minutes or as ISO 8601 times."""

from __future__ import annotations

import pytest

from waterspider_tui.simulation.workload import WorkloadError, parse_workload


def test_iso_creation_times_become_minutes_before_the_newest() -> None:
    workload = parse_workload({"issues": [
        {"number": 1, "priority": "P0", "estimate_min": 30, "created": "2026-11-20T09:00:00Z"},
        {"number": 2, "priority": "P2", "estimate_min": 30, "created": "2026-11-20T10:30:00Z"},
        {"number": 3, "priority": "P3", "estimate_min": 30, "created": 15},
    ]})
    created = {issue.number: issue.created for issue in workload.issues}
    assert created == {1: -90.0, 2: 0.0, 3: 15.0}


def test_a_bad_creation_time_names_the_field() -> None:
    with pytest.raises(WorkloadError, match=r"issues\[0\]\.created: expected minutes or an ISO 8601 time"):
        parse_workload({"issues": [{"number": 1, "estimate_min": 30, "created": "yesterday"}]})
