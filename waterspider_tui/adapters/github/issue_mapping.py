"""GitHub issue JSON read into the core `Issue`, tolerant of missing and null fields.

Whoever can open an issue writes its title, body and labels: they lose terminal escapes,
control characters, bidi overrides and lone surrogates here, before anything stores or shows them.
"""

from __future__ import annotations

import calendar
import time
from dataclasses import replace
from typing import Any, Mapping

from waterspider_tui.core.models import Issue, issue_key
from waterspider_tui.core.priority import estimate_minutes
from waterspider_tui.core.safe_text import body_text, one_line_text


def parse_timestamp(text: str | None) -> float:
    """Seconds since the epoch for GitHub's `YYYY-MM-DDTHH:MM:SSZ`; 0 when absent or unreadable."""
    if not text:
        return 0.0
    try:
        return float(calendar.timegm(time.strptime(text[:19], "%Y-%m-%dT%H:%M:%S")))
    except ValueError:
        return 0.0


def is_pull_request(item: Mapping[str, Any]) -> bool:
    """The issues endpoints list pull requests too; only they carry a `pull_request` key."""
    return "pull_request" in item


def repo_of(item: Mapping[str, Any], fallback: str = "") -> str:
    """`owner/name` from an issue's `repository_url` (the last two path segments).

    Dependency and sub-issue lists may name issues of other repositories, so the repository
    comes from the item itself rather than from the URL we asked.
    """
    url = str(item.get("repository_url") or "")
    parts = [part for part in url.split("/") if part]
    return "/".join(parts[-2:]) if len(parts) >= 2 else fallback


def key_of(item: Mapping[str, Any], fallback_repo: str = "") -> str:
    return issue_key(repo_of(item, fallback_repo), int(item["number"]))


def _labels(labels: Any) -> tuple[str, ...]:
    names = (label.get("name") if isinstance(label, dict) else label for label in labels or ())
    return tuple(one_line_text(str(name)) for name in names if name)


def _logins(users: Any) -> tuple[str, ...]:
    return tuple(one_line_text(str(user["login"])) for user in users or () if isinstance(user, dict) and user.get("login"))


def issue_from_json(
    item: Mapping[str, Any],
    repo: str,
    *,
    depends_on: tuple[str, ...] = (),
    external_open: tuple[str, ...] = (),
    external_closed: tuple[str, ...] = (),
) -> Issue:
    """The core issue; the estimate comes from an `estimate:` label or an `Estimate:` body line."""
    milestone = item.get("milestone")
    milestone_title = one_line_text(str(milestone.get("title") or "")) if isinstance(milestone, dict) else ""
    issue = Issue(
        repo=repo,
        number=int(item["number"]),
        title=one_line_text(str(item.get("title") or "")).strip(),
        body=body_text(str(item.get("body") or "")),
        labels=_labels(item.get("labels")),
        milestone=milestone_title or None,
        depends_on=depends_on,
        created=parse_timestamp(item.get("created_at")),
        closed=item.get("state") == "closed",
        url=str(item.get("html_url") or ""),
        assignees=_logins(item.get("assignees")),
        source_path=str(item.get("url") or ""),
        external_open=external_open,
        external_closed=external_closed,
    )
    return replace(issue, estimate_min=estimate_minutes(issue))
