"""`waterspider plan`: a dry run over an issue folder or a store; starts nothing."""

from __future__ import annotations

import asyncio
import json
import sys
import time

from waterspider_tui.adapters.local_issues import LocalIssueSource
from waterspider_tui.config import ConfigError, Settings
from waterspider_tui.core import events as ev
from waterspider_tui.core.scheduler import plan
from waterspider_tui.core.state import Snapshot, replay
from waterspider_tui.text.status_text import plan_dict, plan_lines


def _snapshot_from_folder(settings: Settings) -> Snapshot:
    folder = settings.issues.dir
    if folder is None or not folder.is_dir():
        raise ConfigError(f"issue folder {folder} does not exist")
    result = asyncio.run(LocalIssueSource(folder, settings.issues.repo_name).poll())
    for rejection in result.rejected:
        print(f"skipped: {rejection.error}", file=sys.stderr)
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    now = time.time()
    seen: list[ev.Event] = [ev.IssueSeen(ts=now, issue_data=issue) for issue in result.issues]
    return replay(seen + [ev.IssueRejected(ts=now, path=rejection.path, error=rejection.error) for rejection in result.rejected])


def _snapshot_from_store(settings: Settings) -> Snapshot:
    from waterspider_tui.store.event_log import EventLog, StoreError

    path = settings.store_path()
    if not path.exists():
        raise ConfigError(f"no state at {path}: nothing has run here yet (give --issues DIR, or --store PATH)")
    try:
        return replay(EventLog(path, read_only=True).read())
    except StoreError as error:
        raise ConfigError(str(error)) from error


def plan_command(settings: Settings, *, from_store: bool, as_json: bool) -> str:
    snapshot = _snapshot_from_store(settings) if from_store else _snapshot_from_folder(settings)
    now = time.time()
    current = plan(snapshot, now, settings.scheduler.to_core())
    if as_json:
        return json.dumps(plan_dict(snapshot, current), indent=2, ensure_ascii=False)
    return "\n".join(plan_lines(snapshot, current, now))
