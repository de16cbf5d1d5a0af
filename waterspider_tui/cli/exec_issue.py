"""`waterspider exec-issue`: one session of one issue here, as a GitHub Actions runner runs it.

The orchestrator dispatches the workflow in `examples/github-actions/`; its job runs this. The
session is exactly a local one: worktree on `feature/issue-N`, the agent, its parser, the
`[pipeline]` steps (the orchestrator's, given with `--pipeline`; else this checkout's settings),
a failed gate sending the work back to the agent up to its `max_rounds`. The job log gets
readable lines (and, with `--echo-stream`, the stream-json lines behind a prefix and a line as
each step starts and ends, so the orchestrator follows the run live); the stream-json goes to
`--stream-file` and how the session ended (each step of each round too) to `session.json`
beside it, which the workflow uploads together as the `stream` artifact. Without `--stream-file`
they go where they do not dirty the checkout: `$RUNNER_TEMP/waterspider/` on a runner (where
the workflow uploads them from), else `.waterspider/exec/SESSION/` in the checkout, a folder
git is told to ignore (`.git/info/exclude`).

Exit codes: 0 the session succeeded, 1 it failed (the agent, or a step after it), 2 nothing ran
(a bad flag or setting, the issue not found), 130 the job was cancelled.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from waterspider_tui.adapters.executors.actions_stream import RECORD_FILE, write_record
from waterspider_tui.cli.common import AGENT_KINDS, fail, overrides, settings_from
from waterspider_tui.config import ConfigError
from waterspider_tui.exit_codes import EXIT_DONE, EXIT_INTERRUPTED, EXIT_NOT_DONE
from waterspider_tui.text.plural import counted

if TYPE_CHECKING:
    from waterspider_tui.adapters.github.client import GitHubClient
    from waterspider_tui.config import Settings
    from waterspider_tui.engine.single_session import SessionEnd


def _write(line: str) -> None:
    click.echo(line)
    sys.stdout.flush()  # the job log shows what arrived: nothing may wait in a buffer


def multi_repo_for(branch: str, repo: str, number: int) -> bool:
    """Whether the orchestrator named the branch as it does with several repositories; a branch
    neither way is refused (the session would push somewhere the orchestrator does not look)."""
    from waterspider_tui.adapters.workspace import branch_name

    single, several = branch_name(number, repo, False), branch_name(number, repo, True)
    if not branch or branch == single:
        return False
    if branch == several:
        return True
    expected = single if several == single else f"{single}, or {several} when the orchestrator works on several repositories"
    fail(f"--branch {branch} is not the branch of issue #{number} ({expected})")


STREAM_FILE_NAME = "stream.jsonl"


def default_stream_file(repo_path: Path, session_id: str) -> Path:
    """Where the stream goes without `--stream-file`: the runner's scratch folder on a CI runner
    (`$RUNNER_TEMP/waterspider/`, what the workflow uploads), else the checkout's `.waterspider/`
    folder, which git ignores, one folder per session so a reused checkout keeps each run's."""
    runner_temp = os.environ.get("RUNNER_TEMP", "")
    if runner_temp:
        return Path(runner_temp) / "waterspider" / STREAM_FILE_NAME
    return repo_path / ".waterspider" / "exec" / session_id / STREAM_FILE_NAME


def ignore_if_inside(repo_path: Path, stream_file: Path) -> None:
    """Keep the checkout's `.waterspider/` folder out of `git status` when the stream goes there."""
    from waterspider_tui.adapters.workspace import WorkspaceError, WorkspaceManager

    folder = (repo_path / ".waterspider").resolve()
    if not stream_file.resolve().is_relative_to(folder):
        return
    try:
        WorkspaceManager(repo_path).ignore(folder)
    except WorkspaceError:
        pass  # not a checkout: the session itself says so


async def _run(settings: Settings, repo: str, number: int, session_id: str, attempt: int, stream_file: Path, echo_stream: bool, multi_repo: bool) -> SessionEnd:
    from waterspider_tui.adapters.github.errors import GitHubError
    from waterspider_tui.engine.single_session import fetch_github_issue, folder_issue, run_single_session

    client = None
    try:
        if settings.issues.dir is not None:
            issue = await folder_issue(settings.issues.dir, repo or settings.issues.repo_name, number)
        else:
            client = _client(settings)
            try:
                issue = await fetch_github_issue(client, repo, number)
            except GitHubError as error:
                raise ConfigError(f"{repo}#{number}: the issue cannot be read: {error}") from error
        _write(f"waterspider: issue #{issue.number} {issue.title} (session {session_id}, attempt {attempt}, agent {settings.agent.kind})")
        if client is None and "pull_request" in settings.pipeline.steps:
            client, settings = _pull_request_client(settings)
        return await run_single_session(
            settings, issue, session_id=session_id, attempt=attempt, stream_file=stream_file,
            write=_write, echo_stream=echo_stream, github=client, multi_repo=multi_repo,
        )
    finally:
        if client is not None:
            await client.aclose()


