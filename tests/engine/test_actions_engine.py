"""The real Engine with the GitHub Actions executor against the loopback fake GitHub.

Everything is real but GitHub itself: the fake's runner (tests/github/fake_actions_runner.py)
takes each dispatched run and runs `waterspider exec-issue` as a subprocess in its own clone,
which reads the issue from the fake, runs the simulated agent in a worktree and prints into the
job log the orchestrator follows; the artifact, the branch and the run's conclusion go back to
the fake as the workflow would put them there.
"""

from __future__ import annotations

import asyncio
import io
import json
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
import yaml

from tests.engine.conftest import write_issue
from tests.git_checkout import make_checkout
from tests.github.fake_actions_runner import FakeRunner
from tests.github.fake_github import DEFAULT_TOKEN, FakeGitHub, start_fake_github
from tests.github.fake_github_actions import FakeRun, actions_of, add_run, add_runner, admit, set_run
from tests.waiting import until
from waterspider_tui.adapters.agents.base import EnvPolicy
from waterspider_tui.adapters.agents.registry import make_agent
from waterspider_tui.adapters.executors.actions import ActionsExecutor
from waterspider_tui.adapters.executors.pool import ExecutorPool
from waterspider_tui.adapters.github.client import GitHubClient
from waterspider_tui.adapters.local_issues import LocalIssueSource
from waterspider_tui.adapters.pipeline.registry import make_steps
from waterspider_tui.core import commands as cmd
from waterspider_tui.core import events as ev
from waterspider_tui.core.models import ErrorClass, Outcome, TaskState
from waterspider_tui.core.scheduler import SchedulerConfig
from waterspider_tui.engine import Engine, SessionPolicy, open_store
from waterspider_tui.reporting.results import collect
from waterspider_tui.text.event_text import describe

REPO = "octo/app"
QUICK = {"duration_s": 0.5}


@dataclass
class World:
    github: FakeGitHub
    issues: Path
    store: Path
    runner: FakeRunner

    def add_issue(self, title: str) -> str:
        """The issue on GitHub (where the runner reads it) and in the folder the orchestrator polls."""
        issue = self.github.add_issue(REPO, title, f"Please: {title.lower()}.")
        write_issue(self.issues, issue.number, title=title, body=issue.body or "")
        return f"{REPO}#{issue.number}"

    def runs_of(self, key: str) -> list[FakeRun]:
        number = key.rsplit("#", 1)[1]
        with self.github.lock:
            return sorted((run for run in actions_of(self.github, REPO).runs.values() if run.inputs.get("issue") == number),
                          key=lambda run: run.id)


def workflow_inputs() -> dict[str, Any]:
    workflow = yaml.safe_load((Path(__file__).resolve().parents[2] / "examples" / "github-actions" / "agent-execute.yml").read_text())
    return dict(workflow.get("on", workflow.get(True))["workflow_dispatch"]["inputs"])


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    _, github = start_fake_github()
    github.add_repo(REPO)
    actions_of(github, REPO).run_name = "issue #{issue} ({correlation})"
    actions_of(github, REPO).declared_inputs = set(workflow_inputs())  # dispatches are checked against the example workflow
    add_runner(github, REPO, "mini-1", ["self-hosted", "macOS"])
    origin = make_checkout(tmp_path / "origin")
    checkout = tmp_path / "mini-1" / "checkout"
    subprocess.run(["git", "clone", "-q", str(origin), str(checkout)], check=True, capture_output=True)
    for key, value in (("user.name", "mini-1 runner"), ("user.email", "runner@waterspider.invalid")):
        subprocess.run(["git", "-C", str(checkout), "config", key, value], check=True)
    issues = tmp_path / "issues"
    issues.mkdir()
    options: dict[int, dict[str, Any]] = {}
    runner = FakeRunner(github, REPO, checkout, agent_options=lambda number: options.get(number, QUICK))
    runner.options = options  # type: ignore[attr-defined]
    runner.start()
    try:
        yield World(github, issues, tmp_path / "state" / "state.db", runner)
    finally:
        runner.stop()
        github.stop()


