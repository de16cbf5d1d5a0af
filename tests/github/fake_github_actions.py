"""The fake GitHub's Actions endpoints: workflow_dispatch, runs, jobs and their logs, cancel, artifacts (zip), runners.

Shapes follow GitHub's OpenAPI description (`actions/create-workflow-dispatch`,
`actions/list-workflow-runs-for-repo`, `actions/get-workflow-run`, `actions/cancel-workflow-run`,
`actions/list-workflow-run-artifacts`, `actions/download-artifact`,
`actions/list-self-hosted-runners-for-repo`, `actions/list-jobs-for-workflow-run`,
`actions/download-job-logs-for-workflow-run`), keeping the keys waterspider reads and a few more.
A run has one job (the example workflow's `agent`); its log is what `write_log` appended, served
as GitHub serves it: a 302 to a storage URL that honours `Range`, each line after a timestamp.

    state = actions_of(github, "octo/app")
    state.run_name = "issue #{issue} {correlation}"     # the workflow's run-name, from its inputs
    state.run_details = False                          # an older server: dispatch answers 204
    run = add_run(github, "octo/app", display_title="someone else's run")
    set_run(github, "octo/app", run.id, "completed", "success")
    upload_artifact(github, "octo/app", run.id, "stream", {"stream.jsonl": b"..."})
    write_log(github, "octo/app", run.id, "a line the job printed\n")
    add_runner(github, "octo/app", "mini-1", ["self-hosted", "macOS"], busy=True)
    state.concurrency = "waterspider-issue-{issue}"    # the workflow's concurrency group, from its inputs

Concurrency groups follow GitHub's documented rule ("Control the concurrency of workflows and
jobs", cancel-in-progress false): a group holds at most one run in progress (queued for a runner,
or running) and one pending. A run queued while another of its group is in progress waits
`pending`, and the group's run pending before it is cancelled (GitHub's annotation: "Canceling
since a higher priority waiting request for 'GROUP' exists"); when the run in progress
completes, the pending one is queued. Group names are compared without case.
"""

from __future__ import annotations

import io
import json
import itertools
import re
import time
import zipfile
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .fake_github_model import FakeRepo, iso
from .fake_github_routes import NOT_FOUND, Reply, _page, _route

if TYPE_CHECKING:
    from .fake_github import FakeGitHub


@dataclass
class FakeRun:
    id: int
    workflow: str
    display_title: str
    head_branch: str
    created_at: float
    updated_at: float
    inputs: dict[str, str] = field(default_factory=dict)
    event: str = "workflow_dispatch"
    status: str = "queued"
    conclusion: str | None = None
    run_number: int = 1
    artifacts: dict[int, tuple[str, bytes]] = field(default_factory=dict)
    """Artifact id -> (name, zip bytes)."""
    job_id: int = 0
    group: str = ""
    """Its concurrency group (lower case), empty when the workflow sets none."""
    log: bytearray = field(default_factory=bytearray)
    """The job's log as GitHub stores it: a byte-order mark, then each line after its timestamp."""


