"""Steps after the agent by their config name; `[pipeline] steps` lists them in order."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Mapping

from pydantic import ValidationError

from waterspider_tui.adapters.pipeline.base import Step
from waterspider_tui.adapters.pipeline.commits import CountCommits
from waterspider_tui.adapters.pipeline.gate import Gate
from waterspider_tui.adapters.pipeline.push import PushBranch

if TYPE_CHECKING:
    from waterspider_tui.adapters.github.client import GitHubClient

StepFactory = Callable[[Mapping[str, Any], "GitHubClient | None"], Step]


def _pull_request(options: Mapping[str, Any], github: GitHubClient | None) -> Step:
    # Imported here: it brings the GitHub client, which a run on a local folder never needs.
    from waterspider_tui.adapters.pipeline.pull_request import OpenPullRequest

    return OpenPullRequest.from_options(options, github)


STEPS: dict[str, StepFactory] = {
    "commits": lambda options, github: CountCommits(),
    "gate": lambda options, github: Gate.from_options(options),
    "push": lambda options, github: PushBranch.from_options(options),
    "pull_request": _pull_request,
}
"""A new step is a module in this folder with one class keeping the Step protocol, added here
with how it is built from its `[pipeline.NAME]` options (which it validates itself)."""


def make_steps(
    names: list[str] | tuple[str, ...], options: Mapping[str, Mapping[str, Any]] | None = None, *,
    github: GitHubClient | None = None,
) -> list[Step]:
    """The steps in order; a ValueError names an unknown step or a bad option.

    `github` is the client the pull-request step writes with (the one the source and the
    reporter share, so one rate limit is obeyed).
    """
    unknown = [name for name in names if name not in STEPS]
    if unknown:
        raise ValueError(f"unknown pipeline step {', '.join(unknown)} (known: {', '.join(sorted(STEPS))})")
    if "pull_request" in names and github is None:
        raise ValueError("pipeline step pull_request needs GitHub: set [github] repos or [pipeline.pull_request] repo, or leave the step out")
    steps: list[Step] = []
    for name in names:
        try:
            steps.append(STEPS[name](dict((options or {}).get(name) or {}), github))
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(part) for part in (name, *first["loc"]))
            raise ValueError(f"bad setting pipeline.{where}: {first['msg']}") from error
    return steps