def make_engine(
    world: World, *, queued_deadline_s: float = 120.0, max_attempts: int = 1,
    pipeline: dict[str, Any] | None = None, agent: tuple[str, dict[str, Any]] = ("simulated", QUICK), stall_timeout_s: float = 60.0,
) -> Engine:
    """The orchestrator; `pipeline` is its [pipeline] (steps and their tables), which travels to the runner."""
    client = GitHubClient(world.github.base_url, DEFAULT_TOKEN, min_write_interval=0.0)
    executor = ActionsExecutor(
        client, REPO, "agent-execute.yml", slots=4, runner_labels=("self-hosted", "macOS"),
        queued_deadline_s=queued_deadline_s, poll_interval_s=0.2, find_timeout_s=30.0, pipeline=pipeline,
    )
    steps = list((pipeline or {}).get("steps", ["commits"]))
    return Engine(
        store=open_store(world.store), sources=[(LocalIssueSource(world.issues, REPO), 0.2)],
        agent=make_agent(agent[0], dict(agent[1]), EnvPolicy()), pool=ExecutorPool([executor]),
        scheduler=SchedulerConfig(capacity=4),
        policy=SessionPolicy(stall_timeout_s=stall_timeout_s, timeout_s=300.0, grace_s=1.0, max_attempts=max_attempts, retry_backoff_s=0.0),
        steps=make_steps(steps, {name: value for name, value in (pipeline or {}).items() if name != "steps"}), on_close=[client.aclose],
    )


def finished(engine: Engine, *keys: str) -> Callable[[], bool]:
    def check() -> bool:
        tasks = engine.snapshot.tasks
        return all(key in tasks and tasks[key].state.is_final for key in keys)
    return check


def session_finished_events(world: World, key: str) -> list[ev.SessionFinished]:
    log = open_store(world.store).log
    try:
        return [event for event in log.read() if isinstance(event, ev.SessionFinished) and event.issue == key]
    finally:
        log.close()


async def test_issues_run_on_runners_and_their_results_land_in_the_store(world: World) -> None:
    done_key = world.add_issue("Add a greeting")
    failing_key = world.add_issue("Break the build")
    world.runner.options[2] = {"duration_s": 0.5, "fail_rate": 1.0, "fail_mode": "max_turns"}  # type: ignore[attr-defined]
    engine = make_engine(world)
    running = asyncio.create_task(engine.run())
    try:
        await until(finished(engine, done_key, failing_key))
    finally:
        await engine.stop(leave_running=False)
        await running
    done = engine.snapshot.tasks[done_key]
    assert done.state is TaskState.SUCCEEDED
    assert done.result is not None and done.result.turns > 0 and done.result.cost_usd > 0
    assert done.result.commits == 1  # the commits step asked GitHub about the branch the run pushed
    assert done.session is not None and done.session.executor == "actions" and done.session.host == "actions"
    failed = engine.snapshot.tasks[failing_key]
    assert failed.state is TaskState.FAILED
    assert failed.result is not None and failed.result.error_class is ErrorClass.MAX_TURNS
    (run,) = world.runs_of(failing_key)
    assert (run.conclusion, world.runner.exit_codes[run.id]) == ("failure", 1)
    assert any("Write waterspider-work/issue-1.md" in entry.text for entry in await engine.load_session_log(done_key))


async def test_a_gate_that_fails_on_the_runner_fails_the_issue_as_gate_failed(world: World) -> None:
    key = world.add_issue("Pass the tests")
    gate = {"commands": [{"name": "tests", "run": "echo 1 failed; exit 1"}], "max_rounds": 0}
    world.runner.env[1] = {"WATERSPIDER_PIPELINE__STEPS": '["commits", "gate"]', "WATERSPIDER_PIPELINE__GATE": json.dumps(gate)}
    engine = make_engine(world)
    running = asyncio.create_task(engine.run())
    try:
        await until(finished(engine, key))
    finally:
        await engine.stop(leave_running=False)
        await running
    task = engine.snapshot.tasks[key]
    assert task.state is TaskState.FAILED
    assert task.result is not None and task.result.error_class is ErrorClass.GATE_FAILED
    assert task.result.error.startswith("gate: gate failed: tests") and task.result.turns > 0
    (run,) = world.runs_of(key)
    assert run.conclusion == "failure"