def _client(settings: Settings) -> GitHubClient:
    """A GitHub client with the token of the environment or `gh`; ConfigError (one line) without one."""
    from waterspider_tui.adapters.github import GitHubClient, TokenNotFound, discover_token

    try:
        token = discover_token()
    except TokenNotFound as error:
        raise ConfigError(str(error)) from error
    return GitHubClient(settings.github.api_url, token, min_write_interval=settings.github.min_write_interval_s)


def _pull_request_client(settings: Settings) -> tuple[GitHubClient | None, Settings]:
    """For an issue of a folder, the pull-request step's client; without a token the session still
    runs (its branch is the work), the step left out with a line saying why."""
    where = str(settings.pipeline.pull_request.get("repo", "")).strip() or "GitHub"
    try:
        return _client(settings), settings
    except ConfigError as error:
        _write(f"waterspider: no pull request in {where}: {str(error)[:1].lower()}{str(error)[1:]}")
    steps = [step for step in settings.pipeline.steps if step != "pull_request"]
    return None, settings.model_copy(update={"pipeline": settings.pipeline.model_copy(update={"steps": steps})})


def pipeline_overrides(text: str) -> dict[str, Any]:
    """`--pipeline`: the orchestrator's `[pipeline]` as compact JSON (`steps` and each step's table),
    which stands over this checkout's own, so the runner checks the branch as the orchestrator
    was told to."""
    try:
        pipeline = json.loads(text)
    except ValueError as error:
        fail(f"--pipeline is not JSON: {error}")
    if not isinstance(pipeline, dict) or not isinstance(pipeline.get("steps", []), list):
        fail('--pipeline must be a JSON object like {"steps": ["commits", "gate", "push"], "gate": {...}}')
    known = {"steps", "gate", "push", "pull_request"}
    unknown = sorted(set(pipeline) - known)
    if unknown:
        fail(f"--pipeline: unknown key {', '.join(unknown)} (known: {', '.join(sorted(known))})")
    return pipeline


def exit_code_of(end: SessionEnd) -> int:
    from waterspider_tui.core.models import Outcome

    if end.interrupted:
        return EXIT_INTERRUPTED
    return EXIT_DONE if end.result.outcome is Outcome.SUCCEEDED else EXIT_NOT_DONE


def _plain(facts: dict[str, Any]) -> dict[str, Any]:
    """A step's facts for the record, without the prompt a failed gate sent back (the orchestrator
    must not send it again: the runner spent the gate's rounds)."""
    from waterspider_tui.engine.after_agent import RETRY_PROMPT_FACT

    return {name: value for name, value in facts.items() if name != RETRY_PROMPT_FACT}


def round_entries(end: SessionEnd) -> list[dict[str, Any]]:
    """Each round for the record: an attempt of its own with its own cost (a round resuming the
    conversation of the one before is charged only what it added, as every session's end is), its
    turns and its part of the stream."""
    entries = []
    for index, attempt in enumerate(end.round_attempts):
        agent = end.agent_rounds[index] if index < len(end.agent_rounds) else None
        start, stop = end.round_spans[index] if index < len(end.round_spans) else (0, 0)
        entries.append({
            "session_id": attempt.session_id, "attempt": attempt.attempt, "outcome": attempt.outcome.value,
            "error_class": attempt.error_class.value if attempt.error_class else "", "error": attempt.error,
            "cost_usd": attempt.cost_usd, "turns": agent.turns if agent else 0,
            "duration_s": attempt.duration_s, "stream_from": start, "stream_to": stop,
        })
    return entries


def end_line(end: SessionEnd) -> str:
    result = end.result
    said = f"{result.outcome.value}"
    if result.error_class is not None:
        said += f" ({result.error_class.value})"
    facts = f"{counted(result.turns, 'turn')}, ${result.cost_usd:.2f}, {counted(result.commits, 'commit')}, {counted(result.files_changed, 'file')} changed"
    return f"waterspider: {said}: {facts}" + (f": {result.error}" if result.error else "")