@dataclass
class FakeActions:
    """One repository's Actions state."""

    runs: dict[int, FakeRun] = field(default_factory=dict)
    runners: list[dict[str, Any]] = field(default_factory=list)
    workflows: set[str] = field(default_factory=lambda: {"agent-execute.yml"})
    run_name: str = "{workflow}"
    concurrency: str = ""
    """The workflow's `concurrency.group`, formatted with its inputs; empty: runs are not grouped."""
    declared_inputs: set[str] | None = None
    """The workflow's `workflow_dispatch` inputs; a dispatch with another is refused (422). None: any."""
    superseded: dict[int, int] = field(default_factory=dict)
    """Run id -> the newer run of its group for which GitHub cancelled it while it was pending."""
    """The workflow's `run-name`, formatted with its inputs (and `workflow`); the display title."""
    run_details: bool = True
    """Whether dispatch honours `return_run_details` (200 with the run's id) or answers 204."""
    reject_run_details: bool = False
    """An older GitHub Enterprise Server: `return_run_details` is an unknown field (400)."""
    runners_forbidden: bool = False
    """The token may not list runners (403, as for a token without admin rights)."""
    cancels: list[int] = field(default_factory=list)
    listing_delay: int = 0
    """How many run listings a newly dispatched run stays out of (GitHub shows it after a few seconds)."""
    hidden: dict[int, int] = field(default_factory=dict)
    branches: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Branches pushed by runs: name -> {"sha", "ahead_by", "files": [(filename, additions, deletions)]}."""
    ids: itertools.count = field(default_factory=lambda: itertools.count(20_000_000_001))


def actions_of(github: FakeGitHub, full_name: str) -> FakeActions:
    with github.lock:
        states: dict[str, FakeActions] = github.__dict__.setdefault("actions", {})
        return states.setdefault(full_name.lower(), FakeActions())


def add_run(github: FakeGitHub, full_name: str, *, workflow: str = "agent-execute.yml", display_title: str = "a run",
            inputs: dict[str, str] | None = None, ref: str = "main", event: str = "workflow_dispatch",
            status: str = "queued", conclusion: str | None = None) -> FakeRun:
    with github.lock:
        state = actions_of(github, full_name)
        github.tick()
        now = github.real_time()  # runs carry the server's clock, which `created>=` filters compare with
        run = FakeRun(next(state.ids), workflow, display_title, ref, now, now, dict(inputs or {}), event, status,
                      conclusion, run_number=len(state.runs) + 1, job_id=next(state.ids))
        state.runs[run.id] = run
        return run


IN_PROGRESS = ("queued", "waiting", "in_progress")
"""A run in these holds its concurrency group (a run queued for a runner holds it too)."""


def set_run(github: FakeGitHub, full_name: str, run_id: int, status: str, conclusion: str | None = None) -> None:
    with github.lock:
        state = actions_of(github, full_name)
        run = state.runs[run_id]
        held_group = run.group and run.status in IN_PROGRESS
        run.status, run.conclusion, run.updated_at = status, conclusion, github.real_time()
        if held_group and status == "completed":
            waiting = [other for other in state.runs.values() if other.group == run.group and other.status == "pending"]
            for other in waiting[:1]:  # at most one is pending: it takes the group
                other.status, other.updated_at = "queued", github.real_time()


def admit(github: FakeGitHub, full_name: str, run: FakeRun) -> None:
    """GitHub's concurrency rule for a newly queued run (see the module's docstring)."""
    with github.lock:
        state = actions_of(github, full_name)
        others = [other for other in state.runs.values() if other.id != run.id and run.group and other.group == run.group]
        if not any(other.status in IN_PROGRESS for other in others):
            return
        for pending in [other for other in others if other.status == "pending"]:
            state.superseded[pending.id] = run.id
            set_run(github, full_name, pending.id, "completed", "cancelled")
        run.status = "pending"


def upload_artifact(github: FakeGitHub, full_name: str, run_id: int, name: str, files: dict[str, bytes]) -> int:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path, data in files.items():
            archive.writestr(path, data)
    with github.lock:
        state = actions_of(github, full_name)
        artifact_id = next(state.ids)
        state.runs[run_id].artifacts[artifact_id] = (name, buffer.getvalue())
        return artifact_id


def write_log(github: FakeGitHub, full_name: str, run_id: int, text: str) -> None:
    """What the job prints: each line stored after the time it arrived, as GitHub's job log has it."""
    with github.lock:
        run = actions_of(github, full_name).runs[run_id]
        if not run.log:
            run.log += "\ufeff".encode()
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(github.real_time())) + ".0000000Z "
        for line in text.splitlines(keepends=True):
            at_line_start = run.log.endswith(b"\n") or run.log == "\ufeff".encode()
            run.log += ((stamp if at_line_start else "") + line).encode()  # a line is stamped once, where it starts


