"""The fake GitHub's milestones: list (with `state`), get, create and update one (`state`, `description`, `title`).

The JSON is the `milestone` shape of GitHub's REST description (the shapes test checks it
against the webhook example); `state` filters as on GitHub: `open` by default, `closed`, `all`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .fake_github_routes import NOT_FOUND, Reply, _N, _page, _route, _validation

if TYPE_CHECKING:
    from .fake_github import FakeGitHub
    from .fake_github_model import FakeRepo


def _title_of(repo: FakeRepo, number: int) -> str | None:
    return next((title for title, known in repo.milestones.items() if known == number), None)


def _state(repo: FakeRepo, number: int) -> str:
    return str(repo.milestone_fields.get(number, {}).get("state", "open"))


def list_milestones(github: FakeGitHub, repo: FakeRepo, login: str, query: dict[str, str], body: Any) -> Reply:
    wanted = query.get("state", "open")
    if wanted not in ("open", "closed", "all"):
        return _validation("Milestone", "invalid", "state")
    chosen = [(number, title) for title, number in sorted(repo.milestones.items(), key=lambda item: item[1])
              if wanted == "all" or _state(repo, number) == wanted]
    return _page(github, repo, "/milestones", query, [github.shapes.milestone(repo, title, repo.owner) for _, title in chosen])


def get_milestone(github: FakeGitHub, repo: FakeRepo, login: str, query: dict[str, str], body: Any, number: str) -> Reply:
    title = _title_of(repo, int(number))
    return Reply(200, github.shapes.milestone(repo, title, repo.owner)) if title else Reply(404, NOT_FOUND)


def create_milestone(github: FakeGitHub, repo: FakeRepo, login: str, query: dict[str, str], body: Any) -> Reply:
    body = body if isinstance(body, dict) else {}
    title = str(body.get("title", "")).strip()
    if not title:
        return _validation("Milestone", "missing_field", "title")
    if title in repo.milestones:
        return _validation("Milestone", "already_exists", "title")
    number = repo.milestones[title] = max(repo.milestones.values(), default=0) + 1
    repo.milestone_fields[number] = {"creator": login, **{key: body[key] for key in ("state", "description") if key in body}}
    data = github.shapes.milestone(repo, title, login)
    return Reply(201, data, {"location": data["url"]})


def update_milestone(github: FakeGitHub, repo: FakeRepo, login: str, query: dict[str, str], body: Any, number: str) -> Reply:
    title = _title_of(repo, int(number))
    if title is None:
        return Reply(404, NOT_FOUND)
    body = body if isinstance(body, dict) else {}
    if body.get("state", "open") not in ("open", "closed"):
        return _validation("Milestone", "invalid", "state")
    fields = repo.milestone_fields.setdefault(int(number), {})
    now = github.tick()
    if "state" in body and body["state"] != fields.get("state", "open"):
        fields["closed_at"] = now if body["state"] == "closed" else None
    fields.update({key: body[key] for key in ("state", "description") if key in body}, updated_at=now)
    renamed = str(body.get("title") or title).strip()
    if renamed != title:
        del repo.milestones[title]
        repo.milestones[renamed] = int(number)
        for issue in repo.issues.values():
            if issue.milestone == title:
                issue.milestone = renamed
        title = renamed
    return Reply(200, github.shapes.milestone(repo, title, repo.owner))


def milestone_state(github: FakeGitHub, full_name: str, title: str) -> str:
    """`open` or `closed`, as GitHub would say."""
    with github.lock:
        repo = github.repo(full_name)
        return _state(repo, repo.milestones[title])


MILESTONE_ROUTES = [
    _route("GET", r"/milestones", list_milestones),
    _route("POST", r"/milestones", create_milestone),
    _route("GET", rf"/milestones/{_N}", get_milestone),
    _route("PATCH", rf"/milestones/{_N}", update_milestone),
]
