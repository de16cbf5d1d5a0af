"""The `waterspider` command line: one module per command, gathered in one click group."""

from __future__ import annotations

import click

from waterspider_tui.cli.clean import clean
from waterspider_tui.cli.log import log
from waterspider_tui.cli.report import report
from waterspider_tui.cli.requeue import requeue
from waterspider_tui.cli.run import demo, run
from waterspider_tui.cli.status import plan, status


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="waterspider-tui")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Turn a backlog of issues into finished work with headless coding agents."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(run)


for command in (run, demo, status, plan, log, clean, requeue, report):
    cli.add_command(command)


def _add_simulate() -> None:
    from waterspider_tui.simulation.command import simulate_command

    cli.add_command(simulate_command)


_add_simulate()


def main() -> None:
    cli(prog_name="waterspider")