async def test_a_run_no_runner_takes_is_cancelled_at_its_deadline_and_placed_again(world: World) -> None:
    key = world.add_issue("Wait for a runner")
    world.runner.hold(1)  # the first run stays queued: no runner online for it
    engine = make_engine(world, queued_deadline_s=1.5)
    running = asyncio.create_task(engine.run())
    try:
        await until(finished(engine, key))
    finally:
        await engine.stop(leave_running=False)
        await running
    task = engine.snapshot.tasks[key]
    assert task.state is TaskState.SUCCEEDED
    first, second = world.runs_of(key)
    assert first.id in actions_of(world.github, REPO).cancels and first.conclusion == "cancelled"
    assert second.conclusion == "success"
    assert [attempt.error_class for attempt in task.history] == [ErrorClass.HOST_DOWN, None]
    assert "stayed queued" in task.history[0].error


async def test_the_operator_cancels_a_run_while_its_output_is_followed_live(world: World) -> None:
    key = world.add_issue("A long one")
    world.runner.options[1] = {"duration_s": 60.0}  # type: ignore[attr-defined]
    engine = make_engine(world)
    running = asyncio.create_task(engine.run())
    try:
        # The agent's lines reach the orchestrator through the job log while the run is in progress.
        await until(lambda: any(entry.kind == "tool" for entry in engine.session_log(key)))
        (run,) = world.runs_of(key)
        assert run.status == "in_progress" and not run.artifacts
        await engine.submit(cmd.Cancel(issue=key))
        await until(finished(engine, key))
        await until(lambda: run.id in world.runner.exit_codes)
    finally:
        await engine.stop(leave_running=False)
        await running
    task = engine.snapshot.tasks[key]
    assert task.state is TaskState.CANCELLED
    assert task.result is not None and task.result.outcome is Outcome.CANCELLED and task.result.error == "cancelled by operator"
    assert run.conclusion == "cancelled" and run.id in actions_of(world.github, REPO).cancels
    assert world.runner.exit_codes[run.id] == 130  # exec-issue stopped its agent and said so


async def test_a_run_cancelled_by_hand_on_github_ends_cancelled_as_the_operators_cancel_does(world: World) -> None:
    key = world.add_issue("Cancelled on the web")
    world.runner.options[1] = {"duration_s": 60.0}  # type: ignore[attr-defined]
    engine = make_engine(world, max_attempts=3)
    running = asyncio.create_task(engine.run())
    try:
        await until(lambda: any(entry.kind == "tool" for entry in engine.session_log(key)))
        (run,) = world.runs_of(key)
        set_run(world.github, REPO, run.id, "completed", "cancelled")  # someone pressed "Cancel workflow" on GitHub
        await until(finished(engine, key))
        await until(lambda: run.id in world.runner.exit_codes)
    finally:
        await engine.stop(leave_running=False)
        await running
    task = engine.snapshot.tasks[key]
    assert task.state is TaskState.CANCELLED, task.result
    assert task.result is not None and task.result.outcome is Outcome.CANCELLED and task.result.error_class is None
    assert task.result.error == "cancelled on GitHub"
    assert run.id not in actions_of(world.github, REPO).cancels, "not ours"
    assert len(world.runs_of(key)) == 1 and len(task.history) == 1, "not retried as a failure"
    (ended,) = session_finished_events(world, key)
    assert describe(ended).startswith("#1 cancelled (cancelled on GitHub) after ")
    assert not ended.will_retry


