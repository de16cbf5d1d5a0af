"""Opening (or updating) the issue's pull request on GitHub once the branch is pushed.

Safe to run twice: the open pull request of the branch is looked up before one is opened, so
a retry of the issue, or a restart after a pull request was opened but not recorded, updates
the same pull request.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping, Sequence

from pydantic import BaseModel, ConfigDict

from waterspider_tui.adapters.github.errors import GitHubError
from waterspider_tui.adapters.github.pull_requests import PullRequest, PullRequests
from waterspider_tui.adapters.pipeline.base import StepContext, StepOutcome
from waterspider_tui.core.models import ErrorClass, Outcome
from waterspider_tui.text.event_text import duration

if TYPE_CHECKING:
    from waterspider_tui.adapters.github.client import GitHubClient
    from waterspider_tui.core.models import Issue, SessionResult

SUMMARY_CHARS = 6000
"""Of the agent's final text, at most this much goes into the body (GitHub allows 65,536 in all)."""


class PullRequestOptions(BaseModel):
    """`[pipeline.pull_request]` in waterspider.toml."""

    model_config = ConfigDict(extra="forbid")

    repo: str = ""
    """`owner/name` to open pull requests in; the issue's own repository when empty (local
    issue folders need it set)."""
    draft: bool = False
    """Open pull requests as drafts."""
    title: str = "{title}"
    """With {title} {number} {repo}."""
    labels: list[str] = []
    reviewers: list[str] = []
    team_reviewers: list[str] = []
    """Team slugs of the repository's organization."""


def stacked_line(context: StepContext, blocker_pull: PullRequest | None, merged_pulls: Sequence[PullRequest | None] = ()) -> str:
    """Says a stacked branch's pull request builds on its blockers' (the one it starts from, and
    those merged into it at prepare), which are merged first."""
    session = context.session
    if not session.stacked_on or context.base != session.base_branch:
        return ""  # not stacked, or its executor started it from the base branch after all
    first = _blocker_text(context, session.stacked_on, blocker_pull)
    if not session.merged_in:
        return f"Stacked on {first}: it starts from `{context.base}`, so merge that one first."
    pulls = list(merged_pulls) + [None] * (len(session.merged_in) - len(merged_pulls))
    others = [_blocker_text(context, issue, pull) for (issue, _), pull in zip(session.merged_in, pulls)]
    merged = ", ".join(f"`{branch}`" for _, branch in session.merged_in)
    return (
        f"Stacked on {first} and on {_listed(others)}: it starts from `{context.base}` with {merged} merged in"
        f" (a merge commit each), so merge those first."
    )


def _blocker_text(context: StepContext, blocker: str, pull: PullRequest | None) -> str:
    repo, _, number = blocker.rpartition("#")
    shown = f"#{number}" if repo.lower() == context.task.issue.repo.lower() else blocker
    return shown + (f" (pull request #{pull.number}: {pull.url})" if pull is not None else "")


