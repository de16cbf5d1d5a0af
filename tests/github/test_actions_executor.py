"""The GitHub Actions executor against the loopback fake: dispatch, tracking, output, cancel, deadline, probe."""

from __future__ import annotations

import json
from typing import Any, Callable

import pytest

from waterspider_tui.adapters.agents.base import LaunchSpec
from waterspider_tui.adapters.executors.actions import ActionsExecutor, correlation_id
from waterspider_tui.adapters.executors.actions_stream import STREAM_PREFIX
from waterspider_tui.adapters.executors.base import ExecutorError, WorkOrder
from waterspider_tui.core.models import SessionInfo

from .conftest import FakeTime
from .fake_github import FakeGitHub
from .fake_github_actions import actions_of, add_run, add_runner, admit, push_branch, set_run, upload_artifact, write_log

REPO = "octo/app"
WORKFLOW = "agent-execute.yml"
SPEC = LaunchSpec(argv=("claude",), env={}, cwd=".")
STREAM = b"".join(json.dumps(line).encode() + b"\n" for line in (
    {"type": "system", "subtype": "init", "session_id": "abc"},
    {"type": "result", "subtype": "success", "num_turns": 3, "total_cost_usd": 0.12},
))


@pytest.fixture
def repo(github: FakeGitHub) -> FakeGitHub:
    github.add_repo(REPO)
    actions_of(github, REPO).run_name = "issue #{issue} ({correlation})"
    return github


@pytest.fixture
def make_executor(make_client: Callable[..., Any], fake_time: FakeTime) -> Callable[..., ActionsExecutor]:
    def make(**options: Any) -> ActionsExecutor:
        settings: dict[str, Any] = dict(poll_interval_s=10.0, queued_deadline_s=300.0, find_timeout_s=30.0,
                                        sleep=lambda seconds: fake_time.sleep(seconds), clock=fake_time.clock)
        settings.update(options)
        return ActionsExecutor(make_client(), REPO, WORKFLOW, **settings)
    return make


def session_for(executor: ActionsExecutor, number: int = 7, token: str = "t0k3n") -> SessionInfo:
    paths = executor.locate(WorkOrder(f"{REPO}#{number}", number, REPO, 1, token), executor.host)
    return SessionInfo(
        session_id=f"s-{number}-{token}", issue=f"{REPO}#{number}", attempt=1, executor=executor.name, host=executor.host,
        worktree=paths.worktree, branch=paths.branch, log_path=paths.session_dir + "/output.jsonl", started_at=0.0,
        agent="claude", session_dir=paths.session_dir,
    )


def only_run(github: FakeGitHub) -> Any:
    runs = list(actions_of(github, REPO).runs.values())
    assert len(runs) == 1
    return runs[0]


async def test_locate_and_prepare_make_nothing_local(repo: FakeGitHub, make_executor: Callable[..., ActionsExecutor]) -> None:
    executor = make_executor()
    session = session_for(executor)
    assert session.branch == "feature/issue-7"
    assert session.session_dir.startswith("actions:octo/app/issue-7/")
    prepared = await executor.prepare(session)
    assert (prepared.branch, prepared.base, prepared.reused) == ("feature/issue-7", "origin/main", False)
    assert repo.count() == 0


async def test_dispatch_with_run_details(repo: FakeGitHub, make_executor: Callable[..., ActionsExecutor]) -> None:
    executor = make_executor()
    session = session_for(executor)
    assert await executor.start(session, SPEC) is None
    run = only_run(repo)
    assert run.inputs == {"issue": "7", "agent": "claude", "session": session.session_id, "attempt": "1",
                          "branch": "feature/issue-7", "correlation": correlation_id(session.session_id)}
    assert correlation_id(session.session_id) in run.display_title
    assert repo.count("GET", r"/actions/runs\?") == 0  # the 200 named the run: no search
    assert (await executor.state(session)).alive


