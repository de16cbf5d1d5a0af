"""`waterspider simulate`: reads the documented JSON, prints starts and ends, checks Graham, rejects bad files."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from waterspider_tui.cli import cli

BACKLOG = {"issues": [
    {"number": 1, "priority": "P2", "estimate_min": 30, "actual_min": 30, "depends_on": [], "created": -60},
    {"number": 2, "priority": "P1", "estimate_min": 10},
    {"number": 3, "priority": "P1", "estimate_min": 20, "depends_on": [2]},
    {"number": 4, "priority": "P0", "estimate_min": 5, "depends_on": [1, 3]},
]}


def write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "backlog.json"
    path.write_text(json.dumps(data))
    return path


def test_json_output_has_every_issue_and_the_figures(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["simulate", "--workload", str(write(tmp_path, BACKLOG)), "--slots", "2", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    ours = out["policies"]["ours"]
    assert {row["number"]: (row["start_min"], row["end_min"]) for row in ours["schedule"]} == {1: (0, 30), 2: (0, 10), 3: (10, 30), 4: (30, 35)}
    assert ours["makespan_min"] == 35 and ours["graham_ok"] and ours["makespan_over_lower_bound"] == 1.0
    assert ours["p0_stretch"] == 1.0 and ours["idle_while_ready"] == 0
    assert set(out["policies"]) == {"ours"}


def test_all_policies_side_by_side_in_text(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["simulate", "--workload", str(write(tmp_path, BACKLOG)), "--slots", "1", "--policy", "all"])
    assert result.exit_code == 0, result.output
    for policy in ("fifo", "priority", "seed", "critical-path", "ours"):
        assert f"policy {policy}:" in result.output
    assert result.output.count("Graham ok") == 5
    assert "#4" in result.output


def test_bad_files_get_one_clear_line(tmp_path: Path) -> None:
    runner = CliRunner()
    cases = [
        ({"issues": [{"number": 1, "priority": "P9", "estimate_min": 5}]}, "priority must be one of"),
        ({"issues": [{"number": 1, "priority": "P1", "estimate_min": 5, "depends_on": [7]}]}, "unknown issue"),
        ({"issues": [{"number": 1, "priority": "P1", "estimate_min": 0}]}, "estimate_min: must be above 0"),
        ({"issues": [{"number": 1, "estimate_min": 5, "depends_on": [2]}, {"number": 2, "estimate_min": 5, "depends_on": [1]}]}, "dependency cycle"),
        ([], 'an "issues" list'),
    ]
    for data, message in cases:
        result = runner.invoke(cli, ["simulate", "--workload", str(write(tmp_path, data))])
        assert result.exit_code == 2 and message in result.output, (data, result.output)
    (tmp_path / "broken.json").write_text("{nope")
    result = runner.invoke(cli, ["simulate", "--workload", str(tmp_path / "broken.json")])
    assert result.exit_code == 2 and "is not JSON" in result.output
