"""The `waterspider` command line: one module per command, gathered in one click group."""

from __future__ import annotations

import click

from waterspider_tui.cli.clean import clean
from waterspider_tui.cli.exec_issue import exec_issue
from waterspider_tui.cli.hosts import hosts
from waterspider_tui.cli.log import log
from waterspider_tui.cli.milestone import milestone
from waterspider_tui.cli.report import report
from waterspider_tui.cli.requeue import requeue
from waterspider_tui.cli.run import demo, run
from waterspider_tui.cli.status import plan, status


class _RunByDefault(click.Group):
    """A group whose options-only command line is `run`'s: `waterspider --issues DIR` is `waterspider run --issues DIR`."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        own = {"-h", "--help", "--version"}
        if args and args[0].startswith("-") and args[0] not in own:
            args = ["run", *args]
        return super().parse_args(ctx, args)


@click.group(cls=_RunByDefault, invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="waterspider-tui")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Turn a backlog of issues into finished work with headless coding agents.

    Without a command it runs (`waterspider --issues DIR` is `waterspider run --issues DIR`).
    """
    if ctx.invoked_subcommand is None:
        ctx.invoke(run)


for command in (run, demo, status, plan, log, clean, requeue, report, hosts, exec_issue, milestone):
    cli.add_command(command)


def _add_simulate() -> None:
    from waterspider_tui.simulation.command import simulate_command

    cli.add_command(simulate_command)


_add_simulate()


def main() -> None:
    cli(prog_name="waterspider")
