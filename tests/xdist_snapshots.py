"""Syrupy's unused-snapshot check, across pytest-xdist workers.

Under xdist syrupy checks nothing for unused snapshots (its own TODO): each worker ran only its
share of the tests, and the controller ran none. So each worker sends what it found unused and
which snapshot files it looked at. A snapshot is unused for the whole run when every worker that
looked at its file found it unused: a worker that did not run a test sees that test's snapshot
as unused, the worker that ran it does not. The run then fails, as it does without xdist
(`--snapshot-warn-unused` only warns; `--snapshot-update` removes nothing under xdist: run it with
`-n 0` for that).
"""

from __future__ import annotations

from typing import Any

import pytest

Entry = tuple[str, str]
"""A snapshot: its file and its name in that file."""

_reports: list[dict[str, list[Any]]] = []
_unused: list[Entry] = []


def _entries(collections: Any) -> list[Entry]:
    return sorted((str(collection.location), snapshot.name) for collection in collections for snapshot in collection)


def unused_in_every_view(reports: list[dict[str, list[Any]]]) -> list[Entry]:
    """The snapshots that every worker which looked at their file found unused."""
    votes: dict[Entry, int] = {}
    for report in reports:
        for location, name in report["unused"]:
            votes[(location, name)] = votes.get((location, name), 0) + 1
    lookers = {location: sum(location in report["looked_at"] for report in reports) for location, _ in votes}
    return sorted(entry for entry, count in votes.items() if count == lookers[entry[0]])


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    output = getattr(node, "workeroutput", {})
    if "snapshots_looked_at" in output:
        _reports.append({"looked_at": output["snapshots_looked_at"], "unused": output["snapshots_unused"]})


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    output = getattr(config, "workeroutput", None)
    if output is not None:  # a worker, after syrupy made its report: hand its view to the controller
        report = getattr(getattr(config, "_syrupy", None), "report", None)
        if report is not None:
            output["snapshots_looked_at"] = sorted(str(collection.location) for collection in report.discovered)
            output["snapshots_unused"] = [list(entry) for entry in _entries(report.unused)]
        return
    if not _reports or config.option.update_snapshots:
        return
    _unused[:] = unused_in_every_view(_reports)
    if _unused and not config.option.warn_unused_snapshots:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _unused:
        terminalreporter.write_sep("=", f"{len(_unused)} unused snapshots (no test asserts them)", red=True)
        for location, name in _unused:
            terminalreporter.write_line(f"{location}: {name}")