async def test_dispatch_204_finds_the_run_by_its_correlation_id(
    repo: FakeGitHub, make_executor: Callable[..., ActionsExecutor], fake_time: FakeTime,
) -> None:
    state = actions_of(repo, REPO)
    state.run_details = False
    state.listing_delay = 2
    add_run(repo, REPO, display_title="issue #6 (ws-older)")
    executor = make_executor()
    session = session_for(executor)
    real_sleep = fake_time.sleep

    async def sleep(seconds: float) -> None:  # someone else dispatches just after us: a newer, unrelated run
        add_run(repo, REPO, display_title="issue #9 (ws-someone-else)")
        await real_sleep(seconds)

    fake_time.sleep = sleep  # type: ignore[method-assign]
    await executor.start(session, SPEC)
    assert repo.count("GET", r"/actions/workflows/agent-execute.yml/runs\?") == 3
    assert "event=workflow_dispatch" in repo.requests[-1].path and "created=%3E%3D" in repo.requests[-1].path
    add_run(repo, REPO, display_title="issue #7 (ws-another-session)")
    ours = next(r for r in state.runs.values() if r.inputs.get("session") == session.session_id)
    newest = max(state.runs)
    assert newest != ours.id
    assert executor._tracked[session.session_id].run_id == ours.id
    set_run(repo, REPO, ours.id, "completed", "failure")
    exit = await executor.wait(session)
    assert exit.returncode == 1


async def test_run_queued_then_in_progress_then_success_with_output(
    repo: FakeGitHub, make_executor: Callable[..., ActionsExecutor], fake_time: FakeTime,
) -> None:
    executor = make_executor()
    session = session_for(executor)
    await executor.start(session, SPEC)
    run = only_run(repo)
    assert await executor.read_output(session, 0) == b""
    assert not executor.output_live(session)  # queued: no runner yet, so silence is no stall
    steps = iter([("in_progress", None), ("in_progress", None), ("completed", "success")])
    real_sleep = fake_time.sleep

    async def sleep(seconds: float) -> None:
        assert seconds >= executor.poll_interval_s
        status, conclusion = next(steps)
        if status == "completed":
            upload_artifact(repo, REPO, run.id, "stream", {"stream.jsonl": STREAM})
        set_run(repo, REPO, run.id, status, conclusion)
        await real_sleep(seconds)

    fake_time.sleep = sleep  # type: ignore[method-assign]
    exit = await executor.wait(session)
    assert exit.returncode == 0 and exit.error == ""
    assert await executor.read_output(session, 0) == STREAM
    assert await executor.read_output(session, 10, 5) == STREAM[10:15]
    assert (await executor.state(session)).exit == exit or not (await executor.state(session)).alive


async def test_conditional_polling_counts_304s_and_keeps_its_pace(
    repo: FakeGitHub, make_executor: Callable[..., ActionsExecutor], fake_time: FakeTime,
) -> None:
    executor = make_executor()
    session = session_for(executor)
    await executor.start(session, SPEC)
    run = only_run(repo)
    for _ in range(3):
        await executor.state(session)  # within one interval: one request
    assert repo.count("GET", rf"/actions/runs/{run.id}$") == 1
    for _ in range(3):
        fake_time.advance(executor.poll_interval_s)
        await executor.state(session)
    assert repo.count("GET", rf"/actions/runs/{run.id}$") == 4
    assert repo.count("GET", rf"/actions/runs/{run.id}$", status=304) == 3
    assert executor.client.stats.not_modified == 3
    set_run(repo, REPO, run.id, "completed", "cancelled")
    fake_time.advance(executor.poll_interval_s)
    found = await executor.state(session)
    assert not found.alive and found.exit is not None and found.exit.returncode is None


async def test_stop_cancels_the_run(repo: FakeGitHub, make_executor: Callable[..., ActionsExecutor]) -> None:
    executor = make_executor()
    session = session_for(executor)
    await executor.start(session, SPEC)
    run = only_run(repo)
    await executor.stop(session, grace_s=5.0)
    assert actions_of(repo, REPO).cancels == [run.id]
    assert (run.status, run.conclusion) == ("completed", "cancelled")
    exit = await executor.wait(session)
    assert exit.returncode is None
    await executor.stop(session, grace_s=5.0)  # a completed run: 409, logged, not raised


async def test_queued_past_the_deadline_is_host_down_and_cancelled(
    repo: FakeGitHub, make_executor: Callable[..., ActionsExecutor], fake_time: FakeTime,
) -> None:
    executor = make_executor(queued_deadline_s=60.0)
    session = session_for(executor)
    await executor.start(session, SPEC)
    run = only_run(repo)
    with pytest.raises(ExecutorError) as raised:
        await executor.wait(session)
    assert raised.value.error_class == "host_down"
    assert "stayed queued" in str(raised.value)
    assert actions_of(repo, REPO).cancels == [run.id]
    assert run.conclusion == "cancelled"
    assert 60.0 <= sum(fake_time.sleeps) <= 60.0 + executor.poll_interval_s + 1


