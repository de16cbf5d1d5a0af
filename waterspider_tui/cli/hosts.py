"""`waterspider hosts check`: connect to every `[[hosts]]` entry and say what would fail there."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import click

from waterspider_tui.cli.common import fail, settings_from


@click.group()
def hosts() -> None:
    """The machines sessions run on over SSH ([[hosts]] in waterspider.toml)."""


@hosts.command("check")
@click.option("--config", type=click.Path(path_type=Path), help="waterspider.toml to read (default: ./waterspider.toml if present).")
def hosts_check(config: Path | None) -> None:
    """One line per host: git, the agent CLI, free disk and the clone, with how to fix what is wrong."""
    from waterspider_tui.adapters.executors.host_check import check_hosts

    settings = settings_from(config, {})
    if not settings.hosts:
        fail("no [[hosts]] in the configuration: sessions run on this machine only")
    # What the orchestrator hands every agent counts as the agent's login on each host.
    forwarded = {name for name in settings.agent.env_allow if os.environ.get(name)} | set(settings.agent.env)
    checks = asyncio.run(check_hosts(list(settings.hosts), agents=[settings.agent.kind], forwarded=forwarded))
    for check in checks:
        click.echo(check.line)
    raise SystemExit(0 if all(check.ok for check in checks) else 1)