def add_runner(github: FakeGitHub, full_name: str, name: str, labels: list[str], *, status: str = "online",
               busy: bool = False) -> None:
    with github.lock:
        state = actions_of(github, full_name)
        state.runners.append({
            "id": len(state.runners) + 1, "name": name, "os": "macOS", "status": status, "busy": busy,
            "labels": [{"id": index + 1, "name": label, "type": "read-only" if label == "self-hosted" else "custom"}
                       for index, label in enumerate(labels)],
        })


def push_branch(github: FakeGitHub, full_name: str, branch: str, *, commits: int = 1,
                files: list[tuple[str, int, int]] | None = None) -> str:
    """What a run's last step does: the issue branch on GitHub, `commits` ahead of the base."""
    import hashlib

    with github.lock:
        sha = hashlib.sha1(f"{full_name}:{branch}:{commits}".encode()).hexdigest()
        actions_of(github, full_name).branches[branch] = {"sha": sha, "ahead_by": commits, "files": list(files or [])}
        return sha


def run_shape(github: FakeGitHub, repo: FakeRepo, run: FakeRun) -> dict[str, Any]:
    api = f"{github.base_url}/repos/{repo.full_name}/actions/runs/{run.id}"
    return {
        "id": run.id, "name": run.workflow.removesuffix(".yml"), "node_id": f"WFR_{run.id}", "head_branch": run.head_branch,
        "head_sha": "0" * 40, "path": f".github/workflows/{run.workflow}", "display_title": run.display_title,
        "run_number": run.run_number, "run_attempt": 1, "event": run.event, "status": run.status,
        "conclusion": run.conclusion, "workflow_id": 161335, "url": api,
        "html_url": f"https://github.com/{repo.full_name}/actions/runs/{run.id}",
        "jobs_url": f"{api}/jobs", "logs_url": f"{api}/logs", "artifacts_url": f"{api}/artifacts",
        "cancel_url": f"{api}/cancel", "rerun_url": f"{api}/rerun",
        "created_at": iso(run.created_at), "updated_at": iso(run.updated_at), "run_started_at": iso(run.created_at),
        "pull_requests": [], "actor": {"login": "waterspider-bot"}, "triggering_actor": {"login": "waterspider-bot"},
    }


def dispatch(github: FakeGitHub, repo: FakeRepo, login: str, query: dict[str, str], body: Any, workflow: str) -> Reply:
    state = actions_of(github, repo.full_name)
    if workflow not in state.workflows:
        return Reply(404, NOT_FOUND)
    body = body if isinstance(body, dict) else {}
    if not body.get("ref"):
        return Reply(422, {"message": "Invalid request.\n\n\"ref\" wasn't supplied.", "status": "422"})
    if "return_run_details" in body and state.reject_run_details:
        return Reply(400, {"message": "Invalid request.\n\nFor 'links/0/schema', {\"return_run_details\"=>true} is not a "
                                      "permitted key.", "status": "400"})
    inputs = body.get("inputs") or {}
    unexpected = sorted(set(inputs) - state.declared_inputs) if state.declared_inputs is not None else []
    if unexpected:
        return Reply(422, {"message": f"Unexpected inputs provided: {json.dumps(unexpected)}",
                           "documentation_url": "https://docs.github.com/rest/actions/workflows#create-a-workflow-dispatch-event", "status": "422"})
    if len(inputs) > 25:
        return Reply(422, {"message": "you may only define up to 25 `inputs` for a `workflow_dispatch` event"})
    title = state.run_name.format(workflow=workflow.removesuffix(".yml"), **{k: str(v) for k, v in inputs.items()})
    run = add_run(github, repo.full_name, workflow=workflow, display_title=title,
                  inputs={k: str(v) for k, v in inputs.items()}, ref=str(body["ref"]))
    if state.concurrency:
        run.group = state.concurrency.format(**{k: str(v) for k, v in inputs.items()}).lower()
        admit(github, repo.full_name, run)
    if state.listing_delay:
        state.hidden[run.id] = state.listing_delay
    if body.get("return_run_details") and state.run_details:
        return Reply(200, {"workflow_run_id": run.id, "run_url": f"{github.base_url}/repos/{repo.full_name}/actions/runs/{run.id}",
                           "html_url": f"https://github.com/{repo.full_name}/actions/runs/{run.id}"})
    return Reply(204)


