"""The fake GitHub's data (repositories, issues, labels, comments, events, faults, request records) and its JSON shapes.

The JSON mirrors the recorded octokit fixtures (issue, label, user, 422 error) and the
webhook examples (comment, milestone); `test_fake_github_shapes.py` keeps them honest.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from typing import Any, Callable

DEFAULT_LABELS = (
    ("bug", "d73a4a", "Something isn't working"),
    ("documentation", "0075ca", "Improvements or additions to documentation"),
    ("duplicate", "cfd3d7", "This issue or pull request already exists"),
    ("enhancement", "a2eeef", "New feature or request"),
    ("good first issue", "7057ff", "Good for newcomers"),
    ("help wanted", "008672", "Extra attention is needed"),
    ("invalid", "e4e669", "This doesn't seem right"),
    ("question", "d876e3", "Further information is requested"),
    ("wontfix", "ffffff", "This will not be worked on"),
)
"""What a new repository starts with on github.com (recorded in the `labels` scenario)."""

AUTO_LABEL_COLOR = "ededed"
"""The colour GitHub gives a label it creates because an issue was labeled with an unknown name."""

FAKE_EPOCH = 1_767_225_600  # 2026-01-01T00:00:00Z


def iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


@dataclass
class FakeLabel:
    id: int
    name: str
    color: str
    description: str | None = None
    default: bool = False


@dataclass
class FakeEvent:
    """One issue event (`labeled`, `unlabeled`, `renamed`, `closed`, ...) with its actor."""

    id: int
    event: str
    actor: str
    created_at: float
    label: str | None = None
    rename: tuple[str, str] | None = None


@dataclass
class FakeComment:
    id: int
    issue_number: int
    user: str
    body: str
    created_at: float
    updated_at: float


@dataclass
class FakeIssue:
    id: int
    number: int
    title: str
    body: str | None
    user: str
    created_at: float
    updated_at: float
    labels: list[str] = field(default_factory=list)
    state: str = "open"
    state_reason: str | None = None
    closed_at: float | None = None
    assignees: list[str] = field(default_factory=list)
    milestone: str | None = None
    is_pull_request: bool = False
    events: list[FakeEvent] = field(default_factory=list)
    blocked_by: list[int] = field(default_factory=list)
    """Issue ids (not numbers) of the issues blocking this one."""
    sub_issues: list[int] = field(default_factory=list)
    """Issue ids of this issue's sub-issues, in order."""
    parent: int | None = None


@dataclass
class FakeRepo:
    id: int
    owner: str
    name: str
    issues: dict[int, FakeIssue] = field(default_factory=dict)
    labels: dict[str, FakeLabel] = field(default_factory=dict)
    """By lower-cased name: label names are case-insensitive on GitHub."""
    comments: dict[int, FakeComment] = field(default_factory=dict)
    permissions: dict[str, str] = field(default_factory=dict)
    """Login -> admin | maintain | write | triage | read; anyone else has none."""
    milestones: dict[str, int] = field(default_factory=dict)
    milestone_fields: dict[int, dict[str, Any]] = field(default_factory=dict)
    """Milestone number -> what was written to it (`state`, `description`, `closed_at`), over the defaults."""
    pulls: dict[int, Any] = field(default_factory=dict)
    """Issue number -> FakePull (`fake_github_pulls.py`): a pull request is an issue plus these."""

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"


class Ids:
    """Distinct id ranges per kind, far from issue numbers so id/number mix-ups fail loudly."""

    def __init__(self) -> None:
        self._counters = {kind: itertools.count(start) for kind, start in
                          (("repo", 1000), ("issue", 3_000_000_001), ("label", 5000), ("comment", 7_000_001),
                           ("event", 9_000_001), ("user", 100), ("milestone", 800))}

    def next(self, kind: str) -> int:
        return next(self._counters[kind])


