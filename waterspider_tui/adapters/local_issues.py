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
A file that cannot be read gets one error naming the file and what is wrong, and is skipped.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml

from waterspider_tui.adapters.source_base import PollResult, Rejection
from waterspider_tui.core.models import Issue, issue_key
from waterspider_tui.core.priority import parse_duration_minutes

KNOWN_KEYS = {"number", "title", "labels", "milestone", "depends_on", "estimate", "created", "state", "assignees"}
_LEADING_NUMBER = re.compile(r"^(\d+)")
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)(.*)\Z", re.DOTALL)
_DEP_REF = re.compile(r"^(?:(?P<repo>[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+)?#)?(?P<num>\d+)$")


class IssueFileError(ValueError):
    """One file's problem, phrased for the operator."""


def _as_str_list(value: Any, field: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (str, int)):
        return [str(value)]
    if isinstance(value, list) and all(isinstance(item, (str, int, float)) for item in value):
        return [str(item) for item in value]
    raise IssueFileError(f"'{field}' must be a list of strings, got {value!r}")


def _parse_created(value: Any) -> float:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as error:
            raise IssueFileError(f"'created' is not an ISO 8601 time: {value!r}") from error
    else:
        from datetime import date

        if isinstance(value, date):
            moment = datetime(value.year, value.month, value.day)
        else:
            raise IssueFileError(f"'created' is not an ISO 8601 time: {value!r}")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def _parse_deps(value: Any, repo: str) -> tuple[str, ...]:
    deps: list[str] = []
    for item in _as_str_list(value, "depends_on"):
        match = _DEP_REF.match(item.strip())
        if not match:
            raise IssueFileError(f"'depends_on' entry {item!r} is not an issue number or owner/repo#N")
        deps.append(issue_key(match.group("repo") or repo, int(match.group("num"))))
    return tuple(deps)


def parse_issue_file(path: Path, repo: str = "local", text: str | None = None) -> Issue:
    """Read one issue file; raises IssueFileError with what is wrong."""
    if text is None:
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as error:
            raise IssueFileError(f"not UTF-8 text ({error.reason} at byte {error.start})") from error
    match = _FRONT_MATTER.match(text.lstrip("\ufeff"))
    if not match:
        raise IssueFileError("no YAML front matter: the file must start with a '---' line and close it with another")
    try:
        meta = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 2}" if mark is not None else ""
        raise IssueFileError(f"front matter is not valid YAML{where}: {getattr(error, 'problem', error)}") from error
    except ValueError as error:  # YAML that parses to an impossible value, such as a date 2026-13-45
        raise IssueFileError(f"front matter has an impossible value: {error}") from error
    if not isinstance(meta, dict):
        raise IssueFileError("front matter must be a mapping of keys to values")
    unknown = sorted(set(map(str, meta)) - KNOWN_KEYS)
    if unknown:
        raise IssueFileError(f"unknown front matter key(s) {', '.join(unknown)}; known: {', '.join(sorted(KNOWN_KEYS))}")
    number = meta.get("number")
    if number is None:
        leading = _LEADING_NUMBER.match(path.name)
        if not leading:
            raise IssueFileError("no 'number' in the front matter and the file name does not start with digits")
        number = int(leading.group(1))
    if isinstance(number, bool) or not isinstance(number, int) or number <= 0:
        raise IssueFileError(f"'number' must be a positive whole number, got {number!r}")
    title = meta.get("title")
    if not isinstance(title, str) or not title.strip():
        raise IssueFileError("'title' is missing or empty")
    state = str(meta.get("state", "open")).lower()
    if state not in ("open", "closed"):
        raise IssueFileError(f"'state' must be open or closed, got {meta.get('state')!r}")
    estimate_min = None
    if meta.get("estimate") is not None:
        estimate_min = parse_duration_minutes(str(meta["estimate"]))
        if estimate_min is None:
            raise IssueFileError(f"'estimate' must look like 90m, 2h or 1h30m, got {meta['estimate']!r}")
    milestone = meta.get("milestone")
    return Issue(
        repo=repo,
        number=number,
        title=title.strip(),
        body=match.group(2).strip("\n"),
        labels=tuple(_as_str_list(meta.get("labels"), "labels")),
        milestone=str(milestone) if milestone is not None else None,
        depends_on=_parse_deps(meta.get("depends_on"), repo),
        estimate_min=estimate_min,
        created=_parse_created(meta["created"]) if meta.get("created") is not None else path.stat().st_mtime,
        closed=state == "closed",
        assignees=tuple(_as_str_list(meta.get("assignees"), "assignees")),
        url=path.resolve().as_uri(),
        source_path=str(path),
    )


class LocalIssueSource:
    """Reads the folder on every poll; files that fail are reported and skipped."""

    def __init__(self, folder: Path | str, repo: str = "local") -> None:
        self.folder = Path(folder)
        self.repo = repo
        self.repos = (repo,)
        self.name = f"folder {self.folder}"

    async def poll(self) -> PollResult:
        if not self.folder.is_dir():
            return PollResult(ok=False, message=f"issue folder {self.folder} does not exist")
        result = PollResult()
        seen: dict[int, Path] = {}
        for path in sorted(self.folder.glob("*.md")):
            if path.name.lower() in ("readme.md",):
                continue
            try:
                issue = parse_issue_file(path, self.repo)
            except (IssueFileError, OSError) as error:
                result.rejected.append(Rejection(str(path), f"{path.name}: {error}"))
                continue
            if issue.number in seen:
                result.rejected.append(Rejection(str(path), f"{path.name}: number {issue.number} is already used by {seen[issue.number].name}"))
                continue
            seen[issue.number] = path
            result.issues.append(issue)
        return result

    async def close(self) -> None:
        return None
