"""The fake GitHub replays recorded real calls and must answer with the same statuses, shapes and headers."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

from .fake_github import DEFAULT_TOKEN, FakeGitHub

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "github"
ORG = "octokit-fixture-org"

NEWER_ISSUE_FIELDS = {"sub_issues_summary", "issue_dependencies_summary"}
"""Issue fields GitHub added after the 2022 recordings (documented in the OpenAPI description)."""
TRANSPORT_HEADERS = {"connection"}


def recorded(scenario: str) -> list[dict[str, Any]]:
    return json.loads((FIXTURES / "octokit" / "scenarios" / scenario / "normalized-fixture.json").read_text())


def webhook(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / "webhooks" / name).read_text())


def assert_same_shape(fake: Any, real: Any, where: str = "$", extra_ok: frozenset[str] = frozenset()) -> None:
    """Same keys at every level (lists compared by their first items), same JSON types where both are set."""
    if isinstance(real, dict):
        assert isinstance(fake, dict), f"{where}: expected an object, got {type(fake).__name__}"
        missing = set(real) - set(fake)
        unexpected = set(fake) - set(real) - extra_ok
        assert not missing, f"{where}: fake lacks {sorted(missing)}"
        assert not unexpected, f"{where}: fake invents {sorted(unexpected)}"
        for name, value in real.items():
            if value is not None and fake[name] is not None:
                assert_same_shape(fake[name], value, f"{where}.{name}")
    elif isinstance(real, list):
        assert isinstance(fake, list), f"{where}: expected a list"
        if real and fake:
            assert_same_shape(fake[0], real[0], f"{where}[0]", extra_ok)
    elif real is not None and fake is not None:
        assert type(fake) is type(real) or {type(fake), type(real)} <= {int, float}, f"{where}: {fake!r} vs {real!r}"


def assert_same_headers(response: httpx.Response, call: dict[str, Any]) -> None:
    missing = set(call["headers"]) - TRANSPORT_HEADERS - {name.lower() for name in response.headers}
    assert not missing, f"{call['method']} {call['path']}: fake lacks headers {sorted(missing)}"


def link_rels(link: str | None) -> list[str]:
    return re.findall(r'rel="(\w+)"', link or "")


def link_paths(link: str | None) -> list[str]:
    return [re.sub(r"^https?://[^/]+", "", url) for url in re.findall(r"<([^>]+)>", link or "")]


@pytest.fixture
def http(github: FakeGitHub) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=github.base_url, headers={"Authorization": f"Bearer {DEFAULT_TOKEN}"}) as client:
        yield client


def test_paginated_issues_match_the_recording(github: FakeGitHub, http: httpx.Client) -> None:
    calls = recorded("paginate-issues")
    repo = github.add_repo(f"{ORG}/paginate-issues")
    github.repos.pop(repo.full_name.lower())
    repo.id = 1000  # the recording's renumbered repository id
    github.repos[repo.full_name.lower()] = repo
    for number in range(1, 14):
        github.add_issue(repo.full_name, f"Test issue {number}", None)
    for call in calls:
        response = http.get(call["path"])
        assert response.status_code == call["status"]
        assert_same_headers(response, call)
        assert link_rels(response.headers.get("link")) == link_rels(call["headers"].get("link"))
        assert link_paths(response.headers.get("link")) == link_paths(call["headers"].get("link"))
        assert [i["title"] for i in response.json()] == [i["title"] for i in call["response"]]
        assert_same_shape(response.json(), call["response"], call["path"], frozenset(NEWER_ISSUE_FIELDS))


def test_creating_an_issue_and_adding_unknown_labels_match_the_recording(github: FakeGitHub, http: httpx.Client) -> None:
    create, add = recorded("add-labels-to-issue")
    github.add_repo(f"{ORG}/add-labels-to-issue")
    response = http.post(create["path"], json=create["body"])
    assert response.status_code == create["status"] == 201
    assert_same_headers(response, create)
    assert_same_shape(response.json(), create["response"], "issue", frozenset(NEWER_ISSUE_FIELDS))
    response = http.post(add["path"], json=add["body"])
    assert response.status_code == add["status"]
    assert_same_headers(response, add)
    assert_same_shape(response.json(), add["response"], "labels")
    assert [(label["name"], label["color"], label["default"]) for label in response.json()] == [
        (label["name"], label["color"], label["default"]) for label in add["response"]
    ], "unknown labels are created on the spot, with GitHub's colour"


def test_invalid_label_error_matches_the_recording(github: FakeGitHub, http: httpx.Client) -> None:
    (call,) = recorded("errors")
    github.add_repo(f"{ORG}/errors")
    response = http.post(call["path"], json=call["body"])
    assert response.status_code == 422
    assert_same_headers(response, call)
    assert {k: v for k, v in response.json().items() if k != "documentation_url"} == {
        k: v for k, v in call["response"].items() if k != "documentation_url"
    }


def test_label_lifecycle_matches_the_recording(github: FakeGitHub, http: httpx.Client) -> None:
    github.add_repo(f"{ORG}/labels")
    for call in recorded("labels"):
        response = http.request(call["method"].upper(), call["path"], json=call["body"] or None)
        assert response.status_code == call["status"], call["path"]
        assert_same_headers(response, call)
        if call["status"] != 204:
            assert_same_shape(response.json(), call["response"], call["path"])
        if call["method"] == "get" and call["path"].endswith("/labels"):
            assert [(l["name"], l["color"], l["description"]) for l in response.json()] == [
                (l["name"], l["color"], l["description"]) for l in call["response"]
            ], "a new repository starts with GitHub's default labels"


def test_comment_and_milestone_shapes_match_the_webhook_examples(github: FakeGitHub, http: httpx.Client) -> None:
    github.add_repo("octo/app")
    github.add_issue("octo/app", "With milestone", milestone="v1")
    comment = http.post("/repos/octo/app/issues/1/comments", json={"body": "hello"}).json()
    real_comment = webhook("issue_comment.created.1.json")["comment"]
    assert_same_shape(comment, real_comment, "comment", frozenset({"reactions", "performed_via_github_app"}))
    issue = http.get("/repos/octo/app/issues/1").json()
    assert_same_shape(issue["milestone"], webhook("issues.milestoned.1.json")["milestone"], "milestone")


def test_conditional_get_answers_304_without_a_body_and_without_cost(github: FakeGitHub, http: httpx.Client) -> None:
    github.add_repo("octo/app")
    first = http.get("/repos/octo/app/labels")
    second = http.get("/repos/octo/app/labels", headers={"If-None-Match": first.headers["etag"]})
    assert second.status_code == 304 and second.content == b""
    assert second.headers["etag"] == first.headers["etag"] and first.headers["etag"].startswith('W/"')
    assert second.headers["x-ratelimit-remaining"] == first.headers["x-ratelimit-remaining"]
    third = http.get("/repos/octo/app/labels/bug")
    assert int(third.headers["x-ratelimit-remaining"]) == int(first.headers["x-ratelimit-remaining"]) - 1


def test_dependency_and_sub_issue_writes_take_ids_not_numbers(github: FakeGitHub, http: httpx.Client) -> None:
    github.add_repo("octo/app")
    blocker = github.add_issue("octo/app", "Blocker")
    blocked = github.add_issue("octo/app", "Blocked")
    path = f"/repos/octo/app/issues/{blocked.number}/dependencies/blocked_by"
    assert http.post(path, json={"issue_id": blocker.number}).status_code == 404
    created = http.post(path, json={"issue_id": blocker.id})
    assert created.status_code == 201
    summary = created.json()["issue_dependencies_summary"]
    assert summary == {"blocked_by": 1, "total_blocked_by": 1, "blocking": 0, "total_blocking": 0}
    assert [i["number"] for i in http.get(path).json()] == [blocker.number]
    github.close_issue("octo/app", blocker.number)
    summary = http.get(f"/repos/octo/app/issues/{blocked.number}").json()["issue_dependencies_summary"]
    assert (summary["blocked_by"], summary["total_blocked_by"]) == (0, 1), "as recorded: closed blockers leave blocked_by"
    assert http.delete(f"{path}/{blocker.id}").status_code == 200
    sub = github.add_issue("octo/app", "Sub")
    subs = f"/repos/octo/app/issues/{blocked.number}/sub_issues"
    assert http.post(subs, json={"sub_issue_id": sub.id}).json()["sub_issues_summary"]["total"] == 1
    assert http.get(f"/repos/octo/app/issues/{sub.number}/parent").json()["number"] == blocked.number
    assert http.request("DELETE", f"/repos/octo/app/issues/{blocked.number}/sub_issue",
                        json={"sub_issue_id": sub.id}).status_code == 200


def test_issue_events_name_who_labeled(github: FakeGitHub, http: httpx.Client) -> None:
    github.add_repo("octo/app", collaborators={"maintainer": "maintain"})
    github.add_issue("octo/app", "Labeled", labels=["trigger:agent-execute"], labeled_by="maintainer")
    (event,) = http.get("/repos/octo/app/issues/1/events").json()
    assert (event["event"], event["actor"]["login"], event["label"]["name"]) == ("labeled", "maintainer", "trigger:agent-execute")
    http.post("/repos/octo/app/issues/1/comments", json={"body": "on it"})
    timeline = http.get("/repos/octo/app/issues/1/timeline").json()
    assert [entry["event"] for entry in timeline] == ["labeled", "commented"]
    assert timeline[1]["actor"]["login"] == "waterspider-bot" and timeline[1]["body"] == "on it"
    permission = http.get("/repos/octo/app/collaborators/maintainer/permission").json()
    assert (permission["permission"], permission["role_name"]) == ("write", "maintain")
    assert http.get("/repos/octo/app/issues/1", headers={"Authorization": "Bearer wrong"}).status_code == 401