async def test_a_run_that_ended_while_the_orchestrator_was_down_is_collected_once(world: World) -> None:
    key = world.add_issue("Finish while nobody watches")
    world.runner.options[1] = {"duration_s": 4.0}  # type: ignore[attr-defined]
    first = make_engine(world)
    running = asyncio.create_task(first.run())
    try:
        await until(lambda: bool(world.runs_of(key)) and world.runs_of(key)[0].status == "in_progress")
    finally:
        await first.stop(leave_running=True)
        await running
    assert first.snapshot.tasks[key].state is TaskState.RUNNING
    (run,) = world.runs_of(key)
    await until(lambda: run.status == "completed")  # it ends while no orchestrator runs
    second = make_engine(world)
    running = asyncio.create_task(second.run())
    try:
        await until(finished(second, key))
        await asyncio.sleep(1.0)  # time enough for a second collection, were there one
    finally:
        await second.stop(leave_running=False)
        await running
    task = second.snapshot.tasks[key]
    assert task.state is TaskState.SUCCEEDED and task.result is not None and task.result.turns > 0
    assert len(world.runs_of(key)) == 1  # found again by its correlation id, not dispatched again
    assert len(session_finished_events(world, key)) == 1


def stored_session(world: World, key: str):  # type: ignore[no-untyped-def]
    store = open_store(world.store)
    try:
        task = store.snapshot.tasks[key]
        assert task.session is not None
        return task.session
    finally:
        store.log.close()


def actions_requests(world: World) -> list[str]:
    with world.github.lock:
        return [f"{r.method} {r.path}" for r in world.github.requests if "/actions/" in r.path]


async def test_a_restart_asks_for_the_recorded_run_by_its_id_and_lists_no_runs(world: World) -> None:
    key = world.add_issue("Run across a restart")
    world.runner.options[1] = {"duration_s": 4.0}  # type: ignore[attr-defined]
    first = make_engine(world)
    running = asyncio.create_task(first.run())
    try:
        await until(lambda: bool(world.runs_of(key)) and world.runs_of(key)[0].status == "in_progress")
        (run,) = world.runs_of(key)
        session = first.snapshot.tasks[key].session
        assert session is not None  # recorded as soon as the dispatch answered
        assert (session.external_id, session.external_url) == (str(run.id), f"https://github.com/{REPO}/actions/runs/{run.id}")
    finally:
        await first.stop(leave_running=True)
        await running
    assert stored_session(world, key).external_id == str(run.id)  # durable: in the log, not only in memory
    with world.github.lock:
        world.github.requests.clear()
    second = make_engine(world)
    running = asyncio.create_task(second.run())
    try:
        await until(finished(second, key))
    finally:
        await second.stop(leave_running=False)
        await running
    asked = actions_requests(world)
    assert asked[0] == f"GET /repos/{REPO}/actions/runs/{run.id}"  # the first question is the run by its id
    assert not [line for line in asked if "/workflows/" in line]  # no list of runs, no dispatch
    assert second.snapshot.tasks[key].state is TaskState.SUCCEEDED
    assert len(world.runs_of(key)) == 1 and len(session_finished_events(world, key)) == 1


async def test_a_stop_between_the_dispatch_and_its_record_finds_the_run_once_by_its_name(world: World) -> None:
    key = world.add_issue("Dispatched, not yet recorded")
    state = actions_of(world.github, REPO)
    state.run_details = False  # an older server answers the dispatch 204, without the run's id ...
    state.listing_delay = 1_000_000  # ... and its listings do not show the new run yet
    world.runner.options[1] = {"duration_s": 2.0}  # type: ignore[attr-defined]
    first = make_engine(world)
    running = asyncio.create_task(first.run())
    try:
        await until(lambda: bool(world.runs_of(key)))
        await until(lambda: len([line for line in actions_requests(world) if line.startswith("GET") and "/workflows/" in line]) >= 2)
    finally:
        await first.stop(leave_running=True)  # stopped while still looking for the run it dispatched
        await running
    assert stored_session(world, key).external_id == ""  # no id was recorded: the window this test is about
    with world.github.lock:
        state.hidden.clear()
        state.listing_delay = 0
    second = make_engine(world)
    running = asyncio.create_task(second.run())
    try:
        await until(finished(second, key))
        await asyncio.sleep(1.0)  # time enough for a second dispatch or collection, were there one
    finally:
        await second.stop(leave_running=False)
        await running
    (run,) = world.runs_of(key)  # found again by its correlation id, never dispatched twice
    dispatches = [line for line in actions_requests(world) if line.startswith("POST") and line.endswith("/dispatches")]
    assert len(dispatches) == 1
    task = second.snapshot.tasks[key]
    assert task.state is TaskState.SUCCEEDED and task.session is not None and task.session.external_id == str(run.id)
    assert len(session_finished_events(world, key)) == 1


