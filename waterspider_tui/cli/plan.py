"""`waterspider plan`: a dry run over an issue folder, a store, or both; starts nothing."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from waterspider_tui.adapters.local_issues import LocalIssueSource
from waterspider_tui.cli.common import events_at
from waterspider_tui.config import ConfigError, Settings
from waterspider_tui.core import events as ev
from waterspider_tui.core.models import split_issue_key
from waterspider_tui.core.scheduler import plan
from waterspider_tui.core.state import replay
from waterspider_tui.text.status_text import plan_dict, plan_lines, plan_warnings


@dataclass
class PlanOutput:
    """The plan as printed (text or JSON) and the lines for stderr: skipped files and warnings."""

    text: str
    notes: list[str] = field(default_factory=list)


def _folder_events(settings: Settings, notes: list[str], warnings: list[str]) -> list[ev.Event]:
    folder = settings.issues.dir
    if folder is None or not folder.is_dir():
        raise ConfigError(f"issue folder {folder} does not exist")
    result = asyncio.run(LocalIssueSource(folder, settings.issues.repo_name).poll())
    notes += [f"skipped: {rejection.error}" for rejection in result.rejected]
    warnings += list(result.warnings)
    now = time.time()
    seen: list[ev.Event] = [ev.IssueSeen(ts=now, issue_data=issue) for issue in result.issues]
    return seen + [ev.IssueRejected(ts=now, path=rejection.path, error=rejection.error) for rejection in result.rejected]


def _store_events(path: Path, *, only_repo: str | None = None) -> list[ev.Event]:
    """A store's events; with `only_repo`, those of other sources' issues are left out."""
    from waterspider_tui.store.event_log import StoreError

    try:
        events = events_at(path)
    except StoreError as error:
        raise ConfigError(str(error)) from error
    if only_repo is None:
        return events
    return [event for event in events if event.issue_key is None or split_issue_key(event.issue_key)[0] == only_repo]


def plan_command(settings: Settings, *, from_folder: bool, as_json: bool) -> PlanOutput:
    """The plan of the folder's issues as the store left them (done ones stay done), or of the store alone."""
    path = settings.store_path()
    notes: list[str] = []
    warnings: list[str] = []
    if from_folder:
        stored = _store_events(path, only_repo=settings.issues.repo_name) if path.exists() else []
        events = stored + _folder_events(settings, notes, warnings)
    else:
        if not path.exists():
            raise ConfigError(f"no state at {path}: nothing has run here yet (give --issues DIR, or --store PATH)")
        events = _store_events(path)
    snapshot = replay(events)
    now = time.time()
    from waterspider_tui.cli.common import scheduler_config

    current = plan(snapshot, now, scheduler_config(settings))
    warnings += plan_warnings(snapshot, current)
    if as_json:
        data = plan_dict(snapshot, current)
        data["warnings"] = warnings
        return PlanOutput(json.dumps(data, indent=2, ensure_ascii=False), notes)
    return PlanOutput("\n".join(plan_lines(snapshot, current, now)), notes + [f"warning: {warning}" for warning in warnings])
