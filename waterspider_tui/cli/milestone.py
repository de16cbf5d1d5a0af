"""`waterspider milestone status [NAME]` and `waterspider milestone integrate NAME`: milestones by hand.

`integrate` runs the same integrator as a run does when a milestone completes (branch, gate,
publishing by `[milestones]`), records what came of it in the store, and prints it. Exit codes:
0 integrated (and its gate passed), 1 a conflict, a failed gate or missing branches (the
report says which), 2 a usage or setup problem, 3 git or GitHub busy: try again.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import click

from waterspider_tui.cli.common import fail, overrides, read_store, scheduler_config, settings_from

if TYPE_CHECKING:
    from waterspider_tui.config import Settings
    from waterspider_tui.core.milestones import MilestoneProgress
    from waterspider_tui.core.state import Snapshot

EXIT_TRY_AGAIN = 3
_CONFIG = click.option("--config", type=click.Path(path_type=Path), help="waterspider.toml to read (default: ./waterspider.toml if present).")
_STORE = click.option("--store", type=click.Path(path_type=Path), help="The run's state file (default: .waterspider/state.db in the repository).")
_REPO_PATH = click.option("--repo-path", type=click.Path(path_type=Path), help="The repository the run works on (default: .).")
_REPO = click.option("--repo", "repo_name", help="owner/name (or the local folder's name) when two repositories have a milestone of that name.")


@click.group()
def milestone() -> None:
    """Milestones: where each stands, and integrating one by hand."""


@milestone.command("status")
@click.argument("name", required=False)
@_CONFIG
@_STORE
@_REPO_PATH
@click.option("--json", "as_json", is_flag=True, help="Print the milestones as a JSON list.")
def status(name: str | None, config: Path | None, store: Path | None, repo_path: Path | None, as_json: bool) -> None:
    """Done / running / blocked / failed / total of each milestone (or NAME's, issue by issue), and its integration."""
    from waterspider_tui.text.milestone_text import milestone_lines, milestone_rows

    from waterspider_tui.core.scheduler import plan

    settings, snapshot = read_store(config, store, repo_path)
    done_when = settings.milestones.done_when
    current = plan(snapshot, time.time(), scheduler_config(settings))  # blocked means what `status` says it means
    rows = [row for row in milestone_rows(snapshot, done_when=done_when, plan=current) if name is None or row["milestone"] == name]
    if name is not None and not rows:
        fail(f"no issue has the milestone {name!r}" + _known(snapshot))
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    show = _key_format(snapshot)
    lines = milestone_lines(snapshot, done_when=done_when, show=show, name=name, plan=current) or ["no issue has a milestone"]
    if name is not None:
        lines += [f"     {row['milestone']} {show(key)}: {_word_of(row, key)}  {snapshot.tasks[key].issue.title}" for row in rows for key in row["issues"]]
    click.echo("\n".join(lines))


@milestone.command("integrate")
@click.argument("name")
@_CONFIG
@_STORE
@_REPO_PATH
@_REPO
@click.option("--partial", is_flag=True, help="Integrate the issues done so far even though the milestone is not complete.")
@click.option("--no-gate", is_flag=True, help="Skip the [pipeline.gate] commands on the integrated branch.")
@click.option("--no-publish", is_flag=True, help="Build the branch only: no pull request, no milestone description, no comment.")
def integrate(
    name: str, config: Path | None, store: Path | None, repo_path: Path | None, repo_name: str | None, partial: bool, no_gate: bool, no_publish: bool,
) -> None:
    """Merge NAME's issue branches into integration/NAME in dependency order, gate it and publish it, as a run would."""
    from waterspider_tui.engine.locks import EngineLocked, run_locks
    from waterspider_tui.store.event_log import EventLog
    from waterspider_tui.store.state_store import StateStore
    from waterspider_tui.store.store_file import StoreError

    settings = settings_from(config, overrides(store=store, repo_path=repo_path))
    path = settings.store_path()
    if not path.exists():
        fail(f"no state at {path}: nothing has run here yet (use --store or --repo-path)")
    locks = run_locks(path)
    try:
        locks.acquire()
    except EngineLocked:
        fail(f"an orchestrator is running on {path}: it integrates {name} by itself when its last issue is done; stop it first to integrate by hand")
    try:
        try:
            state = StateStore(EventLog(path))
        except StoreError as error:
            fail(str(error))
        try:
            code = asyncio.run(_integrate(settings, state, name, repo_name, partial=partial, gate=not no_gate, publish=not no_publish))
        finally:
            state.log.close()
    finally:
        locks.release()
    raise SystemExit(code)


async def _integrate(settings: Settings, state: Any, name: str, repo_name: str | None, *, partial: bool, gate: bool, publish: bool) -> int:
    from waterspider_tui.adapters.sinks.base import SinkUnavailable
    from waterspider_tui.adapters.sinks.milestones import build_milestone_sink
    from waterspider_tui.core import events as ev
    from waterspider_tui.core.milestones import milestone_progress

    snapshot = state.snapshot
    found = [item for item in milestone_progress(snapshot, done_when=settings.milestones.done_when)
             if item.name == name and (repo_name is None or item.repo.lower() == repo_name.lower())]
    if not found:
        fail(f"no issue has the milestone {name!r}" + (f" in {repo_name}" if repo_name else "") + _known(snapshot))
    if len(found) > 1:
        fail(f"{name!r} is a milestone of {', '.join(item.repo for item in found)}: say which with --repo")
    progress = found[0]
    if not progress.complete:
        if not partial:
            click.echo(f"waterspider: {progress.summary()}: not complete; --partial integrates the {len(progress.done)} done so far", err=True)
            return 1
        progress = _done_part(progress)
        if not progress.issues:
            click.echo(f"waterspider: {name}: nothing is done yet to integrate", err=True)
            return 1
    client, closers, target, unpublished = await _github_client(settings, publish, progress.repo)
    section = settings.milestones.model_copy(update={
        "enabled": True, "gate": settings.milestones.gate and gate, "publish": settings.milestones.publish if client is not None else "none",
        "close_when_merged": False,
    })
    try:
        try:
            sink = build_milestone_sink(
                section, repo_path=Path(settings.workspace.repo_path), base_branch=_base_branch(settings),
                worktrees_dir=settings.workspace.worktrees_dir, gate_options=settings.pipeline.gate, github=client,
                publish_repo=target, unpublished=unpublished,
                push_remote=str(settings.pipeline.push.get("remote", "origin")) if "push" in settings.pipeline.steps else "", hosts=settings.hosts,
            )
        except ValueError as error:
            fail(str(error))
        assert sink is not None
        try:
            report = await sink.integrate(progress, snapshot)
        except SinkUnavailable as error:
            click.echo(f"waterspider: {error}; try again", err=True)
            return EXIT_TRY_AGAIN
    finally:
        for close in closers:
            await close()
    state.record([replace(report, ts=time.time())])
    click.echo(report.summary)
    # Asked to publish and could not: the branch is built, but what was asked for is not done.
    asked = bool(unpublished) and bool(target)  # a local folder with no repository to publish in was never asked to
    return 0 if isinstance(report, ev.MilestoneIntegrated) and report.ok and not asked else 1


def _done_part(progress: MilestoneProgress) -> MilestoneProgress:
    """The milestone as far as it is done: what --partial integrates."""
    return replace(progress, issues=progress.done, running=(), queued=(), blocked=(), failed=(), awaiting_merge=())


async def _github_client(settings: Settings, publish: bool, repo: str) -> tuple[Any, list[Any], str, str]:
    """The GitHub client to publish with, the repository to publish in (a local folder's: `[pipeline.pull_request]
    repo`), and why nothing can be published when publishing is asked for but cannot be done."""
    if not publish or settings.milestones.publish == "none":
        return None, [], "", ""
    from waterspider_tui.adapters.github import GitHubClient, TokenNotFound, discover_token
    from waterspider_tui.adapters.integration.unpublished import not_published_reason

    target = repo if "/" in repo else str(settings.pipeline.pull_request.get("repo", "")).strip()
    try:
        if not target:
            raise TokenNotFound("no repository to publish in")
        token = discover_token()
    except TokenNotFound:
        return None, [], target, not_published_reason(repo, target)
    client = GitHubClient(settings.github.api_url, token, min_write_interval=settings.github.min_write_interval_s)
    return client, [client.aclose], target, ""


def _base_branch(settings: Settings) -> str:
    from waterspider_tui.adapters.workspace import WorkspaceManager

    if settings.milestones.base_branch:
        return settings.milestones.base_branch
    try:
        return WorkspaceManager(settings.workspace.repo_path, base_branch=settings.workspace.base_branch).base_branch
    except Exception as error:  # not a git repository, a detached head
        fail(f"cannot tell the base branch of {settings.workspace.repo_path}: {error} (set [milestones] base_branch)")


def _key_format(snapshot: Snapshot) -> Callable[[str], str]:
    """`#7` while every issue is of one repository (a local folder's too), `owner/name#7` with several."""
    from waterspider_tui.core.commands import short_key

    return short_key if len({task.issue.repo for task in snapshot.tasks.values()}) <= 1 else str


def _word_of(row: dict[str, Any], key: str) -> str:
    for word in ("done", "running", "queued", "awaiting_merge", "blocked", "failed"):
        if key in row[word]:
            return word.replace("_", " ")
    return "?"


def _known(snapshot: Snapshot) -> str:
    names = sorted({task.issue.milestone for task in snapshot.tasks.values() if task.issue.milestone})
    return f" (known: {', '.join(names)})" if names else " (no issue has a milestone)"
