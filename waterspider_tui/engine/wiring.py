"""Builds an Engine from Settings: the one place that picks sources, agent and executor."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Awaitable, Callable

from waterspider_tui.adapters.agents.base import EnvPolicy
from waterspider_tui.adapters.agents.registry import make_agent
from waterspider_tui.adapters.executors.registry import make_executor
from waterspider_tui.adapters.executors.pool import ExecutorPool
from waterspider_tui.adapters.local_issues import LocalIssueSource
from waterspider_tui.adapters.pipeline.registry import make_steps
from waterspider_tui.adapters.sinks.terminal_hold import TerminalHold
from waterspider_tui.adapters.workspace import WorkspaceManager
from waterspider_tui.config import ConfigError, Settings
from waterspider_tui.engine.engine import Engine
from waterspider_tui.engine.locks import run_locks
from waterspider_tui.engine.policy import SessionPolicy
from waterspider_tui.store.event_log import EventLog
from waterspider_tui.store.state_store import StateStore

if TYPE_CHECKING:
    from waterspider_tui.adapters.github.client import GitHubClient
    from waterspider_tui.adapters.executors.base import Executor
    from waterspider_tui.adapters.sinks.base import Sink
    from waterspider_tui.adapters.source_base import IssueSource


def env_policy(settings: Settings) -> EnvPolicy:
    """Which variables of this environment the agent sees (`[agent] env_allow`, `env`)."""
    base = EnvPolicy()
    return EnvPolicy(allow=base.allow + tuple(settings.agent.env_allow), extra=dict(settings.agent.env))


def _github_parts(settings: Settings) -> tuple[list[tuple[IssueSource, float]], list[Sink], list[Callable[[], Awaitable[None]]], GitHubClient]:
    """One client shared by the source and the reporter, so one rate limit is obeyed."""
    from waterspider_tui.adapters.github import GitHubClient, GitHubIssueSource, GitHubSink, TokenNotFound, discover_token
    from waterspider_tui.reporting.progress_comment import ProgressCommentRenderer

    github = settings.github
    try:
        token = discover_token()
    except TokenNotFound as error:
        raise ConfigError(str(error)) from error
    client = GitHubClient(github.api_url, token, min_write_interval=github.min_write_interval_s)
    source = GitHubIssueSource(
        client, tuple(github.repos), trigger_label=github.trigger_label,
        include_sub_issues=github.include_sub_issues, trusted_logins=tuple(github.trusted_logins),
    )
    sink = GitHubSink(
        client, tuple(github.repos), renderer=ProgressCommentRenderer(), operators=tuple(github.operators),
        label_names=dict(github.labels), comment_interval_s=github.comment_interval_s,
    )
    return [(source, github.poll_interval_s)], [sink], [client.aclose], client


def _pull_request_client(settings: Settings, closers: list[Callable[[], Awaitable[None]]]) -> GitHubClient | None:
    """A client for the pull-request step of a run without `[github] repos` (local issue folders):
    only when `[pipeline.pull_request] repo` names where to open them; the token from the env or `gh`."""
    from waterspider_tui.adapters.github import GitHubClient, TokenNotFound, discover_token

    if "pull_request" not in settings.pipeline.steps:
        return None
    repo = str(settings.pipeline.pull_request.get("repo", "")).strip()
    if repo.count("/") != 1 or not all(repo.split("/")):
        raise ConfigError("pipeline step pull_request without [github] repos needs [pipeline.pull_request] repo = \"owner/name\" (where to open them)")
    try:
        token = discover_token()
    except TokenNotFound as error:
        raise ConfigError(f"pipeline step pull_request: {error}") from error
    client = GitHubClient(settings.github.api_url, token, min_write_interval=settings.github.min_write_interval_s)
    closers.append(client.aclose)
    return client


def _holders(store: StateStore, repo: str) -> dict[int, str]:
    """Which file held each issue number, as the store remembers: a file added while the
    orchestrator was down cannot take over an issue that already has history."""
    return {
        task.issue.number: task.issue.source_path
        for task in store.snapshot.tasks.values()
        if task.issue.repo == repo and task.issue.source_path
    }


def _executors(settings: Settings, workspace: WorkspaceManager, sessions_dir: Path, client: GitHubClient | None = None) -> list[Executor]:
    """This machine (unless its slots are 0), the `[[hosts]]` over SSH and `[actions]` runners, through the registry."""
    local_slots = settings.workspace.local_slots
    if local_slots is None:
        local_slots = 0 if settings.hosts or settings.actions.enabled else settings.scheduler.capacity
    executors: list[Executor] = []
    if local_slots > 0:
        executors.append(make_executor("local", workspace=workspace, sessions_dir=sessions_dir, slots=local_slots, niceness=settings.sessions.niceness,
                                       launcher=settings.sessions.launcher))
    if settings.hosts:
        executors.append(make_executor("ssh", hosts=list(settings.hosts), local_repo=workspace.root))  # stacking on local blockers' branches
    if settings.actions.enabled:
        if client is None:
            raise ConfigError("[actions] needs [github] repos and a token: its runs are dispatched through the GitHub API")
        try:
            # The orchestrator's [pipeline] travels to the runner, where the steps needing the worktree run.
            pipeline = {"steps": list(settings.pipeline.steps), **settings.pipeline.step_options()}
            executors.append(make_executor(
                "actions", client=client, actions=settings.actions, default_repo=next(iter(settings.github.repos), ""), pipeline=pipeline,
            ))
        except ValueError as error:
            raise ConfigError(f"actions: {error}") from error
    if not executors:
        raise ConfigError("no executor: [workspace] local_slots is 0, no [[hosts]] are configured and [actions] is not enabled")
    return executors


def _after_work_sinks(
    settings: Settings, store: StateStore, store_path: Path, workspace: WorkspaceManager,
    client: GitHubClient | None, title: str, closers: list[Callable[[], Awaitable[None]]], terminal_hold: TerminalHold,
) -> list[Sink]:
    """Notifications (Slack, Discord, the terminal) and the milestone integrator, as sinks."""
    from waterspider_tui.adapters.sinks.milestones import build_milestone_sink
    from waterspider_tui.adapters.sinks.notify import build_notify_sinks
    from waterspider_tui.store.sink_cursors import SinkCursors

    marks = SinkCursors(store_path)
    """The notifiers' own marks (what was sent, the digest's day), beside the outboxes' cursors."""

    async def close_marks() -> None:
        marks.close()

    closers.append(close_marks)  # after the sinks' close(), which may still send what it held back
    try:
        sinks = list(build_notify_sinks(settings.notify, log=store.log, cursors=marks, done_when=settings.milestones.done_when, source=title, terminal_hold=terminal_hold))
    except ValueError as error:  # a bad secret: one line, never the URL
        raise ConfigError(f"notify: {error}") from error
    try:
        milestone_sink = build_milestone_sink(
            settings.milestones, repo_path=workspace.root, base_branch=workspace.base_branch,
            worktrees_dir=settings.workspace.worktrees_dir, gate_options=settings.pipeline.gate,
            github=client, repos=settings.github.repos or None, check_interval_s=settings.github.poll_interval_s,
            publish_repo=str(settings.pipeline.pull_request.get("repo", "")).strip(),
            push_remote=str(settings.pipeline.push.get("remote", "origin")) if "push" in settings.pipeline.steps else "", hosts=settings.hosts,
            unpublished=_milestones_unpublished(settings) if client is None else "",
        )
    except ValueError as error:
        raise ConfigError(str(error)) from error
    return sinks + ([milestone_sink] if milestone_sink is not None else [])