FIXING_AGENT = """\
import os, pathlib, subprocess
follow_up = os.environ.get("WATERSPIDER_FOLLOW_UP_FILE", "")
name = "fixed.txt" if follow_up else "work.txt"
pathlib.Path(name).write_text(pathlib.Path(follow_up).read_text() if follow_up else "work\\n")
subprocess.run(["git", "add", name], check=True)
subprocess.run(["git", "-c", "user.name=agent", "-c", "user.email=agent@waterspider.invalid", "commit", "-qm", f"write {name}"], check=True)
print(f"committed {name}" + (" after the gate's feedback" if follow_up else ""))
"""
"""An agent that does its work, and on a follow-up writes what it was told into fixed.txt."""


def fixing_agent(world: World, tmp_path: Path, number: int) -> tuple[str, dict[str, Any]]:
    script = tmp_path / "fixing_agent.py"
    script.write_text(FIXING_AGENT)
    options = {"argv": [sys.executable, str(script)]}
    world.runner.options[number] = options  # type: ignore[attr-defined]
    return "command", options


def gate_steps(world: World, key: str) -> list[ev.StepFinished]:
    log = open_store(world.store).log
    try:
        return [event for event in log.read() if isinstance(event, ev.StepFinished) and event.issue == key and event.step == "gate"]
    finally:
        log.close()


def runner_git(world: World, *args: str) -> str:
    return subprocess.run(["git", "-C", str(world.runner.checkout), *args], capture_output=True, text=True, check=True).stdout


async def test_the_orchestrators_gate_runs_on_the_runner_and_sends_the_work_back_to_its_agent(world: World, tmp_path: Path) -> None:
    key = world.add_issue("Pass the gate")
    gate = {"commands": [{"name": "fixed", "run": "test -f fixed.txt || { echo 'fixed.txt is missing'; exit 1; }"}], "max_rounds": 2}
    pipeline = {"steps": ["commits", "gate", "push"], "gate": gate}
    engine = make_engine(world, pipeline=pipeline, agent=fixing_agent(world, tmp_path, 1))
    running = asyncio.create_task(engine.run())
    try:
        await until(finished(engine, key), timeout=120)
    finally:
        await engine.stop(leave_running=False)
        await running
    task = engine.snapshot.tasks[key]
    assert task.state is TaskState.SUCCEEDED, task.result
    (run,) = world.runs_of(key)  # the rounds happened on the runner, in the one run
    assert json.loads(run.inputs["pipeline"]) == {"steps": ["commits", "gate", "push"], "push": {"remote": "origin"}, "gate": gate}
    # The gate's output reached the agent on the runner, which fixed the branch in its second round.
    assert "fixed.txt is missing" in runner_git(world, "show", "feature/issue-1:fixed.txt")
    (passed,) = gate_steps(world, key)  # recorded here as a local gate records itself
    assert passed.ok and passed.summary.startswith("gate passed: commits ok") and "fixed ok" in passed.summary
    assert passed.facts["gate"] == "passed" and passed.facts["gate_rounds_on_runner"] == 2
    # The last round's own commit (each round counts the commits made since it started, as local rounds do).
    assert task.result is not None and task.result.commits == 1 and task.result.error_class is None
    # Each round is an attempt of its own, as a local gate round is: the first sent back, the second the end.
    assert [(a.attempt, a.outcome, a.error_class, a.will_retry) for a in task.history] == [
        (1, Outcome.FAILED, ErrorClass.GATE_FAILED, True), (2, Outcome.SUCCEEDED, None, False)]
    assert task.history[0].error.startswith("gate: gate failed: fixed (exit 1")
    assert task.attempts == 2 and task.session is not None
    assert [a.session_id for a in task.history] == [f"{task.session.session_id}.1", task.session.session_id]


