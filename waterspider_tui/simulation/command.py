"""`waterspider simulate`: a JSON backlog through the real scheduler in simulated time."""

from __future__ import annotations

import json
from pathlib import Path

import click

from waterspider_tui.simulation.policies import DESCRIPTIONS, POLICIES
from waterspider_tui.simulation.report import run_policies, schedule_rows, summarize, summary_dict, summary_line
from waterspider_tui.simulation.workload import WorkloadError, load_workload


@click.command("simulate")
@click.option("--workload", "workload_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help='JSON backlog: {"issues": [{"number", "priority", "estimate_min", "actual_min", "depends_on", "created"}]}.')
@click.option("--slots", type=click.IntRange(1, 1000), default=5, show_default=True, help="Sessions running at once.")
@click.option("--policy", type=click.Choice([*POLICIES, "all"]), default="ours", show_default=True,
              help="Ordering to simulate (ours = the default scheduler); all = every policy side by side.")
@click.option("--json", "as_json", is_flag=True, help="Print the schedules and figures as JSON.")
def simulate_command(workload_path: Path, slots: int, policy: str, as_json: bool) -> None:
    """Run a backlog through the scheduler in simulated minutes; print each issue's start and end.

    Checks Graham's bound on every schedule (makespan ≤ work / slots + (1 − 1/slots) ×
    critical path): exceeding it means a slot idled while work was ready; the exit code is 1.
    """
    try:
        workload = load_workload(workload_path)
    except WorkloadError as error:
        click.echo(f"waterspider: {error}", err=True)
        raise SystemExit(2) from error
    chosen = POLICIES if policy == "all" else (policy,)
    schedules = run_policies(workload, slots, chosen)
    summaries = {name: summarize(schedule) for name, schedule in schedules.items()}
    baseline = summaries["priority"]
    if as_json:
        out = {
            "slots": slots, "issues": len(workload.issues),
            "policies": {name: {**summary_dict(summaries[name], baseline), "schedule": schedule_rows(schedules[name])} for name in chosen},
        }
        click.echo(json.dumps(out, indent=2))
    else:
        click.echo(f"{len(workload.issues)} issues on {slots} slots")
        for name in chosen:
            click.echo(f"\npolicy {name}: {DESCRIPTIONS[name]}")
            click.echo("  issue  prio     start       end   (minutes)")
            for row in schedule_rows(schedules[name]):
                start = "held" if row["start_min"] is None else f"{row['start_min']:9.1f}"
                end = "" if row["end_min"] is None else f"{row['end_min']:9.1f}"
                click.echo(f"  #{row['number']:<5d} {row['priority']:4s} {start:>9s} {end:>9s}")
        click.echo("")
        for name in chosen:
            click.echo(summary_line(summaries[name], baseline))
    if not all(summaries[name].graham_ok for name in chosen):
        raise SystemExit(1)
