"""The fake's Actions answers have GitHub's shapes: a run as the recorded `workflow_run`, a job as the documented `job`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

from .fake_github import DEFAULT_TOKEN, FakeGitHub
from .fake_github_actions import actions_of, set_run, write_log

WEBHOOKS = Path(__file__).resolve().parent.parent / "fixtures" / "github" / "webhooks"
JOB_KEYS = {
    "id", "run_id", "run_url", "run_attempt", "node_id", "head_sha", "url", "html_url", "status", "conclusion",
    "created_at", "started_at", "completed_at", "name", "steps", "check_run_url", "labels", "runner_id", "runner_name",
    "runner_group_id", "runner_group_name", "workflow_name", "head_branch",
}
"""The `job` object of GitHub's REST description (`actions/list-jobs-for-workflow-run`)."""
NEWER_RUN_FIELDS = {"display_title", "path", "actor", "triggering_actor"}
"""Run fields GitHub added after the 2021 recording (in the REST description's `workflow-run`)."""


@pytest.fixture
def http(github: FakeGitHub) -> Iterator[httpx.Client]:
    github.add_repo("octo/app")
    actions_of(github, "octo/app").run_name = "issue #{issue} ({correlation})"
    with httpx.Client(base_url=github.base_url, headers={"Authorization": f"Bearer {DEFAULT_TOKEN}"}) as client:
        yield client


def dispatched(http: httpx.Client) -> dict[str, Any]:
    answer = http.post("/repos/octo/app/actions/workflows/agent-execute.yml/dispatches",
                       json={"ref": "main", "inputs": {"issue": "7", "correlation": "ws-7-1-abc"}, "return_run_details": True})
    assert answer.status_code == 200
    return http.get(f"/repos/octo/app/actions/runs/{answer.json()['workflow_run_id']}").json()


def same_types(fake: dict[str, Any], real: dict[str, Any], where: str) -> None:
    for name, value in fake.items():
        if value is not None and real.get(name) is not None:
            assert type(value) is type(real[name]) or {type(value), type(real[name])} <= {int, float}, f"{where}.{name}"


def test_a_run_keeps_only_keys_github_has_with_their_types(http: httpx.Client) -> None:
    real = json.loads((WEBHOOKS / "workflow_run.completed.1.json").read_text())["workflow_run"]
    run = dispatched(http)
    invented = set(run) - set(real) - NEWER_RUN_FIELDS
    assert not invented, f"the fake invents {sorted(invented)}"
    same_types(run, real, "run")
    assert run["display_title"] == "issue #7 (ws-7-1-abc)"


def test_a_job_has_the_documented_keys_and_follows_its_run(http: httpx.Client, github: FakeGitHub) -> None:
    run = dispatched(http)
    (job,) = http.get(f"/repos/octo/app/actions/runs/{run['id']}/jobs").json()["jobs"]
    assert set(job) == JOB_KEYS
    assert (job["run_id"], job["status"], job["conclusion"]) == (run["id"], "queued", None)
    assert http.get(f"/repos/octo/app/actions/jobs/{job['id']}/logs").status_code == 404  # no log before a runner took it
    set_run(github, "octo/app", run["id"], "in_progress")
    write_log(github, "octo/app", run["id"], "first line\nsecond")
    logs = http.get(f"/repos/octo/app/actions/jobs/{job['id']}/logs")
    assert logs.status_code == 302 and "/_blobs/job-logs/" in logs.headers["location"]
    whole = http.get(logs.headers["location"])
    assert whole.status_code == 200 and whole.content.startswith("\ufeff".encode())
    assert b"Z first line\n" in whole.content and whole.content.endswith(b"Z second")  # each line after its timestamp
    rest = http.get(logs.headers["location"], headers={"Range": f"bytes={len(whole.content) - 6}-"})
    assert (rest.status_code, rest.content, rest.headers["content-range"]) == (206, b"second", f"bytes {len(whole.content) - 6}-{len(whole.content) - 1}/{len(whole.content)}")
    past = http.get(logs.headers["location"], headers={"Range": f"bytes={len(whole.content)}-"})
    assert past.status_code == 416
    set_run(github, "octo/app", run["id"], "completed", "success")
    (job,) = http.get(f"/repos/octo/app/actions/runs/{run['id']}/jobs").json()["jobs"]
    assert (job["status"], job["conclusion"]) == ("completed", "success") and job["completed_at"]


def test_a_concurrency_group_holds_one_run_in_progress_and_one_pending(http: httpx.Client, github: FakeGitHub) -> None:
    """GitHub's documented rule, cancel-in-progress false: a newer run waits pending, and the pending one before it is cancelled."""
    state = actions_of(github, "octo/app")
    state.concurrency = "Waterspider-Issue-{issue}"

    def dispatch(issue: str, correlation: str) -> int:
        answer = http.post("/repos/octo/app/actions/workflows/agent-execute.yml/dispatches",
                           json={"ref": "main", "inputs": {"issue": issue, "correlation": correlation}, "return_run_details": True})
        return int(answer.json()["workflow_run_id"])

    def seen(run_id: int) -> tuple[str, str | None]:
        run = http.get(f"/repos/octo/app/actions/runs/{run_id}").json()
        return run["status"], run["conclusion"]

    first, second = dispatch("7", "ws-a"), dispatch("7", "ws-b")
    other_issue = dispatch("8", "ws-c")
    assert (seen(first), seen(second), seen(other_issue)) == (("queued", None), ("pending", None), ("queued", None))
    third = dispatch("7", "ws-d")
    assert (seen(second), seen(third)) == (("completed", "cancelled"), ("pending", None))
    assert state.superseded == {second: third}
    set_run(github, "octo/app", first, "completed", "success")
    assert seen(third) == ("queued", None)  # the group's pending run takes its place
    assert http.post(f"/repos/octo/app/actions/runs/{third}/cancel").status_code == 202
    fourth = dispatch("7", "ws-e")
    assert seen(fourth) == ("queued", None)  # nothing of the group is in progress any more