async def test_a_restarted_executor_finds_its_run_again(repo: FakeGitHub, make_executor: Callable[..., ActionsExecutor]) -> None:
    first = make_executor()
    session = session_for(first)
    await first.start(session, SPEC)
    add_run(repo, REPO, display_title="issue #8 (ws-newer)")
    run = next(r for r in actions_of(repo, REPO).runs.values() if r.inputs.get("session") == session.session_id)
    set_run(repo, REPO, run.id, "completed", "success")
    again = make_executor()
    found = await again.state(session)
    assert not found.alive and found.exit is not None and found.exit.returncode == 0


async def test_git_questions_are_answered_from_the_pushed_branch(
    repo: FakeGitHub, make_executor: Callable[..., ActionsExecutor],
) -> None:
    executor = make_executor()
    session = session_for(executor)
    base = executor.base_branch(session)
    counted = await executor.git(session, "rev-list", "--count", f"{base}..{session.branch}")
    assert (counted.returncode, counted.stdout.strip()) == (0, "0")  # nothing pushed yet
    missing = await executor.git(session, "rev-parse", "--verify", "--quiet", f"refs/heads/{session.branch}")
    assert missing.returncode == 1
    sha = push_branch(repo, REPO, session.branch, commits=2, files=[("app/main.py", 10, 2), ("README.md", 1, 0)])
    counted = await executor.git(session, "rev-list", "--count", f"{base}..{session.branch}")
    assert (counted.returncode, counted.stdout.strip()) == (0, "2")
    names = await executor.git(session, "diff", "--name-only", f"{base}...{session.branch}")
    assert names.stdout.splitlines() == ["app/main.py", "README.md"]
    numstat = await executor.git(session, "diff", "--numstat", "--no-renames", f"{base}...{session.branch}")
    assert numstat.stdout.splitlines() == ["10\t2\tapp/main.py", "1\t0\tREADME.md"]
    head = await executor.git(session, "rev-parse", "--verify", "--quiet", f"refs/heads/{session.branch}")
    assert (head.returncode, head.stdout.strip()) == (0, sha)
    remote = await executor.git(session, "remote", "get-url", "origin")
    assert remote.stdout.strip().endswith("/octo/app.git")
    pushed = await executor.git(session, "-c", "core.askPass=true", "push", "--porcelain", "origin", "refs/heads/x:refs/heads/x")
    assert (pushed.returncode, pushed.stdout) == (0, "")  # the run pushed already
    assert repo.count("POST") == 0


async def test_run_is_not_supported_on_a_runner(repo: FakeGitHub, make_executor: Callable[..., ActionsExecutor]) -> None:
    executor = make_executor()
    ran = await executor.run(session_for(executor), ["pytest"], 10.0)
    assert ran.returncode == 127 and "cannot run commands" in ran.stderr


async def test_probe_counts_runners_online_and_busy(repo: FakeGitHub, make_executor: Callable[..., ActionsExecutor]) -> None:
    executor = make_executor(runner_labels=("self-hosted", "macOS"))
    [host] = await executor.probe()
    assert not host.reachable and "no runner" in host.error
    add_runner(repo, REPO, "mini-1", ["self-hosted", "macOS", "ARM64"], busy=True)
    add_runner(repo, REPO, "mini-2", ["self-hosted", "macOS"])
    add_runner(repo, REPO, "mini-3", ["self-hosted", "macOS"], status="offline")
    add_runner(repo, REPO, "linux-1", ["self-hosted", "Linux"], busy=True)
    [host] = await executor.probe()
    assert (host.name, host.reachable, host.slots_total, host.slots_used, host.cores) == ("actions", True, 5, 1, 2)
    actions_of(repo, REPO).runners_forbidden = True
    [host] = await executor.probe()
    assert host.reachable and host.load is None and host.error == ""


