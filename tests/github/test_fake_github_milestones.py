"""The fake GitHub's milestone endpoints answer as GitHub's do (shape of the `milestone.closed` webhook example)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from .fake_github import FakeGitHub
from .fake_github_milestones import milestone_state
from .test_fake_github_shapes import assert_same_shape, http  # noqa: F401 (the fixture)

WEBHOOKS = Path(__file__).resolve().parent.parent / "fixtures" / "github" / "webhooks"


def test_milestones_are_listed_by_state_and_closed_by_a_patch(github: FakeGitHub, http: httpx.Client) -> None:
    github.add_repo("octo/app")
    github.add_issue("octo/app", "One", milestone="v1.0")
    github.add_issue("octo/app", "Two", milestone="v2.0")
    assert [item["title"] for item in http.get("/repos/octo/app/milestones").json()] == ["v1.0", "v2.0"]
    closed = http.patch("/repos/octo/app/milestones/1", json={"state": "closed"})
    real = json.loads((WEBHOOKS / "milestone.closed.1.json").read_text())["milestone"]
    assert closed.status_code == 200 and closed.json()["state"] == "closed" and closed.json()["closed_at"]
    assert_same_shape(closed.json(), real, "milestone")
    assert [item["title"] for item in http.get("/repos/octo/app/milestones").json()] == ["v2.0"], "open ones by default"
    assert [item["title"] for item in http.get("/repos/octo/app/milestones", params={"state": "closed"}).json()] == ["v1.0"]
    assert len(http.get("/repos/octo/app/milestones", params={"state": "all"}).json()) == 2
    assert milestone_state(github, "octo/app", "v1.0") == "closed"
    assert http.patch("/repos/octo/app/milestones/9", json={"state": "closed"}).status_code == 404
    assert http.patch("/repos/octo/app/milestones/2", json={"state": "shut"}).status_code == 422
    created = http.post("/repos/octo/app/milestones", json={"title": "v3.0", "description": "later"})
    assert created.status_code == 201 and created.json()["number"] == 3 and created.json()["description"] == "later"
    assert http.get("/repos/octo/app/milestones/3").json()["title"] == "v3.0"