def list_workflow_runs(github: FakeGitHub, repo: FakeRepo, login: str, query: dict[str, str], body: Any, workflow: str) -> Reply:
    if workflow not in actions_of(github, repo.full_name).workflows:
        return Reply(404, NOT_FOUND)
    return list_runs(github, repo, login, query, body, workflow)


def list_runs(github: FakeGitHub, repo: FakeRepo, login: str, query: dict[str, str], body: Any, workflow: str = "") -> Reply:
    state = actions_of(github, repo.full_name)
    runs = sorted((r for r in state.runs.values() if not state.hidden.get(r.id) and workflow in ("", r.workflow)),
                  key=lambda r: r.id, reverse=True)
    for run_id in list(state.hidden):
        state.hidden[run_id] -= 1
        if state.hidden[run_id] <= 0:
            del state.hidden[run_id]
    if query.get("event"):
        runs = [r for r in runs if r.event == query["event"]]
    if query.get("status"):
        runs = [r for r in runs if query["status"] in (r.status, r.conclusion)]
    if query.get("branch"):
        runs = [r for r in runs if r.head_branch == query["branch"]]
    created = query.get("created", "")
    if created.startswith(">="):
        runs = [r for r in runs if iso(r.created_at) >= created[2:]]
    rest = f"/actions/workflows/{workflow}/runs" if workflow else "/actions/runs"
    reply = _page(github, repo, rest, query, [run_shape(github, repo, r) for r in runs])
    reply.body = {"total_count": len(runs), "workflow_runs": reply.body}
    return reply


def _run_or_none(github: FakeGitHub, repo: FakeRepo, run_id: str) -> FakeRun | None:
    return actions_of(github, repo.full_name).runs.get(int(run_id))


def get_run(github: FakeGitHub, repo: FakeRepo, login: str, query: dict[str, str], body: Any, run_id: str) -> Reply:
    run = _run_or_none(github, repo, run_id)
    return Reply(200, run_shape(github, repo, run)) if run else Reply(404, NOT_FOUND)


def cancel_run(github: FakeGitHub, repo: FakeRepo, login: str, query: dict[str, str], body: Any, run_id: str) -> Reply:
    run = _run_or_none(github, repo, run_id)
    if run is None:
        return Reply(404, NOT_FOUND)
    actions_of(github, repo.full_name).cancels.append(run.id)
    if run.status == "completed":
        return Reply(409, {"message": "Cannot cancel a workflow run that is completed.", "status": "409"})
    set_run(github, repo.full_name, run.id, "completed", "cancelled")
    return Reply(202, {})


def list_artifacts(github: FakeGitHub, repo: FakeRepo, login: str, query: dict[str, str], body: Any, run_id: str) -> Reply:
    run = _run_or_none(github, repo, run_id)
    if run is None:
        return Reply(404, NOT_FOUND)
    api = f"{github.base_url}/repos/{repo.full_name}/actions/artifacts"
    artifacts = [
        {"id": artifact_id, "node_id": f"MDg6QXJ0aWZhY3Q{artifact_id}", "name": name, "size_in_bytes": len(blob),
         "url": f"{api}/{artifact_id}", "archive_download_url": f"{api}/{artifact_id}/zip", "expired": False,
         "created_at": iso(run.updated_at), "updated_at": iso(run.updated_at), "expires_at": iso(run.updated_at + 90 * 86400),
         "workflow_run": {"id": run.id, "head_branch": run.head_branch, "head_sha": "0" * 40}}
        for artifact_id, (name, blob) in run.artifacts.items() if not query.get("name") or query["name"] == name
    ]
    return Reply(200, {"total_count": len(artifacts), "artifacts": artifacts})