async def test_registry_builds_it_from_the_actions_section(repo: FakeGitHub, make_client: Callable[..., Any]) -> None:
    from waterspider_tui.adapters.executors.registry import make_executor as build
    from waterspider_tui.config import ActionsSection

    section = ActionsSection(enabled=True, repo=REPO, slots=3, runner_labels=["self-hosted", "macOS"], queued_deadline_s=60)
    executor = build("actions", client=make_client(), actions=section)
    assert isinstance(executor, ActionsExecutor)
    assert (executor.repo, executor.workflow, executor.queued_deadline_s) == (REPO, "agent-execute.yml", 60)
    assert [(h.name, h.slots, h.labels) for h in executor.hosts] == [("actions", 3, ("self-hosted", "macos"))]
    with pytest.raises(ValueError):
        ActionsSection(repo="not-a-repo")
    assert build("actions", client=make_client(), actions=ActionsSection(enabled=True), default_repo=REPO).repo == REPO
    with pytest.raises(ValueError, match="needs repo"):
        build("actions", client=make_client(), actions=ActionsSection(enabled=True))


async def test_wait_rides_out_a_github_outage(repo: FakeGitHub, make_executor: Callable[..., ActionsExecutor]) -> None:
    executor = make_executor()
    session = session_for(executor)
    await executor.start(session, SPEC)
    run = only_run(repo)
    set_run(repo, REPO, run.id, "in_progress")
    repo.inject(502, times=4, method="GET", path_contains=f"/actions/runs/{run.id}")  # one call's retries, all failed
    original = executor._sleep
    calls = 0

    async def sleep(seconds: float) -> None:
        nonlocal calls
        calls += 1
        set_run(repo, REPO, run.id, "completed", "success")
        await original(seconds)

    executor._sleep = sleep
    exit = await executor.wait(session)
    assert exit.returncode == 0 and calls == 1
    assert repo.count("GET", rf"/actions/runs/{run.id}$", status=502) == 4


async def test_a_server_refusing_return_run_details_is_asked_without_it(
    repo: FakeGitHub, make_executor: Callable[..., ActionsExecutor],
) -> None:
    state = actions_of(repo, REPO)
    state.reject_run_details = True
    for index in range(120):  # more than a page of other dispatched runs, all newer than nothing
        add_run(repo, REPO, display_title=f"issue #{index} (ws-other-{index})")
    executor = make_executor()
    first, second = session_for(executor, 7, "aaa"), session_for(executor, 8, "bbb")
    await executor.start(first, SPEC)
    await executor.start(second, SPEC)
    assert repo.count("POST", r"/dispatches", status=400) == 1  # asked once, remembered
    assert repo.count("POST", r"/dispatches", status=204) == 2
    ids = {r.inputs.get("session"): r.id for r in state.runs.values()}
    assert executor._tracked[first.session_id].run_id == ids[first.session_id]
    assert executor._tracked[second.session_id].run_id == ids[second.session_id]
    # a restarted executor finds an older run on a later page
    again = make_executor()
    old = session_for(again, 3, "old")
    run = add_run(repo, REPO, display_title=f"issue #3 ({correlation_id(old.session_id)})")
    for index in range(150):
        add_run(repo, REPO, display_title=f"issue #{index} (ws-later-{index})")
    assert not again._tracked
    assert (await again.state(old)).alive
    assert again._tracked[old.session_id].run_id == run.id


def test_correlation_is_a_whole_word_and_web_urls_follow_the_api_root() -> None:
    from waterspider_tui.adapters.executors.actions import carries, web_url

    assert carries({"display_title": "issue #7 (ws-s-7-a)"}, "ws-s-7-a")
    assert not carries({"display_title": "issue #7 (ws-s-7-ab)"}, "ws-s-7-a")
    assert not carries({"display_title": None, "name": "agent-execute"}, "ws-s-7-a")
    assert web_url("https://api.github.com") == "https://github.com"
    assert web_url("https://ghe.example.com/api/v3/") == "https://ghe.example.com"


def test_run_timestamps_read_back_exactly() -> None:
    from waterspider_tui.adapters.executors.actions import iso, parse_iso

    assert parse_iso(iso(1_767_225_600.0)) == 1_767_225_600.0
    assert parse_iso("2026-07-01T12:00:00Z") == 1_782_907_200.0  # summer: no daylight-saving hour slips in
    assert parse_iso("") is None


def echoed(stream: bytes) -> str:
    """The job log exec-issue prints for `stream`: a readable line, then the line behind the prefix."""
    return "".join(f"[tool] something readable\n{STREAM_PREFIX}{line}\n" for line in stream.decode().splitlines())


