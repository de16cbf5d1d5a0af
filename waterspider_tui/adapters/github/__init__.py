"""GitHub as the source of truth: a REST client, the issue source, and the sink that reports progress back."""

from __future__ import annotations

from waterspider_tui.adapters.github.client import ApiResponse, GitHubClient, RequestStats
from waterspider_tui.adapters.github.errors import GitHubError, GitHubUnavailable, RateLimited
from waterspider_tui.adapters.github.reporter import GitHubReporter, GitHubSink
from waterspider_tui.adapters.github.session_comments import CommentRenderer
from waterspider_tui.adapters.github.source import DEFAULT_TRIGGER_LABEL, GitHubIssueSource
from waterspider_tui.adapters.github.state_labels import StateLabels
from waterspider_tui.adapters.github.token import TokenNotFound, discover_token

__all__ = [
    "ApiResponse", "CommentRenderer", "DEFAULT_TRIGGER_LABEL", "GitHubClient", "GitHubError", "GitHubIssueSource",
    "GitHubReporter", "GitHubSink", "GitHubUnavailable", "RateLimited", "RequestStats", "StateLabels", "TokenNotFound",
    "discover_token",
]