def download_artifact(github: FakeGitHub, repo: FakeRepo, login: str, query: dict[str, str], body: Any, artifact_id: str) -> Reply:
    """GitHub answers 302 to a short-lived storage URL; here the blob route below stands for it."""
    for run in actions_of(github, repo.full_name).runs.values():
        if int(artifact_id) in run.artifacts:
            return Reply(302, None, {"location": f"{github.base_url}/repos/{repo.full_name}/_blobs/artifacts/{artifact_id}"})
    return Reply(404, NOT_FOUND)


def artifact_blob(github: FakeGitHub, repo: FakeRepo, login: str, query: dict[str, str], body: Any, artifact_id: str) -> Reply:
    for run in actions_of(github, repo.full_name).runs.values():
        if int(artifact_id) in run.artifacts:
            return Reply(200, run.artifacts[int(artifact_id)][1], {"content-type": "application/zip"}, counts=False)
    return Reply(404, NOT_FOUND)


def _job_shape(github: FakeGitHub, repo: FakeRepo, run: FakeRun) -> dict[str, Any]:
    api = f"{github.base_url}/repos/{repo.full_name}/actions"
    started = iso(run.created_at)
    return {
        "id": run.job_id, "run_id": run.id, "workflow_name": run.workflow.removesuffix(".yml"), "head_branch": run.head_branch,
        "run_url": f"{api}/runs/{run.id}", "run_attempt": 1, "node_id": f"CR_{run.job_id}", "head_sha": "0" * 40,
        "url": f"{api}/jobs/{run.job_id}", "html_url": f"https://github.com/{repo.full_name}/actions/runs/{run.id}/job/{run.job_id}",
        "status": run.status, "conclusion": run.conclusion, "created_at": started,
        "started_at": started,
        "completed_at": iso(run.updated_at) if run.status == "completed" else None, "name": "agent", "steps": [],
        "check_run_url": f"{github.base_url}/repos/{repo.full_name}/check-runs/{run.job_id}",
        "labels": ["self-hosted", "macOS"], "runner_id": 1 if run.status != "queued" else None,
        "runner_name": "mini-1" if run.status != "queued" else None, "runner_group_id": 1, "runner_group_name": "Default",
    }


def list_jobs(github: FakeGitHub, repo: FakeRepo, login: str, query: dict[str, str], body: Any, run_id: str) -> Reply:
    run = _run_or_none(github, repo, run_id)
    if run is None:
        return Reply(404, NOT_FOUND)
    return Reply(200, {"total_count": 1, "jobs": [_job_shape(github, repo, run)]})


def _run_of_job(github: FakeGitHub, repo: FakeRepo, job_id: str) -> FakeRun | None:
    return next((run for run in actions_of(github, repo.full_name).runs.values() if run.job_id == int(job_id)), None)


def job_logs(github: FakeGitHub, repo: FakeRepo, login: str, query: dict[str, str], body: Any, job_id: str) -> Reply:
    """A 302 to the log's storage URL once the job has started (a queued job has no log yet: 404)."""
    run = _run_of_job(github, repo, job_id)
    if run is None or run.status == "queued":
        return Reply(404, NOT_FOUND)
    return Reply(302, None, {"location": f"{github.base_url}/repos/{repo.full_name}/_blobs/job-logs/{job_id}"})


_RANGE = re.compile(r"bytes=(\d+)-$")


