"""The example workflow agrees with the executor that dispatches it and the command it runs.

actionlint is not at hand offline, so the file is read as YAML and checked for what the
orchestrator relies on: the inputs it sends, the correlation id in `run-name`, least-privilege
permissions, one run per issue at a time, and `waterspider exec-issue` with options it has.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from waterspider_tui.adapters.executors.actions import ARTIFACT_NAME, STREAM_FILE, ActionsExecutor, correlation_id
from waterspider_tui.adapters.executors.actions_stream import RECORD_FILE
from waterspider_tui.cli.exec_issue import exec_issue
from waterspider_tui.core.models import SessionInfo

WORKFLOW = Path(__file__).resolve().parents[2] / "examples" / "github-actions" / "agent-execute.yml"


@pytest.fixture(scope="module")
def workflow() -> dict[str, Any]:
    loaded = yaml.safe_load(WORKFLOW.read_text())
    loaded["on"] = loaded.pop(True, loaded.get("on"))  # YAML 1.1 reads the key `on` as true
    return loaded


def steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return list(workflow["jobs"]["agent"]["steps"])


def step(workflow: dict[str, Any], name: str) -> dict[str, Any]:
    return next(item for item in steps(workflow) if item.get("name") == name)


def test_the_inputs_are_exactly_those_the_executor_sends(workflow: dict[str, Any]) -> None:
    executor = ActionsExecutor(client=None, repo="octo/app", workflow=WORKFLOW.name, pipeline={"steps": ["commits", "gate"]})  # type: ignore[arg-type]
    session = SessionInfo(session_id="7-1-abcd1234", issue="octo/app#7", attempt=1, executor="actions", host="actions",
                          worktree=".worktrees/issue-7", branch="feature/issue-7", log_path="", started_at=0.0, agent="claude")
    sent = executor._inputs(session)
    declared = workflow["on"]["workflow_dispatch"]["inputs"]
    assert set(declared) == set(sent)
    assert all(spec["type"] == "string" for spec in declared.values())
    # Only the pipeline may be left out: an orchestrator before it leaves the steps to WATERSPIDER_STEPS.
    assert {name for name, spec in declared.items() if not spec["required"]} == {"pipeline"}
    assert declared["pipeline"]["default"] == ""
    assert len(declared) <= 25  # GitHub's limit on workflow_dispatch inputs


def test_the_run_name_carries_the_correlation_id(workflow: dict[str, Any]) -> None:
    run_name = workflow["run-name"]
    assert "${{ inputs.correlation }}" in run_name
    shown = run_name.replace("${{ inputs.issue }}", "7").replace("${{ inputs.correlation }}", correlation_id("7-1-abcd1234"))
    from waterspider_tui.adapters.executors.actions import carries

    assert carries({"display_title": shown}, correlation_id("7-1-abcd1234"))
    assert not carries({"display_title": shown}, correlation_id("7-1-abcd"))


def test_permissions_are_least_privilege(workflow: dict[str, Any]) -> None:
    assert workflow["permissions"] == {"contents": "write", "issues": "read"}


def test_one_issue_runs_once_at_a_time(workflow: dict[str, Any]) -> None:
    concurrency = workflow["concurrency"]
    assert "${{ inputs.issue }}" in concurrency["group"]
    assert concurrency["cancel-in-progress"] is False  # a running session is never cancelled by the next dispatch


def test_inputs_reach_scripts_only_through_the_environment(workflow: dict[str, Any]) -> None:
    for item in steps(workflow):
        assert "${{" not in str(item.get("run", "")), item["name"]
    job_env = workflow["jobs"]["agent"]["env"]
    assert {job_env[name] for name in ("ISSUE", "SESSION", "ATTEMPT", "AGENT")} == {
        "${{ inputs.issue }}", "${{ inputs.session }}", "${{ inputs.attempt }}", "${{ inputs.agent }}"}
    assert not any("runner." in str(value) for value in job_env.values())  # no `runner` context at job level


def test_the_job_runs_exec_issue_with_options_it_has(workflow: dict[str, Any]) -> None:
    run = step(workflow, "Run the session")
    words = shlex.split(run["run"])
    assert words[:2] == ["waterspider", "exec-issue"]
    sample = {"$ISSUE": "7", "$ATTEMPT": "1", "$AGENT": "claude"}  # what the check step lets through
    context = exec_issue.make_context("exec-issue", [sample.get(word, word) for word in words[2:]])  # unknown options raise
    assert context.params["echo_stream"] is True
    assert words[words.index("--session") + 1] == "$SESSION"
    assert words[words.index("--issue") + 1] == "$ISSUE"
    assert words[words.index("--branch") + 1] == "$BRANCH"
    assert words[words.index("--pipeline") + 1] == "$PIPELINE"
    assert workflow["jobs"]["agent"]["env"]["PIPELINE"] == "${{ inputs.pipeline }}"
    assert run["env"]["GITHUB_TOKEN"] == "${{ github.token }}"
    assert set(run["env"]) >= {"ANTHROPIC_API_KEY", "OPENAI_API_KEY"}
    assert not any("secrets." in str(item.get("env", {})) for item in steps(workflow) if item is not run)


def test_the_stream_file_is_uploaded_as_the_artifact_the_executor_reads(workflow: dict[str, Any]) -> None:
    run = step(workflow, "Run the session")
    upload = step(workflow, "Upload the stream")
    assert upload["uses"].startswith("actions/upload-artifact@")
    assert upload["if"] == "always()"  # a failed or cancelled session still leaves its stream
    assert upload["with"]["name"] == ARTIFACT_NAME
    stream, record = upload["with"]["path"].splitlines()
    assert stream == run["env"]["STREAM_FILE"] and Path(stream).name == STREAM_FILE
    assert Path(record) == Path(stream).with_name(RECORD_FILE)  # exec-issue writes it beside the stream


def test_the_check_step_refuses_what_the_inputs_must_not_be(workflow: dict[str, Any]) -> None:
    checks = step(workflow, "Check inputs")["run"]
    patterns = dict(re.findall(r'\[\[ "\$(\w+)" =~ (\S+) \]\]', checks))
    assert set(patterns) == {"ISSUE", "ATTEMPT", "BRANCH", "AGENT", "SESSION"}
    assert re.fullmatch(patterns["SESSION"], "7-1-abcd1234") and not re.fullmatch(patterns["SESSION"], "7; rm -rf /")
    assert re.fullmatch(patterns["BRANCH"], "feature/issue-7") and not re.fullmatch(patterns["BRANCH"], "main")
    with pytest.raises(click.exceptions.UsageError):
        exec_issue.make_context("exec-issue", ["--issue", "x", "--session", "s"])


def test_the_runner_gets_the_steps_that_need_the_worktree_and_always_a_push() -> None:
    from waterspider_tui.adapters.executors.actions import runner_pipeline

    gate = {"commands": [{"name": "tests", "run": "make test"}], "max_rounds": 1}
    full = {"steps": ["commits", "gate", "push", "pull_request"], "gate": gate, "push": {"force": True}, "pull_request": {"draft": True}}
    assert runner_pipeline(full) == {"steps": ["commits", "gate", "push"], "gate": gate, "push": {"force": True, "remote": "origin"}}
    # A branch only in the runner's worktree is lost with the job: it is pushed even where the orchestrator keeps its branches.
    assert runner_pipeline({"steps": ["commits"], "push": {"remote": ""}}) == {"steps": ["commits", "push"], "push": {"remote": "origin"}}
    executor = ActionsExecutor(client=None, repo="octo/app", workflow=WORKFLOW.name, pipeline=full)  # type: ignore[arg-type]
    assert executor.replayed_steps == {"commits", "gate", "push"}  # the pull request is opened from the orchestrator
