"""The fake GitHub's pull requests: list (with `head`/`base` filters), create, get, update, reviewers.

As on GitHub, a pull request is an issue (same number, title, body, labels, comments) plus its
head, base, draft flag and reviewers; the JSON follows the `pull-request` and
`pull-request-simple` shapes of GitHub's OpenAPI description (`test_fake_github_pulls.py`
checks the keys). Seed one with `add_pull`, merge one with `merge_pull`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .fake_github_model import FAKE_EPOCH, FakeIssue, FakeRepo, iso
from .fake_github_routes import NOT_FOUND, Reply, _page, _route

if TYPE_CHECKING:
    from .fake_github import FakeGitHub

_DOCS = "https://docs.github.com/rest/pulls"
_REPO_URLS = (
    ("archive_url", "/{archive_format}{/ref}"), ("assignees_url", "/assignees{/user}"), ("blobs_url", "/git/blobs{/sha}"),
    ("branches_url", "/branches{/branch}"), ("collaborators_url", "/collaborators{/collaborator}"),
    ("comments_url", "/comments{/number}"), ("commits_url", "/commits{/sha}"), ("compare_url", "/compare/{base}...{head}"),
    ("contents_url", "/contents/{+path}"), ("contributors_url", "/contributors"), ("deployments_url", "/deployments"),
    ("downloads_url", "/downloads"), ("events_url", "/events"), ("forks_url", "/forks"),
    ("git_commits_url", "/git/commits{/sha}"), ("git_refs_url", "/git/refs{/sha}"), ("git_tags_url", "/git/tags{/sha}"),
    ("issue_comment_url", "/issues/comments{/number}"), ("issue_events_url", "/issues/events{/number}"),
    ("issues_url", "/issues{/number}"), ("keys_url", "/keys{/key_id}"), ("labels_url", "/labels{/name}"),
    ("languages_url", "/languages"), ("merges_url", "/merges"), ("milestones_url", "/milestones{/number}"),
    ("notifications_url", "/notifications{?since,all,participating}"), ("pulls_url", "/pulls{/number}"),
    ("releases_url", "/releases{/id}"), ("stargazers_url", "/stargazers"), ("statuses_url", "/statuses/{sha}"),
    ("subscribers_url", "/subscribers"), ("subscription_url", "/subscription"), ("tags_url", "/tags"),
    ("teams_url", "/teams"), ("trees_url", "/git/trees{/sha}"), ("hooks_url", "/hooks"),
)


@dataclass
class FakePull:
    number: int
    head: str
    base: str
    user: str
    draft: bool = False
    requested_reviewers: list[str] = field(default_factory=list)
    requested_teams: list[str] = field(default_factory=list)
    merged_at: float | None = None
    merged_by: str | None = None
    updates: int = 0
    """How many times it was edited through the API (title, body, state, base)."""

    @property
    def head_sha(self) -> str:
        return hashlib.sha1(f"{self.head}:{self.updates}".encode()).hexdigest()


def add_pull(github: FakeGitHub, full_name: str, head: str, base: str = "main", *, title: str = "A change",
             body: str | None = "", user: str | None = None, draft: bool = False) -> FakePull:
    """A pull request opened by `user` (the token's login by default), as a person or an earlier run would."""
    from .fake_github import BOT_LOGIN

    with github.lock:
        repo = github.repo(full_name)
        issue = github.add_issue(full_name, title, body, user=user or BOT_LOGIN, pull_request=True)
        pull = repo.pulls[issue.number] = FakePull(issue.number, head, base, issue.user, draft)
        return pull


def merge_pull(github: FakeGitHub, full_name: str, number: int, *, actor: str = "maintainer") -> None:
    with github.lock:
        repo = github.repo(full_name)
        pull = repo.pulls[number]
        github.close_issue(full_name, number, actor=actor)
        pull.merged_at, pull.merged_by = repo.issues[number].closed_at, actor


def open_pulls(github: FakeGitHub, full_name: str) -> list[tuple[FakeIssue, FakePull]]:
    with github.lock:
        repo = github.repo(full_name)
        return [(repo.issues[n], pull) for n, pull in sorted(repo.pulls.items()) if repo.issues[n].state == "open"]


# ----- shapes
def repository(github: FakeGitHub, repo: FakeRepo) -> dict[str, Any]:
    api = f"{github.base_url}/repos/{repo.full_name}"
    data: dict[str, Any] = {
        "id": repo.id, "node_id": f"R_{repo.id}", "name": repo.name, "full_name": repo.full_name,
        "owner": github.shapes.user(repo.owner), "private": False, "html_url": f"https://github.com/{repo.full_name}",
        "description": None, "fork": False, "url": api,
    }
    data.update({name: api + suffix for name, suffix in _REPO_URLS})
    data.update({
        "git_url": f"git://github.com/{repo.full_name}.git", "ssh_url": f"git@github.com:{repo.full_name}.git",
        "clone_url": f"https://github.com/{repo.full_name}.git", "svn_url": f"https://github.com/{repo.full_name}",
        "mirror_url": None, "homepage": None, "language": None, "forks_count": 0, "stargazers_count": 0,
        "watchers_count": 0, "size": 0, "default_branch": "main", "open_issues_count": sum(
            1 for issue in repo.issues.values() if issue.state == "open"), "topics": [],
        "has_issues": True, "has_projects": True, "has_wiki": True, "has_pages": False, "has_downloads": True,
        "has_discussions": False, "archived": False, "disabled": False,
        "pushed_at": iso(FAKE_EPOCH), "created_at": iso(FAKE_EPOCH), "updated_at": iso(FAKE_EPOCH),
        "permissions": {"admin": False, "push": True, "pull": True}, "allow_rebase_merge": True,
        "temp_clone_token": "", "allow_squash_merge": True, "allow_merge_commit": True, "allow_forking": True,
        "forks": 0, "open_issues": 0, "license": None, "watchers": 0,
    })
    return data


def _branch(github: FakeGitHub, repo: FakeRepo, ref: str, sha: str) -> dict[str, Any]:
    return {"label": f"{repo.owner}:{ref}", "ref": ref, "sha": sha, "user": github.shapes.user(repo.owner),
            "repo": repository(github, repo)}


def pull_simple(github: FakeGitHub, repo: FakeRepo, pull: FakePull) -> dict[str, Any]:
    """A pull request as the list endpoint and the reviewers endpoint give it."""
    issue = repo.issues[pull.number]
    issue_data = github.shapes.issue(repo, issue)
    api = f"{github.base_url}/repos/{repo.full_name}"
    url = f"{api}/pulls/{pull.number}"
    html = f"https://github.com/{repo.full_name}/pull/{pull.number}"
    return {
        "url": url, "id": issue.id + 1_000_000_000, "node_id": f"PR_{issue.id}", "html_url": html,
        "diff_url": f"{html}.diff", "patch_url": f"{html}.patch", "issue_url": f"{api}/issues/{pull.number}",
        "commits_url": f"{url}/commits", "review_comments_url": f"{url}/comments",
        "review_comment_url": f"{api}/pulls/comments{{/number}}", "comments_url": f"{api}/issues/{pull.number}/comments",
        "statuses_url": f"{api}/statuses/{pull.head_sha}", "number": pull.number, "state": issue.state,
        "locked": False, "title": issue.title, "user": issue_data["user"], "body": issue.body,
        "labels": issue_data["labels"], "milestone": issue_data["milestone"], "active_lock_reason": None,
        "created_at": issue_data["created_at"], "updated_at": issue_data["updated_at"],
        "closed_at": issue_data["closed_at"], "merged_at": iso(pull.merged_at) if pull.merged_at else None,
        "merge_commit_sha": None, "assignee": issue_data["assignee"], "assignees": issue_data["assignees"],
        "requested_reviewers": [github.shapes.user(login) for login in pull.requested_reviewers],
        "requested_teams": [_team(github, repo, slug) for slug in pull.requested_teams],
        "head": _branch(github, repo, pull.head, pull.head_sha),
        "base": _branch(github, repo, pull.base, hashlib.sha1(pull.base.encode()).hexdigest()),
        "_links": {
            "self": {"href": url}, "html": {"href": html}, "issue": {"href": f"{api}/issues/{pull.number}"},
            "comments": {"href": f"{api}/issues/{pull.number}/comments"}, "review_comments": {"href": f"{url}/comments"},
            "review_comment": {"href": f"{api}/pulls/comments{{/number}}"}, "commits": {"href": f"{url}/commits"},
            "statuses": {"href": f"{api}/statuses/{pull.head_sha}"},
        },
        "author_association": issue_data["author_association"], "auto_merge": None, "draft": pull.draft,
    }


def pull_full(github: FakeGitHub, repo: FakeRepo, pull: FakePull) -> dict[str, Any]:
    """A pull request as GET, POST and PATCH of one give it."""
    data = pull_simple(github, repo, pull)
    merged = pull.merged_at is not None
    data.update({
        "merged": merged, "mergeable": None if merged else True, "rebaseable": None if merged else True,
        "mergeable_state": "unknown" if merged else "clean",
        "merged_by": github.shapes.user(pull.merged_by) if pull.merged_by else None,
        "comments": sum(1 for c in repo.comments.values() if c.issue_number == pull.number), "review_comments": 0,
        "maintainer_can_modify": False, "commits": 1, "additions": 1, "deletions": 0, "changed_files": 1,
    })
    return data


def _team(github: FakeGitHub, repo: FakeRepo, slug: str) -> dict[str, Any]:
    team_id = int(hashlib.sha1(slug.encode()).hexdigest()[:6], 16)
    return {"id": team_id, "node_id": f"T_{team_id}", "url": f"{github.base_url}/teams/{team_id}",
            "html_url": f"https://github.com/orgs/{repo.owner}/teams/{slug}", "name": slug, "slug": slug,
            "description": None, "privacy": "closed", "notification_setting": "notifications_enabled",
            "permission": "pull", "members_url": f"{github.base_url}/teams/{team_id}/members{{/member}}",
            "repositories_url": f"{github.base_url}/teams/{team_id}/repos"}


def _invalid(message: str, docs: str) -> Reply:
    return Reply(422, {"message": "Validation Failed", "errors": [{"resource": "PullRequest", "code": "custom", "message": message}],
                       "documentation_url": f"{_DOCS}/{docs}", "status": "422"})


def _missing(field_name: str) -> Reply:
    return Reply(422, {"message": "Validation Failed", "errors": [{"resource": "PullRequest", "code": "missing_field", "field": field_name}],
                       "documentation_url": f"{_DOCS}/pulls#create-a-pull-request", "status": "422"})


# ----- routes
def list_pulls(github: FakeGitHub, repo: FakeRepo, login: str, query: dict[str, str], body: Any) -> Reply:
    """`head` is `owner:ref`; `state` open (default), closed or all; newest first, as GitHub sorts by created."""
    state = query.get("state", "open")
    head_owner, _, head_ref = query.get("head", "").partition(":")
    pulls = [
        pull for number, pull in sorted(repo.pulls.items(), reverse=query.get("direction", "desc") == "desc")
        if (state == "all" or repo.issues[number].state == state)
        and (not head_ref or (head_owner.lower() == repo.owner.lower() and pull.head == head_ref))
        and ("base" not in query or pull.base == query["base"])
    ]
    return _page(github, repo, "/pulls", query, [pull_simple(github, repo, pull) for pull in pulls])


def create_pull(github: FakeGitHub, repo: FakeRepo, login: str, query: dict[str, str], body: Any) -> Reply:
    body = body if isinstance(body, dict) else {}
    for name in ("head", "base", "title"):
        if not body.get(name):
            return _missing(name)
    head = str(body["head"]).partition(":")[2] or str(body["head"])
    for number, pull in repo.pulls.items():
        if pull.head == head and pull.base == body["base"] and repo.issues[number].state == "open":
            return _invalid(f"A pull request already exists for {repo.owner}:{head}.", "pulls#create-a-pull-request")
    if head == body["base"]:
        return _invalid(f"No commits between {body['base']} and {head}", "pulls#create-a-pull-request")
    pull = add_pull(github, repo.full_name, head, str(body["base"]), title=str(body["title"]), body=body.get("body"),
                    user=login, draft=bool(body.get("draft", False)))
    data = pull_full(github, repo, pull)
    return Reply(201, data, {"location": data["url"]})


def get_pull(github: FakeGitHub, repo: FakeRepo, login: str, query: dict[str, str], body: Any, number: str) -> Reply:
    pull = repo.pulls.get(int(number))
    return Reply(200, pull_full(github, repo, pull)) if pull else Reply(404, NOT_FOUND)


def update_pull(github: FakeGitHub, repo: FakeRepo, login: str, query: dict[str, str], body: Any, number: str) -> Reply:
    pull = repo.pulls.get(int(number))
    if pull is None:
        return Reply(404, NOT_FOUND)
    body = body if isinstance(body, dict) else {}
    github.edit_issue(repo.full_name, pull.number, actor=login, title=body.get("title"), body=body.get("body"))
    issue = repo.issues[pull.number]
    if body.get("state") == "closed" and issue.state == "open":
        github.close_issue(repo.full_name, pull.number, actor=login)
    elif body.get("state") == "open" and pull.merged_at is None:
        issue.state, issue.state_reason, issue.closed_at = "open", "reopened", None
    if body.get("base"):
        pull.base = str(body["base"])
    pull.updates += 1
    return Reply(200, pull_full(github, repo, pull))


def request_reviewers(github: FakeGitHub, repo: FakeRepo, login: str, query: dict[str, str], body: Any, number: str) -> Reply:
    """Only collaborators may be asked, never the author (GitHub answers 422 for both)."""
    pull = repo.pulls.get(int(number))
    if pull is None:
        return Reply(404, NOT_FOUND)
    body = body if isinstance(body, dict) else {}
    reviewers = [str(name) for name in body.get("reviewers") or ()]
    teams = [str(name) for name in body.get("team_reviewers") or ()]
    docs = "review-requests#request-reviewers-for-a-pull-request"
    if any(name.lower() == pull.user.lower() for name in reviewers):
        return Reply(422, {"message": "Review cannot be requested from pull request author.",
                           "documentation_url": f"{_DOCS}/{docs}", "status": "422"})
    strangers = [name for name in reviewers if repo.permissions.get(name, "none") in ("none", "read")]
    if strangers:
        return Reply(422, {"message": "Reviews may only be requested from collaborators. One or more of the users or "
                                      f"teams you specified is not a collaborator of the {repo.full_name} repository.",
                           "documentation_url": f"{_DOCS}/{docs}", "status": "422"})
    pull.requested_reviewers += [name for name in reviewers if name not in pull.requested_reviewers]
    pull.requested_teams += [slug for slug in teams if slug not in pull.requested_teams]
    return Reply(201, pull_simple(github, repo, pull))


_N = r"(?P<number>\d+)"
PULL_ROUTES = [
    _route("GET", r"/pulls", list_pulls),
    _route("POST", r"/pulls", create_pull),
    _route("GET", rf"/pulls/{_N}", get_pull),
    _route("PATCH", rf"/pulls/{_N}", update_pull),
    _route("POST", rf"/pulls/{_N}/requested_reviewers", request_reviewers),
]
"""Added to the fake's ROUTES at the end of `fake_github_routes.py`."""