@click.command("exec-issue")
@click.option("--repo", default="", help="owner/name of the issue (and of the issue text on GitHub).")
@click.option("--issue", "number", type=click.IntRange(1), required=True, help="The issue number.")
@click.option("--session", "session_id", required=True, help="The session id the orchestrator gave this run.")
@click.option("--agent", type=click.Choice(AGENT_KINDS), help="Which agent runs the issue (default: [agent] kind).")
@click.option("--attempt", type=click.IntRange(1), default=1, show_default=True, help="Which attempt of the issue this is.")
@click.option("--branch", default="", help="The issue branch the orchestrator expects (feature/issue-N, or with the repository in it when it works on several).")
@click.option("--config", type=click.Path(path_type=Path), help="waterspider.toml to read (default: ./waterspider.toml if present).")
@click.option("--issues", type=click.Path(path_type=Path), help="Read the issue from this folder of Markdown issues instead of GitHub.")
@click.option("--github-api-url", help="GitHub REST API root (GitHub Enterprise Server, tests).")
@click.option("--repo-path", type=click.Path(path_type=Path), help="The checkout the worktree is made from (default: .).")
@click.option("--base-branch", help="Branch the issue branch starts from (default: the current branch).")
@click.option("--stream-file", type=click.Path(path_type=Path),
              help="Where the agent's stream-json is written, session.json beside it (the workflow uploads both as the `stream` artifact)."
                   " Default: $RUNNER_TEMP/waterspider/stream.jsonl on a runner, else .waterspider/exec/SESSION/stream.jsonl in the checkout (ignored by git).")
@click.option("--echo-stream", is_flag=True, help="Also print each stream-json line, prefixed, so the orchestrator can follow the job log live.")
@click.option("--pipeline", "pipeline_json", default="",
              help='The steps after the agent as JSON, {"steps": [...], "gate": {...}, "push": {...}}: the orchestrator\'s, over this checkout\'s [pipeline].')
def exec_issue(
    repo: str, number: int, session_id: str, attempt: int, branch: str, stream_file: Path | None, echo_stream: bool,
    pipeline_json: str = "", config: Path | None = None, **flags: Any,
) -> None:
    """Run one session of one issue here, as the local executor would (for CI runners)."""
    if repo and (repo.count("/") != 1 or not all(repo.split("/"))):
        fail(f"--repo {repo!r} is not owner/name")
    multi_repo = multi_repo_for(branch, repo, number)
    tree = overrides(repo=(repo,) if repo else None, **flags)
    if pipeline_json.strip():
        tree["pipeline"] = pipeline_overrides(pipeline_json)
    settings = settings_from(config, tree)
    if settings.issues.dir is None and not repo:
        fail("give --repo owner/name (the issue is read from GitHub) or --issues DIR")
    if stream_file is None:
        if not re.fullmatch(r"[A-Za-z0-9_-][A-Za-z0-9._-]*", session_id):
            fail(f"--session {session_id!r}: letters, digits, '.', '_' and '-' only (it names the stream's folder); or give --stream-file")
        stream_file = default_stream_file(Path(settings.workspace.repo_path), session_id)
        ignore_if_inside(Path(settings.workspace.repo_path), stream_file)
    try:
        end = asyncio.run(_run(settings, repo, number, session_id, attempt, stream_file, echo_stream, multi_repo))
    except ConfigError as error:
        fail(str(error))
    rounds = end.step_rounds or (1,) * len(end.steps)
    for step, round_number in zip(end.steps, rounds):
        _write(f"waterspider: step {step.step}{f' (round {round_number})' if end.rounds > 1 else ''}: {step.summary}")
    _write(f"waterspider: the stream is in {stream_file}, how the session ended in {stream_file.with_name(RECORD_FILE)}")
    _write(end_line(end))
    result = end.result
    write_record(
        stream_file.with_name(RECORD_FILE), result.outcome.value, result.error_class.value if result.error_class else "", result.error,
        [{"step": step.step, "ok": step.ok, "summary": step.summary, "error_class": step.error_class, "facts": _plain(step.facts),
          "round": round_number} for step, round_number in zip(end.steps, rounds)],
        agent_exit_code=end.agent_exit_code, rounds=end.rounds,
        agent_rounds=round_entries(end),
    )
    raise SystemExit(exit_code_of(end))