async def test_a_gate_still_failing_after_its_rounds_on_the_runner_fails_the_issue_with_its_output(world: World, tmp_path: Path) -> None:
    key = world.add_issue("Never green")
    gate = {"commands": [{"name": "tests", "run": "echo '1 failed: test_login'; exit 1"}], "max_rounds": 1}
    engine = make_engine(world, pipeline={"steps": ["commits", "gate", "push"], "gate": gate}, agent=fixing_agent(world, tmp_path, 1))
    running = asyncio.create_task(engine.run())
    try:
        await until(finished(engine, key), timeout=120)
    finally:
        await engine.stop(leave_running=False)
        await running
    task = engine.snapshot.tasks[key]
    assert task.state is TaskState.FAILED
    assert task.result is not None and task.result.error_class is ErrorClass.GATE_FAILED
    assert task.result.error.startswith("gate: gate failed: tests (exit 1")
    (failed,) = gate_steps(world, key)
    assert not failed.ok and failed.error_class == "gate_failed"
    assert "1 failed: test_login" in str(failed.facts["gate_output"]) and failed.facts["gate_round"] == 2
    assert "retry_prompt" not in failed.facts  # the runner spent the rounds: nothing is sent back from here
    (run,) = world.runs_of(key)
    assert run.conclusion == "failure"
    assert [(a.attempt, a.error_class, a.will_retry) for a in task.history] == [(1, ErrorClass.GATE_FAILED, True), (2, ErrorClass.GATE_FAILED, False)]
    assert "1 failed: test_login" in runner_git(world, "show", "feature/issue-1:fixed.txt")  # its second round had the output



async def test_the_rounds_on_the_runner_each_cost_their_own_part_in_the_history_the_report_and_the_days_spend(world: World) -> None:
    """The simulated agent reports as Claude does: each result's own part beside a running total of
    the resumed conversation. Two rounds: the run's spend is theirs added up, not counted twice."""
    key = world.add_issue("Red twice")
    gate = {"commands": [{"name": "tests", "run": "echo '1 failed'; exit 1"}], "max_rounds": 1}
    engine = make_engine(world, pipeline={"steps": ["commits", "gate", "push"], "gate": gate})
    running = asyncio.create_task(engine.run())
    try:
        await until(finished(engine, key), timeout=120)
        # Each attempt's log is its round's: the first round's part of the run's stream, then the run.
        first_round = await engine.load_session_log(key, 1)
        whole_run = await engine.load_session_log(key, 2)
    finally:
        await engine.stop(leave_running=False)
        await running
    assert [entry.kind for entry in first_round].count("result") == 1 and first_round[-1].kind == "result"
    assert [entry.kind for entry in whole_run].count("result") == 2
    task = engine.snapshot.tasks[key]
    (run,) = world.runs_of(key)
    stream = zipfile.ZipFile(io.BytesIO(next(iter(run.artifacts.values()))[1])).read("stream.jsonl").decode()
    results = [json.loads(line) for line in stream.splitlines() if '"type": "result"' in line or '"type":"result"' in line]
    own = [sum(usage["costUSD"] for usage in result["model_usage_since_last_result"].values()) for result in results]
    assert len(own) == 2 and all(own)
    assert [a.cost_usd for a in task.history] == pytest.approx(own)
    assert sum(engine.snapshot.spend_by_day.values()) == pytest.approx(sum(own))
    figures = collect(open_store(world.store).log.read())
    assert [(row.attempt, row.outcome, row.cost_usd) for row in figures.rows] == [(1, "failed", pytest.approx(own[0])), (2, "failed", pytest.approx(own[1]))]
    (issue,) = figures.issues
    # the round the gate sent back and the one after it are rounds of one attempt, each with its own cost
    assert (issue.sessions, issue.cost_usd, issue.gate) == (1, pytest.approx(sum(own)), "failed after 2 rounds")