def _milestones_unpublished(settings: Settings) -> str:
    """Why this run cannot publish its milestones as `[milestones] publish` asks (no client): said on each milestone's line."""
    if not settings.milestones.enabled or settings.milestones.publish == "none":
        return ""
    from waterspider_tui.adapters.integration.unpublished import not_published_reason

    target = str(settings.pipeline.pull_request.get("repo", "")).strip()
    return not_published_reason(settings.issues.repo_name, target) if target else ""


def session_policy(settings: Settings) -> SessionPolicy:
    """The `[sessions]` limits as the sessions supervisor keeps them (here and in `exec-issue`)."""
    sessions = settings.sessions
    return SessionPolicy(
        stall_timeout_s=sessions.stall_timeout_s, start_timeout_s=sessions.start_timeout_s, timeout_s=sessions.timeout_s, grace_s=sessions.grace_s,
        max_attempts=sessions.max_attempts, retry_backoff_s=sessions.retry_backoff_s,
        per_issue_budget_usd=sessions.per_issue_budget_usd, daily_budget_usd=sessions.daily_budget_usd,
        on_issue_gone=sessions.on_issue_gone, dependants_wait_for=settings.pipeline.waits_for(),
    )


def build_engine(settings: Settings) -> Engine:
    """Raises ConfigError (one line) when the settings cannot make a working engine."""
    sources: list[tuple[IssueSource, float]] = []
    sinks: list[Sink] = []
    closers: list[Callable[[], Awaitable[None]]] = []
    client: GitHubClient | None = None
    if settings.github.repos:
        sources, sinks, closers, client = _github_parts(settings)
    if settings.issues.dir is not None and not settings.issues.dir.is_dir():
        raise ConfigError(f"issue folder {settings.issues.dir} does not exist")
    if not sources and settings.issues.dir is None:
        raise ConfigError("no issue source: give --issues DIR (a folder of Markdown issues) or --repo owner/name")
    try:
        workspace = WorkspaceManager(settings.workspace.repo_path, base_branch=settings.workspace.base_branch, worktrees_dir=settings.workspace.worktrees_dir, warm_pool=settings.workspace.warm_pool)
    except Exception as error:
        raise ConfigError(str(error)) from error
    try:
        agent = make_agent(settings.agent.kind, dict(settings.agent.options), env_policy(settings))
    except (ValueError, TypeError) as error:
        raise ConfigError(f"agent: {error}") from error
    store_path = settings.store_path()
    if not store_path.is_absolute():
        store_path = Path(os.path.abspath(store_path))
    store_path.parent.mkdir(parents=True, exist_ok=True)
    workspace.ignore(store_path.parent)
    store = StateStore(EventLog(store_path))
    if settings.issues.dir is not None:
        sources.append((LocalIssueSource(settings.issues.dir, settings.issues.repo_name, holders=_holders(store, settings.issues.repo_name)), settings.issues.poll_interval_s))
    title = ", ".join(settings.github.repos) or str(settings.issues.dir)
    executors = _executors(settings, workspace, store_path.parent / "sessions", client)
    locks = run_locks(store_path, Path(workspace.repo.common_dir), workspace.root)
    policy = session_policy(settings)
    try:
        pull_request_client = client or _pull_request_client(settings, closers)
        steps = make_steps(settings.pipeline.steps, settings.pipeline.step_options(), github=pull_request_client)
    except ValueError as error:
        raise ConfigError(str(error)) from error
    terminal_hold = TerminalHold()
    sinks += _after_work_sinks(settings, store, store_path, workspace, client or pull_request_client, title, closers, terminal_hold)
    if pull_request_client is not None and settings.pipeline.waits_for() == "merged":
        from waterspider_tui.adapters.pipeline.merge_watch import PullRequestMerges

        sinks.append(PullRequestMerges(pull_request_client, interval_s=settings.github.poll_interval_s))
    return Engine(
        store=store, sources=sources, agent=agent, pool=ExecutorPool(executors), scheduler=replace(settings.scheduler.to_core(), dependants_wait_for=settings.pipeline.waits_for()),
        policy=policy, steps=steps, sinks=sinks, locks=locks, title=title, on_close=closers, terminal_hold=terminal_hold,
    )
