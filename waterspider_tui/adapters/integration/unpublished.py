"""Why an integrated milestone cannot be published where `[milestones] publish` asks, said before trying."""

from __future__ import annotations


def not_published_reason(issue_repo: str, target: str) -> str:
    """The line a milestone's report carries when no GitHub client can publish it: no repository to
    publish a local issue folder's milestone in, or no token (where we looked and what to do)."""
    if not target:
        return (f"not published: {issue_repo} is a local issue folder and no GitHub repository is set for it"
                ' ([pipeline.pull_request] repo = "owner/name")')
    from waterspider_tui.adapters.github import TokenNotFound, discover_token

    try:
        discover_token()
    except TokenNotFound as error:
        said = str(error)
        return f"not published to {target}: {said[:1].lower()}{said[1:]}"
    return f"not published to {target}: this run has no GitHub client to publish with"