async def test_the_job_log_gives_the_stream_while_the_run_is_in_progress(
    repo: FakeGitHub, make_executor: Callable[..., ActionsExecutor], fake_time: FakeTime,
) -> None:
    executor = make_executor()
    session = session_for(executor)
    await executor.start(session, SPEC)
    run = only_run(repo)
    first, second = STREAM.splitlines(keepends=True)
    set_run(repo, REPO, run.id, "in_progress")
    fake_time.advance(executor.poll_interval_s)
    log_text = echoed(first)
    write_log(repo, REPO, run.id, log_text + STREAM_PREFIX + second.decode()[:10])  # the last line is not finished yet
    assert await executor.read_output(session, 0) == first
    assert executor.output_live(session)
    assert await executor.read_output(session, len(first)) == b""  # within the interval: the log is not asked again
    assert repo.count("GET", r"/actions/jobs/\d+/logs$") == 1 and repo.count("GET", rf"/actions/runs/{run.id}/jobs$") == 1
    write_log(repo, REPO, run.id, second.decode()[10:])
    fake_time.advance(executor.poll_interval_s)
    assert await executor.read_output(session, len(first)) == second
    ranged = [r for r in repo.requests if "/_blobs/job-logs/" in r.path]
    assert len(ranged) == 2 and "range" not in ranged[0].headers
    assert ranged[1].headers["range"].startswith("bytes=") and int(ranged[1].headers["range"][6:-1]) > len(log_text)
    assert repo.count("GET", rf"/actions/runs/{run.id}/jobs$") == 1  # the job's id is asked once
    upload_artifact(repo, REPO, run.id, "stream", {"stream.jsonl": STREAM})
    set_run(repo, REPO, run.id, "completed", "success")
    fake_time.advance(executor.poll_interval_s)
    assert await executor.read_output(session, len(STREAM)) == b""
    assert await executor.read_output(session, 0) == STREAM  # the artifact continues what the log gave


async def test_a_line_the_log_lost_comes_from_the_artifact_once(
    repo: FakeGitHub, make_executor: Callable[..., ActionsExecutor], fake_time: FakeTime,
) -> None:
    executor = make_executor()
    session = session_for(executor)
    await executor.start(session, SPEC)
    run = only_run(repo)
    set_run(repo, REPO, run.id, "in_progress")
    fake_time.advance(executor.poll_interval_s)
    first, second = STREAM.splitlines(keepends=True)
    write_log(repo, REPO, run.id, echoed(first).replace('"abc"', '"ab"'))  # the log shows something else than the file
    shown = await executor.read_output(session, 0)
    assert shown == first.replace(b'"abc"', b'"ab"')
    upload_artifact(repo, REPO, run.id, "stream", {"stream.jsonl": STREAM})
    set_run(repo, REPO, run.id, "completed", "success")
    fake_time.advance(executor.poll_interval_s)
    assert await executor.read_output(session, len(shown)) == second


async def test_without_live_log_only_the_artifact_speaks(
    repo: FakeGitHub, make_executor: Callable[..., ActionsExecutor], fake_time: FakeTime,
) -> None:
    executor = make_executor(live_log=False)
    session = session_for(executor)
    await executor.start(session, SPEC)
    run = only_run(repo)
    set_run(repo, REPO, run.id, "in_progress")
    write_log(repo, REPO, run.id, echoed(STREAM))
    fake_time.advance(executor.poll_interval_s)
    assert await executor.read_output(session, 0) == b""
    assert not executor.output_live(session) and executor.live_output is False
    assert repo.count("GET", r"/actions/jobs/\d+/logs$") == 0


async def test_a_step_that_failed_on_the_runner_fails_the_session_whatever_the_stream_says(
    repo: FakeGitHub, make_executor: Callable[..., ActionsExecutor], fake_time: FakeTime,
) -> None:
    executor = make_executor()
    session = session_for(executor)
    await executor.start(session, SPEC)
    run = only_run(repo)
    record = {"outcome": "failed", "error_class": "gate_failed", "error": "gate: gate failed: tests (exit 3 after 0.4s)",
              "failed_step": "gate", "steps": [{"step": "gate", "ok": False, "summary": "gate failed: tests", "error_class": "gate_failed"}]}
    upload_artifact(repo, REPO, run.id, "stream", {"stream.jsonl": STREAM, "session.json": json.dumps(record).encode()})
    set_run(repo, REPO, run.id, "completed", "failure")
    exit = await executor.wait(session)
    assert (exit.returncode, exit.error_class, exit.error) == (1, "gate_failed", "gate: gate failed: tests (exit 3 after 0.4s)")
    assert await executor.read_output(session, 0) == STREAM
    assert repo.count("GET", r"/actions/artifacts/\d+/zip$") == 1  # read once for both


