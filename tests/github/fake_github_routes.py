"""The fake GitHub's endpoints: one small function per (method, path), like the real API's operations."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable
from urllib.parse import urlencode

from .fake_github_model import AUTO_LABEL_COLOR, FakeIssue, FakeLabel, FakeRepo

if TYPE_CHECKING:
    from .fake_github import FakeGitHub

NOT_FOUND = {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}
_HEX_COLOR = re.compile(r"[0-9a-fA-F]{6}")


@dataclass
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    counts: bool = True
    """Whether it costs a request of the primary rate limit (injected faults do not)."""
    last_modified: str | None = None


def _validation(resource: str, code: str, field_name: str) -> Reply:
    return Reply(422, {"message": "Validation Failed",
                       "errors": [{"resource": resource, "code": code, "field": field_name}],
                       "documentation_url": "https://docs.github.com/rest/issues/labels#create-a-label"})


def _page(github: FakeGitHub, repo: FakeRepo, rest: str, query: dict[str, str], items: list[Any]) -> Reply:
    """One page of `items` with GitHub's `Link` header (per_page default 30, at most 100)."""
    per_page = max(1, min(int(query.get("per_page", 30)), 100))
    page = max(1, int(query.get("page", 1)))
    last = max(1, -(-len(items) // per_page))
    reply = Reply(200, items[(page - 1) * per_page: page * per_page])
    if last > 1:
        reply.headers["link"] = page_links(github, repo, rest, query, page, last)
    return reply


def page_links(github: FakeGitHub, repo: FakeRepo, rest: str, query: dict[str, str], page: int, last: int) -> str:
    """GitHub's `Link` header for a page: later pages live under `/repositories/{id}`."""
    params = {key: value for key, value in query.items() if key != "page"}

    def link(number: int, rel: str) -> str:
        return f'<{github.base_url}/repositories/{repo.id}{rest}?{urlencode({**params, "page": number})}>; rel="{rel}"'

    parts = []
    if page > 1:
        parts.append(link(page - 1, "prev"))
    if page < last:
        parts += [link(page + 1, "next"), link(last, "last")]
    if page > 1:
        parts.append(link(1, "first"))
    return ", ".join(parts)


def _issue_or_404(repo: FakeRepo, number: str) -> FakeIssue | None:
    return repo.issues.get(int(number))


# ----- issues
def list_issues(github: FakeGitHub, repo: FakeRepo, login: str, query: dict[str, str], body: Any) -> Reply:
    state = query.get("state", "open")
    wanted = [name.strip().lower() for name in query.get("labels", "").split(",") if name.strip()]
    issues = [
        issue for issue in repo.issues.values()
        if (state == "all" or issue.state == state)
        and all(name in (label.lower() for label in issue.labels) for name in wanted)
    ]
    sort_key = {"updated": lambda i: (i.updated_at, i.number), "comments": lambda i: (0, i.number)}.get(
        query.get("sort", "created"), lambda i: (i.created_at, i.number))
    issues.sort(key=sort_key, reverse=query.get("direction", "desc") == "desc")
    return _page(github, repo, "/issues", query, [github.shapes.issue(repo, issue) for issue in issues])


def get_issue(github: FakeGitHub, repo: FakeRepo, login: str, query: dict[str, str], body: Any, number: str) -> Reply:
    issue = _issue_or_404(repo, number)
    return Reply(200, github.shapes.issue(repo, issue, single=True)) if issue else Reply(404, NOT_FOUND)


def create_issue(github: FakeGitHub, repo: FakeRepo, login: str, query: dict[str, str], body: Any) -> Reply:
    if not isinstance(body, dict) or not body.get("title"):
        return _validation("Issue", "missing_field", "title")
    issue = github.add_issue(repo.full_name, body["title"], body.get("body"), labels=body.get("labels", ()), user=login)
    data = github.shapes.issue(repo, issue, single=True)
    return Reply(201, data, {"location": data["url"]})


def update_issue(github: FakeGitHub, repo: FakeRepo, login: str, query: dict[str, str], body: Any, number: str) -> Reply:
    issue = _issue_or_404(repo, number)
    if issue is None:
        return Reply(404, NOT_FOUND)
    body = body if isinstance(body, dict) else {}
    github.edit_issue(repo.full_name, issue.number, actor=login, title=body.get("title"), body=body.get("body"))
    if body.get("state") == "closed" and issue.state == "open":
        github.close_issue(repo.full_name, issue.number, actor=login)
    elif body.get("state") == "open":
        issue.state, issue.state_reason, issue.closed_at = "open", "reopened", None
    return Reply(200, github.shapes.issue(repo, issue, single=True))


# ----- labels of an issue, labels of a repository
def issue_labels(github: FakeGitHub, repo: FakeRepo, login: str, query: dict[str, str], body: Any, number: str) -> Reply:
    issue = _issue_or_404(repo, number)
    if issue is None:
        return Reply(404, NOT_FOUND)
    return Reply(200, [github.shapes.label(repo, repo.labels[name.lower()]) for name in issue.labels])


def add_issue_labels(github: FakeGitHub, repo: FakeRepo, login: str, query: dict[str, str], body: Any, number: str) -> Reply:
    """Unknown names are created on the spot with colour `ededed`, exactly like GitHub does."""
    issue = _issue_or_404(repo, number)
    names = body.get("labels") if isinstance(body, dict) else body
    if issue is None:
        return Reply(404, NOT_FOUND)
    if not isinstance(names, list) or not names:
        return _validation("Label", "missing_field", "labels")
    for name in names:
        github.label_issue(repo.full_name, issue.number, str(name), actor=login)
    return issue_labels(github, repo, login, query, body, number)


def remove_issue_label(github: FakeGitHub, repo: FakeRepo, login: str, query: dict[str, str], body: Any,
                       number: str, name: str) -> Reply:
    issue = _issue_or_404(repo, number)
    if issue is None or not github.unlabel_issue(repo.full_name, issue.number, name, actor=login):
        return Reply(404, {"message": "Label does not exist",
                           "documentation_url": "https://docs.github.com/rest/issues/labels#remove-a-label-from-an-issue"})
    return issue_labels(github, repo, login, query, body, number)


def list_labels(github: FakeGitHub, repo: FakeRepo, login: str, query: dict[str, str], body: Any) -> Reply:
    labels = sorted(repo.labels.values(), key=lambda label: label.id)
    return _page(github, repo, "/labels", query, [github.shapes.label(repo, label) for label in labels])


def create_label(github: FakeGitHub, repo: FakeRepo, login: str, query: dict[str, str], body: Any) -> Reply:
    body = body if isinstance(body, dict) else {}
    name = str(body.get("name", "")).strip()
    color = str(body.get("color", AUTO_LABEL_COLOR)).lstrip("#")
    if not name:
        return _validation("Label", "missing_field", "name")
    if not _HEX_COLOR.fullmatch(color):
        return _validation("Label", "invalid", "color")
    if name.lower() in repo.labels:
        return _validation("Label", "already_exists", "name")
    label = repo.labels[name.lower()] = FakeLabel(github.ids.next("label"), name, color, body.get("description"))
    data = github.shapes.label(repo, label)
    return Reply(201, data, {"location": data["url"]})


def get_label(github: FakeGitHub, repo: FakeRepo, login: str, query: dict[str, str], body: Any, name: str) -> Reply:
    label = repo.labels.get(name.lower())
    return Reply(200, github.shapes.label(repo, label), last_modified="Thu, 01 Jan 2026 00:00:00 GMT") if label else Reply(404, NOT_FOUND)


def update_label(github: FakeGitHub, repo: FakeRepo, login: str, query: dict[str, str], body: Any, name: str) -> Reply:
    label = repo.labels.pop(name.lower(), None)
    if label is None:
        return Reply(404, NOT_FOUND)
    body = body if isinstance(body, dict) else {}
    label.name = body.get("new_name", label.name)
    label.color = body.get("color", label.color)
    label.description = body.get("description", label.description)
    repo.labels[label.name.lower()] = label
    return Reply(200, github.shapes.label(repo, label))


def delete_label(github: FakeGitHub, repo: FakeRepo, login: str, query: dict[str, str], body: Any, name: str) -> Reply:
    return Reply(204) if repo.labels.pop(name.lower(), None) else Reply(404, NOT_FOUND)


# ----- comments
def list_comments(github: FakeGitHub, repo: FakeRepo, login: str, query: dict[str, str], body: Any, number: str) -> Reply:
    if _issue_or_404(repo, number) is None:
        return Reply(404, NOT_FOUND)
    comments = github.comments_on(repo.full_name, int(number))
    return _page(github, repo, f"/issues/{number}/comments", query, [github.shapes.comment(repo, c) for c in comments])


def create_comment(github: FakeGitHub, repo: FakeRepo, login: str, query: dict[str, str], body: Any, number: str) -> Reply:
    if _issue_or_404(repo, number) is None:
        return Reply(404, NOT_FOUND)
    if not isinstance(body, dict) or not body.get("body"):
        return _validation("IssueComment", "missing_field", "body")
    comment = github.add_comment(repo.full_name, int(number), str(body["body"]), user=login)
    data = github.shapes.comment(repo, comment)
    return Reply(201, data, {"location": data["url"]})


def get_comment(github: FakeGitHub, repo: FakeRepo, login: str, query: dict[str, str], body: Any, comment_id: str) -> Reply:
    comment = repo.comments.get(int(comment_id))
    return Reply(200, github.shapes.comment(repo, comment)) if comment else Reply(404, NOT_FOUND)


def update_comment(github: FakeGitHub, repo: FakeRepo, login: str, query: dict[str, str], body: Any, comment_id: str) -> Reply:
    comment = repo.comments.get(int(comment_id))
    if comment is None:
        return Reply(404, NOT_FOUND)
    if not isinstance(body, dict) or "body" not in body:
        return _validation("IssueComment", "missing_field", "body")
    comment.body = str(body["body"])
    comment.updated_at = github.tick()
    return Reply(200, github.shapes.comment(repo, comment))


def delete_comment(github: FakeGitHub, repo: FakeRepo, login: str, query: dict[str, str], body: Any, comment_id: str) -> Reply:
    return Reply(204) if repo.comments.pop(int(comment_id), None) else Reply(404, NOT_FOUND)


# ----- events, timeline, permissions
def list_events(github: FakeGitHub, repo: FakeRepo, login: str, query: dict[str, str], body: Any, number: str) -> Reply:
    issue = _issue_or_404(repo, number)
    if issue is None:
        return Reply(404, NOT_FOUND)
    events = [github.shapes.event(repo, event) for event in issue.events]
    return _page(github, repo, f"/issues/{number}/events", query, events)


def list_timeline(github: FakeGitHub, repo: FakeRepo, login: str, query: dict[str, str], body: Any, number: str) -> Reply:
    """Events and comments (`commented`) in time order, as the timeline endpoint mixes them."""
    issue = _issue_or_404(repo, number)
    if issue is None:
        return Reply(404, NOT_FOUND)
    entries: list[tuple[float, dict[str, Any]]] = [(e.created_at, github.shapes.event(repo, e)) for e in issue.events]
    for comment in github.comments_on(repo.full_name, issue.number):
        data = github.shapes.comment(repo, comment)
        data.update(event="commented", actor=data["user"])
        entries.append((comment.created_at, data))
    entries.sort(key=lambda entry: entry[0])
    return _page(github, repo, f"/issues/{number}/timeline", query, [data for _, data in entries])


def collaborator_permission(github: FakeGitHub, repo: FakeRepo, login: str, query: dict[str, str], body: Any,
                            username: str) -> Reply:
    """Non-collaborators of a public repository read it, as on github.com."""
    return Reply(200, github.shapes.permission(username, repo.permissions.get(username, "read")))


# ----- dependencies and sub-issues: these take issue ids, not numbers
def _related(github: FakeGitHub, ids: list[int], query: dict[str, str], repo: FakeRepo, rest: str) -> Reply:
    items = []
    for issue_id in ids:
        found = github.issues_by_id.get(issue_id)
        if found:
            items.append(github.shapes.issue(found[0], found[1]))
    return _page(github, repo, rest, query, items)


def list_blocked_by(github: FakeGitHub, repo: FakeRepo, login: str, query: dict[str, str], body: Any, number: str) -> Reply:
    issue = _issue_or_404(repo, number)
    if issue is None:
        return Reply(404, NOT_FOUND)
    return _related(github, issue.blocked_by, query, repo, f"/issues/{number}/dependencies/blocked_by")


def list_blocking(github: FakeGitHub, repo: FakeRepo, login: str, query: dict[str, str], body: Any, number: str) -> Reply:
    issue = _issue_or_404(repo, number)
    if issue is None:
        return Reply(404, NOT_FOUND)
    blocking = [other.id for _, other in github.issues_by_id.values() if issue.id in other.blocked_by]
    return _related(github, blocking, query, repo, f"/issues/{number}/dependencies/blocking")


def add_blocked_by(github: FakeGitHub, repo: FakeRepo, login: str, query: dict[str, str], body: Any, number: str) -> Reply:
    issue = _issue_or_404(repo, number)
    blocker_id = body.get("issue_id") if isinstance(body, dict) else None
    if issue is None or not isinstance(blocker_id, int) or blocker_id not in github.issues_by_id:
        return Reply(404, NOT_FOUND)
    if blocker_id == issue.id or blocker_id in issue.blocked_by:
        return _validation("IssueDependency", "invalid", "issue_id")
    issue.blocked_by.append(blocker_id)
    issue.updated_at = github.tick()
    data = github.shapes.issue(repo, issue, single=True)
    return Reply(201, data, {"location": data["url"]})


def remove_blocked_by(github: FakeGitHub, repo: FakeRepo, login: str, query: dict[str, str], body: Any,
                      number: str, blocker_id: str) -> Reply:
    issue = _issue_or_404(repo, number)
    if issue is None or int(blocker_id) not in issue.blocked_by:
        return Reply(404, NOT_FOUND)
    issue.blocked_by.remove(int(blocker_id))
    issue.updated_at = github.tick()
    return Reply(200, github.shapes.issue(repo, issue, single=True))


def list_sub_issues(github: FakeGitHub, repo: FakeRepo, login: str, query: dict[str, str], body: Any, number: str) -> Reply:
    issue = _issue_or_404(repo, number)
    if issue is None:
        return Reply(404, NOT_FOUND)
    return _related(github, issue.sub_issues, query, repo, f"/issues/{number}/sub_issues")


def add_sub_issue(github: FakeGitHub, repo: FakeRepo, login: str, query: dict[str, str], body: Any, number: str) -> Reply:
    parent = _issue_or_404(repo, number)
    sub_id = body.get("sub_issue_id") if isinstance(body, dict) else None
    found = github.issues_by_id.get(sub_id) if isinstance(sub_id, int) else None
    if parent is None or found is None:
        return Reply(404, NOT_FOUND)
    sub = found[1]
    if sub.id == parent.id or (sub.parent is not None and not body.get("replace_parent")):
        return _validation("SubIssue", "invalid", "sub_issue_id")
    if sub.parent is not None:
        old_parent = github.issue_by_id(sub.parent)
        if old_parent is not None:
            old_parent.sub_issues.remove(sub.id)
    parent.sub_issues.append(sub.id)
    sub.parent = parent.id
    parent.updated_at = github.tick()
    data = github.shapes.issue(repo, parent, single=True)
    return Reply(201, data, {"location": data["url"]})


def remove_sub_issue(github: FakeGitHub, repo: FakeRepo, login: str, query: dict[str, str], body: Any, number: str) -> Reply:
    parent = _issue_or_404(repo, number)
    sub_id = body.get("sub_issue_id") if isinstance(body, dict) else None
    if parent is None or sub_id not in parent.sub_issues:
        return Reply(404, NOT_FOUND)
    parent.sub_issues.remove(sub_id)
    sub = github.issue_by_id(sub_id)
    if sub is not None:
        sub.parent = None
    parent.updated_at = github.tick()
    return Reply(200, github.shapes.issue(repo, parent, single=True))


def get_parent(github: FakeGitHub, repo: FakeRepo, login: str, query: dict[str, str], body: Any, number: str) -> Reply:
    issue = _issue_or_404(repo, number)
    found = github.issues_by_id.get(issue.parent) if issue and issue.parent else None
    return Reply(200, github.shapes.issue(found[0], found[1], single=True)) if found else Reply(404, NOT_FOUND)


_REPO = r"/(?:repos/(?P<repo>[^/]+/[^/]+)|repositories/(?P<repo_id>\d+))"
_N = r"(?P<number>\d+)"


def _route(method: str, rest: str, handler: Callable[..., Reply]) -> tuple[str, re.Pattern[str], Callable[..., Reply]]:
    return method, re.compile(_REPO + rest), handler


ROUTES = [
    _route("GET", r"/issues", list_issues),
    _route("POST", r"/issues", create_issue),
    _route("GET", rf"/issues/{_N}", get_issue),
    _route("PATCH", rf"/issues/{_N}", update_issue),
    _route("GET", rf"/issues/{_N}/labels", issue_labels),
    _route("POST", rf"/issues/{_N}/labels", add_issue_labels),
    _route("DELETE", rf"/issues/{_N}/labels/(?P<name>[^/]+)", remove_issue_label),
    _route("GET", r"/labels", list_labels),
    _route("POST", r"/labels", create_label),
    _route("GET", r"/labels/(?P<name>[^/]+)", get_label),
    _route("PATCH", r"/labels/(?P<name>[^/]+)", update_label),
    _route("DELETE", r"/labels/(?P<name>[^/]+)", delete_label),
    _route("GET", rf"/issues/{_N}/comments", list_comments),
    _route("POST", rf"/issues/{_N}/comments", create_comment),
    _route("GET", r"/issues/comments/(?P<comment_id>\d+)", get_comment),
    _route("PATCH", r"/issues/comments/(?P<comment_id>\d+)", update_comment),
    _route("DELETE", r"/issues/comments/(?P<comment_id>\d+)", delete_comment),
    _route("GET", rf"/issues/{_N}/events", list_events),
    _route("GET", rf"/issues/{_N}/timeline", list_timeline),
    _route("GET", r"/collaborators/(?P<username>[^/]+)/permission", collaborator_permission),
    _route("GET", rf"/issues/{_N}/dependencies/blocked_by", list_blocked_by),
    _route("POST", rf"/issues/{_N}/dependencies/blocked_by", add_blocked_by),
    _route("DELETE", rf"/issues/{_N}/dependencies/blocked_by/(?P<blocker_id>\d+)", remove_blocked_by),
    _route("GET", rf"/issues/{_N}/dependencies/blocking", list_blocking),
    _route("GET", rf"/issues/{_N}/sub_issues", list_sub_issues),
    _route("POST", rf"/issues/{_N}/sub_issues", add_sub_issue),
    _route("DELETE", rf"/issues/{_N}/sub_issue", remove_sub_issue),
    _route("GET", rf"/issues/{_N}/parent", get_parent),
]
"""(method, path pattern, handler); a path matches under `/repos/o/r` or `/repositories/{id}`."""


# Pull requests live in their own module; it builds on Reply and _route above, so it comes last.
from .fake_github_pulls import PULL_ROUTES  # noqa: E402

ROUTES += PULL_ROUTES

# Milestones (list, get, create, update), likewise.
from .fake_github_milestones import MILESTONE_ROUTES  # noqa: E402

ROUTES += MILESTONE_ROUTES

# Actions (workflow_dispatch, runs, artifacts, runners), likewise in their own module.
from .fake_github_actions import ACTIONS_ROUTES  # noqa: E402

ROUTES += ACTIONS_ROUTES
