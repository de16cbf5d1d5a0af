"""The fake's pull requests answer with GitHub's statuses and shapes.

The key sets are those of the `pull-request` example and the `pull-request-simple` schema in
GitHub's OpenAPI description (github/rest-api-description, api.github.com.2022-11-28).
"""

from __future__ import annotations

from typing import Iterator

import httpx
import pytest

from .fake_github import BOT_LOGIN, DEFAULT_TOKEN, FakeGitHub
from .fake_github_pulls import add_pull

SIMPLE_KEYS = {
    "url", "id", "node_id", "html_url", "diff_url", "patch_url", "issue_url", "commits_url", "review_comments_url",
    "review_comment_url", "comments_url", "statuses_url", "number", "state", "locked", "title", "user", "body",
    "labels", "milestone", "active_lock_reason", "created_at", "updated_at", "closed_at", "merged_at",
    "merge_commit_sha", "assignee", "assignees", "requested_reviewers", "requested_teams", "head", "base", "_links",
    "author_association", "auto_merge", "draft",
}
FULL_KEYS = SIMPLE_KEYS | {
    "merged", "mergeable", "rebaseable", "mergeable_state", "merged_by", "comments", "review_comments",
    "maintainer_can_modify", "commits", "additions", "deletions", "changed_files",
}
BRANCH_KEYS = {"label", "ref", "sha", "user", "repo"}
LINK_KEYS = {"self", "html", "issue", "comments", "review_comments", "review_comment", "commits", "statuses"}
REPO_KEYS = {
    "id", "node_id", "name", "full_name", "owner", "private", "html_url", "description", "fork", "url", "archive_url",
    "assignees_url", "blobs_url", "branches_url", "collaborators_url", "comments_url", "commits_url", "compare_url",
    "contents_url", "contributors_url", "deployments_url", "downloads_url", "events_url", "forks_url",
    "git_commits_url", "git_refs_url", "git_tags_url", "git_url", "issue_comment_url", "issue_events_url",
    "issues_url", "keys_url", "labels_url", "languages_url", "merges_url", "milestones_url", "notifications_url",
    "pulls_url", "releases_url", "ssh_url", "stargazers_url", "statuses_url", "subscribers_url", "subscription_url",
    "tags_url", "teams_url", "trees_url", "clone_url", "mirror_url", "hooks_url", "svn_url", "homepage", "language",
    "forks_count", "stargazers_count", "watchers_count", "size", "default_branch", "open_issues_count", "topics",
    "has_issues", "has_projects", "has_wiki", "has_pages", "has_downloads", "has_discussions", "archived", "disabled",
    "pushed_at", "created_at", "updated_at", "permissions", "allow_rebase_merge", "temp_clone_token",
    "allow_squash_merge", "allow_merge_commit", "allow_forking", "forks", "open_issues", "license", "watchers",
}
TEAM_KEYS = {"id", "node_id", "url", "html_url", "name", "slug", "description", "privacy", "notification_setting",
             "permission", "members_url", "repositories_url"}


@pytest.fixture
def http(github: FakeGitHub) -> Iterator[httpx.Client]:
    github.add_repo("octo/app", collaborators={"reviewer": "write", "reader": "read"})
    with httpx.Client(base_url=github.base_url, headers={"Authorization": f"Bearer {DEFAULT_TOKEN}"}) as client:
        yield client


def _check_shape(data: dict, keys: set[str]) -> None:
    assert set(data) == keys
    for side in ("head", "base"):
        assert set(data[side]) == BRANCH_KEYS and set(data[side]["repo"]) == REPO_KEYS
    assert set(data["_links"]) == LINK_KEYS and all(set(link) == {"href"} for link in data["_links"].values())


def test_create_get_update_and_list_give_the_real_shapes(http: httpx.Client) -> None:
    created = http.post("/repos/octo/app/pulls", json={"title": "Fix", "head": "feature/issue-1", "base": "main", "body": "Closes #1", "draft": True})
    assert created.status_code == 201 and created.headers["location"] == created.json()["url"]
    _check_shape(created.json(), FULL_KEYS)
    number = created.json()["number"]
    assert created.json()["draft"] is True and created.json()["head"]["label"] == "octo:feature/issue-1"
    got = http.get(f"/repos/octo/app/pulls/{number}")
    _check_shape(got.json(), FULL_KEYS)
    patched = http.patch(f"/repos/octo/app/pulls/{number}", json={"title": "Fix it", "body": "Closes #1\n\nmore"})
    assert patched.status_code == 200 and patched.json()["title"] == "Fix it"
    listed = http.get("/repos/octo/app/pulls", params={"state": "open", "head": "octo:feature/issue-1"})
    assert [item["number"] for item in listed.json()] == [number]
    _check_shape(listed.json()[0], SIMPLE_KEYS)
    assert http.get("/repos/octo/app/pulls", params={"head": "octo:feature/issue-2"}).json() == []
    issue = http.get(f"/repos/octo/app/issues/{number}").json()
    assert "pull_request" in issue, "a pull request is an issue too"


def test_a_second_pull_request_for_the_same_head_is_refused(http: httpx.Client) -> None:
    body = {"title": "Fix", "head": "feature/issue-1", "base": "main"}
    assert http.post("/repos/octo/app/pulls", json=body).status_code == 201
    again = http.post("/repos/octo/app/pulls", json=body)
    assert again.status_code == 422
    assert again.json()["errors"][0]["message"] == "A pull request already exists for octo:feature/issue-1."
    assert http.post("/repos/octo/app/pulls", json={"title": "x", "base": "main"}).json()["errors"][0] == {
        "resource": "PullRequest", "code": "missing_field", "field": "head"}


def test_reviewers_must_be_collaborators_and_not_the_author(http: httpx.Client, github: FakeGitHub) -> None:
    pull = add_pull(github, "octo/app", "feature/issue-3")
    path = f"/repos/octo/app/pulls/{pull.number}/requested_reviewers"
    assert http.post(path, json={"reviewers": [BOT_LOGIN]}).status_code == 422
    assert http.post(path, json={"reviewers": ["reader"]}).status_code == 422
    asked = http.post(path, json={"reviewers": ["reviewer"], "team_reviewers": ["core"]})
    assert asked.status_code == 201
    _check_shape(asked.json(), SIMPLE_KEYS)
    assert [user["login"] for user in asked.json()["requested_reviewers"]] == ["reviewer"]
    assert set(asked.json()["requested_teams"][0]) == TEAM_KEYS