def _listed(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def on_github(issue: Issue) -> bool:
    """Whether the issue is a GitHub issue (its number is GitHub's), not one of a local folder."""
    from_file = bool(issue.source_path) and not issue.source_path.startswith(("https://", "http://"))
    return issue.repo.count("/") == 1 and not from_file


def issue_line(issue: Issue, repo: str) -> str:
    """The body's first line: `Closes #N` for a GitHub issue (GitHub links it and closes it on merge);
    an issue of a local folder is named as what it is, with no `#` GitHub would link to its own issue."""
    if not on_github(issue):
        return f"Local issue {issue.number}: {issue.title}"
    return f"Closes #{issue.number}" if repo.lower() == issue.repo.lower() else f"Closes {issue.repo}#{issue.number}"


def render_body(context: StepContext, first_line: str, stacked: str = "") -> str:
    """Closes #N, what it is stacked on, what the agent did, its checklist, its figures and the gate's results."""
    result, session, facts = context.result, context.session, context.session.facts
    parts = [first_line] + ([stacked] if stacked else [])
    if result.summary.strip():
        summary = result.summary.strip()
        parts.append("### What the agent did\n\n" + (summary[:SUMMARY_CHARS] + " …" if len(summary) > SUMMARY_CHARS else summary))
    todos = session.progress.todos
    if todos:
        parts.append("### Checklist\n\n" + "\n".join(f"- [{'x' if status == 'completed' else ' '}] {text}" for text, status in todos))
    rows = [
        ("Turns", str(result.turns)), ("Cost", f"${result.cost_usd:.2f}"), ("Duration", duration(result.duration_s)),
        ("Commits", str(result.commits)), ("Files changed", str(result.files_changed)), ("Attempt", str(session.attempt)),
    ]
    parts.append("| | |\n|---|---|\n" + "\n".join(f"| {name} | {value} |" for name, value in rows))
    gate = facts.get("gate")
    if gate:
        parts.append(f"### Completion gate: {gate}\n\n{facts.get('gate_checks', '')}".rstrip())
    named = session.issue if on_github(context.task.issue) else f"local issue {context.task.issue.number}"
    parts.append(f"<sub>Opened by waterspider for {named} from `{session.branch}`.</sub>\n<!-- waterspider:issue={session.issue} -->")
    return "\n\n".join(parts)


async def github_branch(context: StepContext) -> str:
    """The branch the pull request targets, by its name on GitHub: the session's base as its host's
    git names it may be a remote-tracking ref (`origin/main` on an SSH host's clone), or `origin/HEAD`."""
    base = context.base
    if "/" not in base:
        return base  # a branch's own name: nothing to ask
    named = await context.executor.git(context.session, "rev-parse", "--symbolic-full-name", base)
    full = named.stdout.strip() if named.returncode == 0 else ""
    if full.endswith("/HEAD"):
        target = await context.executor.git(context.session, "symbolic-ref", "-q", full)
        full = target.stdout.strip() if target.returncode == 0 else full
    if full.startswith("refs/heads/"):
        return full.removeprefix("refs/heads/")
    if full.startswith("refs/remotes/") and full.count("/") >= 3:
        return full.removeprefix("refs/remotes/").partition("/")[2]
    return base


class OpenPullRequest:
    """Opens the branch's pull request, or updates the one already open; labels and reviewers by config."""

    name = "pull_request"

    def __init__(self, github: GitHubClient | None, options: PullRequestOptions | None = None) -> None:
        self.pulls = PullRequests(github) if github is not None else None
        self.options = options or PullRequestOptions()

    @classmethod
    def from_options(cls, options: Mapping[str, Any], github: GitHubClient | None = None) -> OpenPullRequest:
        return cls(github, PullRequestOptions.model_validate(dict(options)))

    def applies(self, result: SessionResult) -> bool:
        return result.outcome is Outcome.SUCCEEDED

    async def run(self, context: StepContext) -> StepOutcome:
        issue, session, options = context.task.issue, context.session, self.options
        repo = options.repo or issue.repo
        if self.pulls is None or repo.count("/") != 1:
            return self._failed(f"no GitHub repository for pull requests of {session.issue}: set [pipeline.pull_request] repo")
        counted = await context.executor.git(session, "rev-list", "--count", *context.own_commits)
        if counted.returncode == 0 and int(counted.stdout.strip() or 0) == 0:
            return StepOutcome(ok=True, summary=f"no pull request: {session.branch} has no commit beyond {context.base}")
        title = options.title.format(title=issue.title, number=issue.number, repo=issue.repo)
        base = await github_branch(context)
        notes: list[str] = []
        try:
            blocker_pull = await self.pulls.find_open(repo, base) if session.stacked_on else None
            merged_pulls = [await self.pulls.find_open(repo, branch) for _, branch in session.merged_in] if session.stacked_on else []
            body = render_body(context, issue_line(issue, repo), stacked_line(context, blocker_pull, merged_pulls))
            pull, opened = await self.pulls.open_or_update(repo, session.branch, base, title, body, draft=options.draft)
            await self.pulls.add_labels(repo, pull.number, options.labels)
            try:
                await self.pulls.request_reviewers(repo, pull, options.reviewers, options.team_reviewers)
            except GitHubError as error:
                # The pull request is there; a reviewer GitHub refuses is a note, not a failure.
                notes.append(f"reviewers not requested: {error.message}")
        except GitHubError as error:
            return self._failed(f"{repo}: {error}")
        summary = f"{'opened' if opened else 'updated'} pull request #{pull.number}: {pull.url}" + "".join(f"; {note}" for note in notes)
        facts: dict[str, int | float | str] = {"pr_number": pull.number, "pr_url": pull.url, "pr_repo": repo, "pr": "opened" if opened else "updated"}
        return StepOutcome(ok=True, summary=summary, facts=facts)

    @staticmethod
    def _failed(reason: str) -> StepOutcome:
        return StepOutcome(ok=False, summary=reason, error_class=ErrorClass.PR_FAILED.value)
