"""The embedded issue source: a folder of Markdown files with YAML front matter, one issue each.

```
---
number: 12            # default: the file name's leading digits (012-login.md -> 12)
title: Fix the login crash
labels: [P1-High, "estimate:90m"]
milestone: v1.0
depends_on: [7, 9]    # numbers, or "owner/repo#5"
estimate: 2h          # 90m, 2h, 1h30m
created: 2026-11-20T09:00:00Z
state: open           # open | closed
---
The body. References count too: "depends on #7", "blocked by #9", "- [ ] #3".
```
A file that cannot be read gets one error naming the file and what is wrong, and is skipped. Its
issue is not taken for closed: the rejection names it (the number the file held, or the one its
name starts with), so the issue keeps its last good state, and one never read yet is still known
to its dependants, which wait for it.
Front matter is plain data: YAML aliases (`*name`) are refused, so a few bytes cannot expand
into gigabytes, and so is front matter over 64 KB. Text fields lose control characters and
terminal escapes on the way in (`core.safe_text`). A number belongs to the first file that
claimed it: a later file with the same number is refused, even if its name sorts first.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from waterspider_tui.adapters.front_matter import IssueFileError, load_front_matter, split_front_matter
from waterspider_tui.adapters.source_base import PollResult, Rejection
from waterspider_tui.core.dag import parse_references
from waterspider_tui.core.models import Issue, issue_key
from waterspider_tui.core.priority import parse_duration_minutes
from waterspider_tui.core.safe_text import body_text, one_line_text

KNOWN_KEYS = {"number", "title", "labels", "milestone", "depends_on", "estimate", "created", "state", "assignees"}
_LEADING_NUMBER = re.compile(r"^(\d+)")
_DEP_REF = re.compile(r"^(?:(?P<repo>[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+)?#)?(?P<num>\d+)$")

__all__ = ["IssueFileError", "LocalIssueSource", "parse_issue_file"]


def _shown(value: Any, width: int = 60) -> str:
    """A value for an error message: its repr, cut to `width` characters."""
    text = one_line_text(repr(value))
    return text if len(text) <= width else text[: width - 1] + "…"


def _as_str_list(value: Any, field: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (str, int)):
        return [one_line_text(str(value))]
    if isinstance(value, list) and all(isinstance(item, (str, int, float)) for item in value):
        return [one_line_text(str(item)) for item in value]
    raise IssueFileError(f"'{field}' must be a list of strings, got {_shown(value)}")


def _parse_created(value: Any) -> float:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as error:
            raise IssueFileError(f"'created' is not an ISO 8601 time: {_shown(value)}") from error
    else:
        from datetime import date

        if isinstance(value, date):
            moment = datetime(value.year, value.month, value.day)
        else:
            raise IssueFileError(f"'created' is not an ISO 8601 time: {_shown(value)}")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def _parse_deps(value: Any, repo: str) -> tuple[str, ...]:
    deps: list[str] = []
    for item in _as_str_list(value, "depends_on"):
        match = _DEP_REF.match(item.strip())
        if not match:
            raise IssueFileError(f"'depends_on' entry {_shown(item)} is not an issue number or owner/repo#N")
        deps.append(issue_key(match.group("repo") or repo, int(match.group("num"))))
    return tuple(deps)


def parse_issue_file(path: Path, repo: str = "local", text: str | None = None) -> Issue:
    """Read one issue file; raises IssueFileError with what is wrong."""
    if text is None:
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as error:
            raise IssueFileError(f"not UTF-8 text ({error.reason} at byte {error.start})") from error
    front_matter, body = split_front_matter(text)
    meta = load_front_matter(front_matter)
    if not isinstance(meta, dict):
        raise IssueFileError("front matter must be a mapping of keys to values")
    unknown = sorted(set(map(str, meta)) - KNOWN_KEYS)
    if unknown:
        named = ", ".join(one_line_text(key)[:40] for key in unknown[:10]) + (", …" if len(unknown) > 10 else "")
        raise IssueFileError(f"unknown front matter key(s) {named}; known: {', '.join(sorted(KNOWN_KEYS))}")
    number = meta.get("number")
    if number is None:
        leading = _LEADING_NUMBER.match(path.name)
        if not leading:
            raise IssueFileError("no 'number' in the front matter and the file name does not start with digits")
        number = int(leading.group(1))
    if isinstance(number, bool) or not isinstance(number, int) or number <= 0:
        raise IssueFileError(f"'number' must be a positive whole number, got {_shown(number)}")
    title = meta.get("title")
    if isinstance(title, (bool, list, dict)):
        shown = str(title).lower() if isinstance(title, bool) else _shown(title)
        raise IssueFileError(f"'title' must be text, got {shown}: quote it (title: \"...\")")
    # A bare number or date is text a user typed: `title: 2024` is a title, not a missing one.
    title = one_line_text(str(title)).strip() if title is not None else ""
    if not title:
        raise IssueFileError("'title' is missing or empty")
    state = str(meta.get("state", "open")).lower()
    if state not in ("open", "closed"):
        raise IssueFileError(f"'state' must be open or closed, got {_shown(meta.get('state'))}")
    estimate_min = None
    if meta.get("estimate") is not None:
        estimate_min = parse_duration_minutes(str(meta["estimate"]))
        if estimate_min is None:
            raise IssueFileError(f"'estimate' must look like 90m, 2h or 1h30m, got {_shown(meta['estimate'])}")
    milestone = meta.get("milestone")
    if isinstance(milestone, (list, dict)):
        raise IssueFileError(f"'milestone' must be one name, got {_shown(milestone)}")
    return Issue(
        repo=repo,
        number=number,
        title=title,
        body=body_text(body).strip("\n"),
        labels=tuple(_as_str_list(meta.get("labels"), "labels")),
        milestone=one_line_text(str(milestone)).strip() or None if milestone is not None else None,
        depends_on=_parse_deps(meta.get("depends_on"), repo),
        estimate_min=estimate_min,
        created=_parse_created(meta["created"]) if meta.get("created") is not None else path.stat().st_mtime,
        closed=state == "closed",
        assignees=tuple(_as_str_list(meta.get("assignees"), "assignees")),
        url=path.resolve().as_uri(),
        source_path=one_line_text(str(path)),
    )


class LocalIssueSource:
    """Reads the folder on every poll; files that fail are reported and skipped.

    It remembers which file holds each number, so a new file claiming a number in use is the
    one refused, whatever its name or age. A number is given up when its file is gone or now
    names another number; while the file cannot be read, the number stays reserved for it.
    """

    def __init__(self, folder: Path | str, repo: str = "local", holders: Mapping[int, str] | None = None) -> None:
        self.folder = Path(folder)
        self.repo = repo
        self.repos = (repo,)
        self.name = f"folder {self.folder}"
        self._holders: dict[int, Path] = {number: Path(path) for number, path in (holders or {}).items()}
        """Issue number -> the file that holds it; `holders` hands over what a store remembers."""
        self._read: set[str] = {issue_key(repo, number) for number in self._holders}
        """Issues read at least once: known to the engine, which keeps them as they were while their file is broken."""

    async def poll(self) -> PollResult:
        if not self.folder.is_dir():
            return PollResult(ok=False, message=f"issue folder {self.folder} does not exist")
        result = PollResult()
        claims: dict[int, list[Path]] = {}
        parsed: list[tuple[Path, Issue]] = []
        unreadable: set[Path] = set()
        inside = self.folder.resolve()
        for path in sorted(self.folder.glob("*.md")):
            if path.name.lower() in ("readme.md",):
                continue
            if path.is_symlink() and not path.resolve().is_relative_to(inside):
                # A link out of the folder could hand an agent any file this user can read, as an issue body.
                outside = f"a symbolic link to {one_line_text(os.readlink(path))}, outside the issue folder: not read"
                result.rejected.append(Rejection(one_line_text(str(path)), f"{one_line_text(path.name)}: {outside}", self._key_of(path)))
                unreadable.add(path)
                continue
            try:
                issue = parse_issue_file(path, self.repo)
            except (IssueFileError, OSError) as error:
                result.rejected.append(Rejection(one_line_text(str(path)), f"{one_line_text(path.name)}: {error}", self._key_of(path)))
                unreadable.add(path)
                continue
            claims.setdefault(issue.number, []).append(path)
            parsed.append((path, issue))
        self._settle_holders(claims, unreadable)
        for path, issue in parsed:
            holder = self._holders[issue.number]
            if path != holder:
                used = f"number {issue.number} is already used by {one_line_text(holder.name)}"
                result.rejected.append(Rejection(one_line_text(str(path)), f"{one_line_text(path.name)}: {used}"))
                continue
            if issue.key in issue.depends_on or issue.key in parse_references(issue.body, issue.repo):
                result.warnings.append(f"{one_line_text(path.name)}: issue #{issue.number} depends on itself; that dependency is ignored")
                issue = replace(issue, depends_on=tuple(dep for dep in issue.depends_on if dep != issue.key))
            result.issues.append(issue)
        self._read.update(issue.key for issue in result.issues)
        _wait_for_unreadable(result, self._read)
        result.rejected.sort(key=lambda rejection: rejection.path)
        return result

    def _key_of(self, path: Path) -> str | None:
        """The issue an unreadable file stands for: the number it held when last read, else its name's leading digits."""
        held = next((number for number, holder in self._holders.items() if holder == path), None)
        if held is None:
            leading = _LEADING_NUMBER.match(path.name)
            held = int(leading.group(1)) if leading else None
        return issue_key(self.repo, held) if held else None

    def _settle_holders(self, claims: Mapping[int, list[Path]], unreadable: set[Path]) -> None:
        """Keep each holder that still claims its number (or cannot be read); give free numbers to the oldest claimant."""
        for number, holder in list(self._holders.items()):
            if holder not in claims.get(number, ()) and holder not in unreadable:
                del self._holders[number]
        for number, claimants in claims.items():
            if number not in self._holders:
                self._holders[number] = min(claimants, key=lambda path: (_mtime(path), path.name))

    async def close(self) -> None:
        return None


def _wait_for_unreadable(result: PollResult, read: set[str]) -> None:
    """An issue whose file cannot be read, and that was never read (so the engine knows it only by
    its file name), is open as far as its dependants know: they wait for it (`external_open`)
    instead of taking it for unknown. One read before needs nothing: the engine keeps it as it was."""
    unreadable = {rejection.issue_key for rejection in result.rejected if rejection.issue_key} - read
    if not unreadable:
        return
    for index, issue in enumerate(result.issues):
        waits_on = [dep for dep in dict.fromkeys((*issue.depends_on, *parse_references(issue.body, issue.repo))) if dep in unreadable]
        if waits_on:
            result.issues[index] = replace(issue, external_open=tuple(dict.fromkeys((*issue.external_open, *waits_on))))


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return math.inf