def job_log_blob(github: FakeGitHub, repo: FakeRepo, login: str, query: dict[str, str], body: Any, job_id: str) -> Reply:
    """The log's bytes; `Range: bytes=N-` answers 206 with the rest, or 416 when there is nothing past N."""
    run = _run_of_job(github, repo, job_id)
    if run is None:
        return Reply(404, NOT_FOUND)
    data = bytes(run.log)
    headers = {"content-type": "text/plain; charset=utf-8", "accept-ranges": "bytes"}
    wanted = _RANGE.match(getattr(github, "request_headers", {}).get("range", ""))
    if wanted is None:
        return Reply(200, data, headers, counts=False)
    start = int(wanted.group(1))
    if start >= len(data):
        return Reply(416, b"", {**headers, "content-range": f"bytes */{len(data)}"}, counts=False)
    return Reply(206, data[start:], {**headers, "content-range": f"bytes {start}-{len(data) - 1}/{len(data)}"}, counts=False)


def list_runners(github: FakeGitHub, repo: FakeRepo, login: str, query: dict[str, str], body: Any) -> Reply:
    state = actions_of(github, repo.full_name)
    if state.runners_forbidden:
        return Reply(403, {"message": "Resource not accessible by integration", "status": "403"})
    return Reply(200, {"total_count": len(state.runners), "runners": list(state.runners)})


def get_branch(github: FakeGitHub, repo: FakeRepo, login: str, query: dict[str, str], body: Any, branch: str) -> Reply:
    pushed = actions_of(github, repo.full_name).branches.get(branch)
    if pushed is None:
        return Reply(404, {"message": "Branch not found", "documentation_url": "https://docs.github.com/rest/branches/branches#get-a-branch", "status": "404"})
    return Reply(200, {"name": branch, "commit": {"sha": pushed["sha"], "url": f"{github.base_url}/repos/{repo.full_name}/commits/{pushed['sha']}"},
                       "protected": False, "_links": {"html": f"https://github.com/{repo.full_name}/tree/{branch}"}})


def compare(github: FakeGitHub, repo: FakeRepo, login: str, query: dict[str, str], body: Any, basehead: str) -> Reply:
    base, _, head = basehead.partition("...")
    pushed = actions_of(github, repo.full_name).branches.get(head)
    if pushed is None or not base:
        return Reply(404, {"message": "Not Found", "documentation_url": "https://docs.github.com/rest/commits/commits#compare-two-commits", "status": "404"})
    files = [{"sha": "0" * 40, "filename": name, "status": "modified", "additions": added, "deletions": deleted,
              "changes": added + deleted} for name, added, deleted in pushed["files"]]
    return Reply(200, {"status": "ahead" if pushed["ahead_by"] else "identical", "ahead_by": pushed["ahead_by"], "behind_by": 0,
                       "total_commits": pushed["ahead_by"], "commits": [], "files": files,
                       "html_url": f"https://github.com/{repo.full_name}/compare/{basehead}"})


_RUN = r"(?P<run_id>\d+)"
ACTIONS_ROUTES = [
    _route("POST", r"/actions/workflows/(?P<workflow>[^/]+)/dispatches", dispatch),
    _route("GET", r"/actions/runs", list_runs),
    _route("GET", r"/actions/workflows/(?P<workflow>[^/]+)/runs", list_workflow_runs),
    _route("GET", rf"/actions/runs/{_RUN}", get_run),
    _route("POST", rf"/actions/runs/{_RUN}/cancel", cancel_run),
    _route("GET", rf"/actions/runs/{_RUN}/artifacts", list_artifacts),
    _route("GET", rf"/actions/runs/{_RUN}/jobs", list_jobs),
    _route("GET", r"/actions/jobs/(?P<job_id>\d+)/logs", job_logs),
    _route("GET", r"/_blobs/job-logs/(?P<job_id>\d+)", job_log_blob),
    _route("GET", r"/actions/artifacts/(?P<artifact_id>\d+)/zip", download_artifact),
    _route("GET", r"/_blobs/artifacts/(?P<artifact_id>\d+)", artifact_blob),
    _route("GET", r"/actions/runners", list_runners),
    _route("GET", r"/branches/(?P<branch>.+)", get_branch),
    _route("GET", r"/compare/(?P<basehead>.+)", compare),
]
"""Added to the fake's ROUTES at the end of `fake_github_routes.py`."""