async def test_a_run_whose_steps_passed_ends_as_its_conclusion_says(
    repo: FakeGitHub, make_executor: Callable[..., ActionsExecutor], fake_time: FakeTime,
) -> None:
    executor = make_executor()
    session = session_for(executor)
    await executor.start(session, SPEC)
    run = only_run(repo)
    record = {"outcome": "succeeded", "error_class": "", "error": "", "failed_step": "", "steps": []}
    upload_artifact(repo, REPO, run.id, "stream", {"stream.jsonl": STREAM, "session.json": json.dumps(record).encode()})
    set_run(repo, REPO, run.id, "completed", "success")
    exit = await executor.wait(session)
    assert (exit.returncode, exit.error_class, exit.error) == (0, "", "")


async def test_a_gate_the_orchestrator_has_fails_there_and_the_rounds_before_the_last_are_counted(
    repo: FakeGitHub, make_executor: Callable[..., ActionsExecutor], fake_time: FakeTime,
) -> None:
    executor = make_executor(pipeline={"steps": ["commits", "gate", "pull_request"]})
    session = session_for(executor)
    await executor.start(session, SPEC)
    run = only_run(repo)
    gate_failed = {"step": "gate", "ok": False, "summary": "gate failed: tests (exit 1 after 0.2s)", "error_class": "gate_failed",
                   "facts": {"gate": "failed", "gate_output": "1 failed", "gate_round": 2}}
    record = {"outcome": "failed", "error_class": "gate_failed", "error": "gate: gate failed: tests", "failed_step": "gate",
              "rounds": 2, "agent_exit_code": 0, "agent_rounds": [{"cost_usd": 0.5, "turns": 4}, {"cost_usd": 0.12, "turns": 3}],
              "steps": [{**gate_failed, "round": 1, "facts": {"gate_round": 1}}, {"step": "commits", "ok": True, "round": 2, "facts": {"commits": 2}},
                        {**gate_failed, "round": 2}]}
    upload_artifact(repo, REPO, run.id, "stream", {"stream.jsonl": STREAM, "session.json": json.dumps(record).encode()})
    set_run(repo, REPO, run.id, "completed", "failure")
    exit = await executor.wait(session)
    # The agent's own exit, and nothing failed at the exit: the orchestrator's gate step fails the session.
    assert (exit.returncode, exit.error_class, exit.error) == (0, "", "")
    # Round 1 is an attempt of its own (`ID.1`; a record from before rounds were numbered: by their order), round 2 the session's end.
    (first,) = exit.earlier_rounds
    assert (first.session_id, first.attempt, first.cost_usd, first.turns) == (f"{session.session_id}.1", session.attempt, 0.5, 4)
    assert (exit.last_round_cost_usd, exit.last_round_turns) == (0.12, 3)
    gate = await executor.step_outcome(session, "gate")
    assert gate is not None and (gate.ok, gate.error_class, gate.facts["gate_output"], gate.facts["gate_round"]) == (False, "gate_failed", "1 failed", 2)
    assert not gate.retry_with_prompt and gate.facts["gate_rounds_on_runner"] == 2
    commits = await executor.step_outcome(session, "commits")
    assert commits is not None and commits.ok and commits.facts == {"commits": 2}
    assert await executor.step_outcome(session, "pull_request") is None  # opened from the orchestrator
    assert repo.count("GET", r"/actions/artifacts/\d+/zip$") == 1



def someone_dispatches(github: FakeGitHub, issue: int, correlation: str) -> Any:
    """A run of the same workflow for `issue` queued by someone else (a second orchestrator, a person)."""
    state = actions_of(github, REPO)
    run = add_run(github, REPO, display_title=state.run_name.format(issue=issue, correlation=correlation), inputs={"issue": str(issue)})
    run.group = state.concurrency.format(issue=issue).lower()
    admit(github, REPO, run)
    return run