class Shapes:
    """Renders fake objects as GitHub's JSON; `api` is the server's base URL."""

    def __init__(self, api: str, user_ids: dict[str, int], lookup: Callable[[int], FakeIssue | None]) -> None:
        self.api = api
        self.user_ids = user_ids
        self.lookup = lookup
        """Any repository's issue by id: dependencies may cross repositories."""

    def user(self, login: str) -> dict[str, Any]:
        uid = self.user_ids.setdefault(login, 100 + len(self.user_ids))
        base = f"{self.api}/users/{login}"
        return {
            "login": login, "id": uid, "node_id": f"U_{uid}", "avatar_url": f"https://avatars.example/u/{uid}",
            "gravatar_id": "", "url": base, "html_url": f"https://github.com/{login}",
            "followers_url": f"{base}/followers", "following_url": f"{base}/following{{/other_user}}",
            "gists_url": f"{base}/gists{{/gist_id}}", "starred_url": f"{base}/starred{{/owner}}{{/repo}}",
            "subscriptions_url": f"{base}/subscriptions", "organizations_url": f"{base}/orgs",
            "repos_url": f"{base}/repos", "events_url": f"{base}/events{{/privacy}}",
            "received_events_url": f"{base}/received_events",
            "type": "Bot" if login.endswith("[bot]") else "User", "site_admin": False,
        }

    def label(self, repo: FakeRepo, label: FakeLabel) -> dict[str, Any]:
        return {
            "id": label.id, "node_id": f"LA_{label.id}", "url": f"{self.api}/repos/{repo.full_name}/labels/{label.name}",
            "name": label.name, "color": label.color, "default": label.default, "description": label.description,
        }

    def milestone(self, repo: FakeRepo, title: str, creator: str) -> dict[str, Any]:
        number = repo.milestones[title]
        url = f"{self.api}/repos/{repo.full_name}/milestones/{number}"
        open_count = sum(1 for i in repo.issues.values() if i.milestone == title and i.state == "open")
        closed_count = sum(1 for i in repo.issues.values() if i.milestone == title and i.state != "open")
        written = repo.milestone_fields.get(number, {})
        return {
            "url": url, "html_url": f"https://github.com/{repo.full_name}/milestone/{number}",
            "labels_url": f"{url}/labels", "id": 800 + number, "node_id": f"MI_{number}", "number": number,
            "title": title, "description": written.get("description"), "creator": self.user(written.get("creator", creator)),
            "open_issues": open_count, "closed_issues": closed_count, "state": written.get("state", "open"),
            "created_at": iso(FAKE_EPOCH), "updated_at": iso(written.get("updated_at", FAKE_EPOCH)), "due_on": None,
            "closed_at": iso(written["closed_at"]) if written.get("closed_at") else None,
        }

    def issue(self, repo: FakeRepo, issue: FakeIssue, *, single: bool = False) -> dict[str, Any]:
        """An issue as the list endpoints give it; `single` adds what GET/POST of one add (`closed_by`)."""
        url = f"{self.api}/repos/{repo.full_name}/issues/{issue.number}"
        blockers = [b for b in map(self.lookup, issue.blocked_by) if b is not None]
        subs = [s for s in map(self.lookup, issue.sub_issues) if s is not None]
        done_subs = sum(1 for s in subs if s.state == "closed")
        data: dict[str, Any] = {
            "url": url, "repository_url": f"{self.api}/repos/{repo.full_name}",
            "labels_url": f"{url}/labels{{/name}}", "comments_url": f"{url}/comments", "events_url": f"{url}/events",
            "html_url": f"https://github.com/{repo.full_name}/{'pull' if issue.is_pull_request else 'issues'}/{issue.number}",
            "id": issue.id, "node_id": f"I_{issue.id}", "number": issue.number, "title": issue.title,
            "user": self.user(issue.user),
            "labels": [self.label(repo, repo.labels[name.lower()]) for name in issue.labels],
            "state": issue.state, "locked": False,
            "assignee": self.user(issue.assignees[0]) if issue.assignees else None,
            "assignees": [self.user(login) for login in issue.assignees],
            "milestone": self.milestone(repo, issue.milestone, issue.user) if issue.milestone else None,
            "comments": sum(1 for c in repo.comments.values() if c.issue_number == issue.number),
            "created_at": iso(issue.created_at), "updated_at": iso(issue.updated_at),
            "closed_at": iso(issue.closed_at) if issue.closed_at else None,
            "author_association": "MEMBER" if repo.permissions.get(issue.user) else "NONE",
            "active_lock_reason": None, "body": issue.body,
            "reactions": {"url": f"{url}/reactions", "total_count": 0, "+1": 0, "-1": 0, "laugh": 0, "hooray": 0,
                          "confused": 0, "heart": 0, "rocket": 0, "eyes": 0},
            "timeline_url": f"{url}/timeline", "performed_via_github_app": None, "state_reason": issue.state_reason,
            "sub_issues_summary": {
                "total": len(subs), "completed": done_subs,
                "percent_completed": (100 * done_subs // len(subs)) if subs else 0,
            },
            "issue_dependencies_summary": {
                "blocked_by": sum(1 for b in blockers if b.state == "open"),
                "total_blocked_by": len(blockers),
                "blocking": sum(1 for i in repo.issues.values() if issue.id in i.blocked_by and i.state == "open"),
                "total_blocking": sum(1 for i in repo.issues.values() if issue.id in i.blocked_by),
            },
        }
        if single:
            data["closed_by"] = None
        if issue.is_pull_request:
            pulls = f"{self.api}/repos/{repo.full_name}/pulls/{issue.number}"
            data["draft"] = False
            data["pull_request"] = {"url": pulls, "html_url": data["html_url"], "diff_url": data["html_url"] + ".diff",
                                    "patch_url": data["html_url"] + ".patch", "merged_at": None}
        return data

    def comment(self, repo: FakeRepo, comment: FakeComment) -> dict[str, Any]:
        url = f"{self.api}/repos/{repo.full_name}/issues/comments/{comment.id}"
        return {
            "url": url, "html_url": f"https://github.com/{repo.full_name}/issues/{comment.issue_number}#issuecomment-{comment.id}",
            "issue_url": f"{self.api}/repos/{repo.full_name}/issues/{comment.issue_number}",
            "id": comment.id, "node_id": f"IC_{comment.id}", "user": self.user(comment.user),
            "created_at": iso(comment.created_at), "updated_at": iso(comment.updated_at),
            "author_association": "MEMBER" if repo.permissions.get(comment.user) else "NONE",
            "body": comment.body, "reactions": {"url": f"{url}/reactions", "total_count": 0},
            "performed_via_github_app": None,
        }

    def event(self, repo: FakeRepo, event: FakeEvent) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": event.id, "node_id": f"LE_{event.id}", "url": f"{self.api}/repos/{repo.full_name}/issues/events/{event.id}",
            "actor": self.user(event.actor), "event": event.event, "commit_id": None, "commit_url": None,
            "created_at": iso(event.created_at), "performed_via_github_app": None,
        }
        if event.label is not None:
            label = repo.labels.get(event.label.lower())
            data["label"] = {"name": event.label, "color": label.color if label else AUTO_LABEL_COLOR}
        if event.rename is not None:
            data["rename"] = {"from": event.rename[0], "to": event.rename[1]}
        return data

    def permission(self, login: str, permission: str) -> dict[str, Any]:
        """`permission` folds maintain into write and triage into read, as GitHub does; `role_name` keeps it."""
        legacy = {"maintain": "write", "triage": "read"}.get(permission, permission)
        user = self.user(login)
        user["permissions"] = {
            "admin": permission == "admin", "maintain": permission in ("admin", "maintain"),
            "push": legacy in ("admin", "write"), "triage": permission != "none" and permission != "read",
            "pull": permission != "none",
        }
        user["role_name"] = permission
        return {"permission": legacy, "role_name": permission, "user": user}


@dataclass
class Fault:
    """A response to give instead of the real one (or a delay before it), `times` times."""

    status: int | None
    times: int = 1
    retry_after: int | None = None
    remaining_zero: bool = False
    reset_in_s: int = 60
    delay_s: float = 0.0
    disconnect: bool = False
    method: str | None = None
    path_contains: str | None = None
    message: str | None = None

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and (
            self.path_contains is None or self.path_contains in path
        )


@dataclass(frozen=True)
class RequestRecord:
    method: str
    path: str
    status: int
    conditional: bool
    login: str | None
    headers: dict[str, str] = field(default_factory=dict)