def warnings_of(world: World, key: str) -> list[str]:
    log = open_store(world.store).log
    try:
        return [event.message for event in log.read() if isinstance(event, ev.Warned) and event.issue == key]
    finally:
        log.close()


async def test_a_placement_again_leaves_the_older_run_cancelled_by_github_as_neither_a_cancel_nor_a_failure(world: World) -> None:
    key = world.add_issue("Wait in the issue's group")
    state = actions_of(world.github, REPO)
    state.concurrency = "waterspider-issue-{issue}"  # the example workflow's group
    # Someone's run of the same issue holds the group and no runner takes it: ours waits pending behind it.
    holding = add_run(world.github, REPO, display_title="issue #1 (ws-someone-else)", inputs={"issue": "1"})
    holding.group = "waterspider-issue-1"
    world.runner.hold(1)
    # Our cancel at the queued deadline does not get through, so the older run is still pending when
    # the issue is placed again: GitHub cancels it then, for the newer run of its group.
    world.github.inject(500, times=50, method="POST", path_contains="/cancel")
    engine = make_engine(world, queued_deadline_s=3.0)
    running = asyncio.create_task(engine.run())
    try:
        await until(lambda: len(world.runs_of(key)) >= 3, timeout=60)
        holding_run, first, second = world.runs_of(key)
        assert holding_run.id == holding.id and first.conclusion == "cancelled" and second.status == "pending"
        assert state.superseded == {first.id: second.id}
        set_run(world.github, REPO, holding.id, "completed", "success")  # the group frees: the newer run is queued
        await until(finished(engine, key), timeout=60)
        await until(lambda: any("cancelled by GitHub while pending" in message for message in warnings_of(world, key)), timeout=30)
    finally:
        await engine.stop(leave_running=False)
        await running
    task = engine.snapshot.tasks[key]
    assert task.state is TaskState.SUCCEEDED and second.conclusion == "success"
    assert [attempt.error_class for attempt in task.history] == [ErrorClass.HOST_DOWN, None]  # the first placement, not charged
    assert first.id not in state.cancels and world.github.count("POST", rf"/runs/{first.id}/cancel", 500) >= 1  # ours never landed
    outcomes = [event.result.outcome for event in session_finished_events(world, key)]
    assert Outcome.CANCELLED not in outcomes and len(outcomes) == 2
    (settled,) = [message for message in warnings_of(world, key) if f"run {first.id}" in message]
    assert f"run {first.id} was cancelled by GitHub while pending: run {second.id} of the same issue" in settled
    assert task.session is not None and f"session {task.session.session_id}" in settled  # the one that counts



async def test_a_long_gate_on_the_runner_is_no_stall_of_its_silent_agent(world: World, tmp_path: Path) -> None:
    key = world.add_issue("Slow tests")
    gate = {"commands": [{"name": "slow tests", "run": "sleep 14"}], "max_rounds": 0}
    engine = make_engine(world, pipeline={"steps": ["commits", "gate", "push"], "gate": gate},
                         agent=fixing_agent(world, tmp_path, 1), stall_timeout_s=8.0)
    running = asyncio.create_task(engine.run())
    try:
        await until(finished(engine, key), timeout=120)
    finally:
        await engine.stop(leave_running=False)
        await running
    task = engine.snapshot.tasks[key]
    assert task.state is TaskState.SUCCEEDED, task.result  # 14 s of silence while the gate ran, with 8 s allowed the agent (its own start-up on a loaded machine stays inside it)
    (run,) = world.runs_of(key)
    assert b"ws-step| gate started" in run.log and b"ws-step| gate ended" in run.log