async def test_a_pending_run_github_cancels_for_a_newer_run_of_the_issue_is_superseded_not_failed(
    repo: FakeGitHub, make_executor: Callable[..., ActionsExecutor], fake_time: FakeTime,
) -> None:
    actions_of(repo, REPO).concurrency = "waterspider-issue-{issue}"
    holding = someone_dispatches(repo, 7, "ws-earlier")  # in progress in the issue's group
    executor = make_executor()
    session = session_for(executor)
    await executor.start(session, SPEC)
    ours = max(actions_of(repo, REPO).runs.values(), key=lambda run: run.id)
    assert ours.status == "pending" and holding.status == "queued"
    newer = someone_dispatches(repo, 7, "ws-later")
    assert (ours.conclusion, actions_of(repo, REPO).superseded) == ("cancelled", {ours.id: newer.id})
    with pytest.raises(ExecutorError) as raised:
        await executor.wait(session)
    assert raised.value.error_class == "host_down"  # placed again, not charged: neither the agent nor the operator did it
    assert f"run {ours.id} was cancelled by GitHub while pending: run {newer.id} of the same issue" in str(raised.value)
    state = await executor.state(session)
    assert state.exit is not None and "cancelled by GitHub while pending" in state.exit.error


async def test_a_run_cancelled_on_github_by_someone_is_said_so_and_ours_is_not_asked_about(
    repo: FakeGitHub, make_executor: Callable[..., ActionsExecutor], fake_time: FakeTime,
) -> None:
    executor = make_executor()
    session = session_for(executor)
    await executor.start(session, SPEC)
    run = only_run(repo)
    set_run(repo, REPO, run.id, "completed", "cancelled")  # someone pressed Cancel on GitHub
    exit = await executor.wait(session)
    assert exit.returncode is None and exit.cancelled == "cancelled on GitHub", "ends as a cancel, not a failure"
    state = await executor.state(session)
    assert state.exit is not None and state.exit.cancelled == exit.cancelled
    assert state.exit.error == f"run {run.id} was cancelled on GitHub, not by waterspider"
    other = session_for(executor, number=8, token="0th3r")
    await executor.start(other, SPEC)
    await executor.stop(other, grace_s=5.0)  # the operator's cancel: known as ours, no question asked
    listings = repo.count("GET", r"/workflows/.*/runs")
    exit = await executor.wait(other)
    assert exit.returncode is None and exit.error == "" and exit.cancelled == "", "ours: the engine knows why it stopped it"
    assert repo.count("GET", r"/workflows/.*/runs") == listings
    state = await executor.state(other)
    assert state.exit is not None and state.exit.error == "run %d cancelled by waterspider: the session was stopped" % max(actions_of(repo, REPO).runs)



async def test_a_workflow_without_the_pipeline_input_is_named_with_what_to_do(
    repo: FakeGitHub, make_executor: Callable[..., ActionsExecutor],
) -> None:
    actions_of(repo, REPO).declared_inputs = {"issue", "agent", "session", "attempt", "branch", "correlation"}  # an older copy
    executor = make_executor(pipeline={"steps": ["commits", "gate"]})
    with pytest.raises(ExecutorError) as raised:
        await executor.start(session_for(executor), SPEC)
    assert "has no `pipeline` input" in str(raised.value) and "examples/github-actions/agent-execute.yml" in str(raised.value)
    assert not actions_of(repo, REPO).runs
    await make_executor().start(session_for(executor, token="n0p1pe"), SPEC)  # without [pipeline] it sends none, as before
    assert len(actions_of(repo, REPO).runs) == 1


def test_the_orchestrators_pipeline_settings_reach_the_executor(tmp_path: Any, make_client: Callable[..., Any]) -> None:
    from waterspider_tui.config import Settings
    from waterspider_tui.engine.wiring import _executors

    gate = {"commands": [{"name": "tests", "run": "make test"}], "max_rounds": 3}
    settings = Settings(actions={"enabled": True, "repo": REPO}, pipeline={"steps": ["commits", "gate", "pull_request"], "gate": gate},
                        github={"repos": [REPO]})
    (executor,) = _executors(settings, workspace=None, sessions_dir=tmp_path, client=make_client())  # type: ignore[arg-type]
    assert isinstance(executor, ActionsExecutor)
    assert executor.pipeline == {"steps": ["commits", "gate", "push"], "gate": gate, "push": {"remote": "origin"}}
    sent = json.loads(executor._inputs(session_for(executor))["pipeline"])
    assert sent == executor.pipeline and executor.replayed_steps == {"commits", "gate"}
