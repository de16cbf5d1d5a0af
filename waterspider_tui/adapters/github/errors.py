"""What a GitHub call can fail with, each with a one-line message for the operator."""

from __future__ import annotations

import time
from typing import Any


class GitHubError(Exception):
    """GitHub answered with an error status (after any retries)."""

    def __init__(self, status: int, message: str, url: str, method: str = "GET", body: Any = None) -> None:
        # Status 0 is no answer at all (a network error): no number to show.
        answer = f"{status} {message}" if status else message
        super().__init__(f"GitHub {method} {url} failed: {answer}".strip())
        self.status = status
        self.message = message
        self.url = url
        self.method = method
        self.body = body
        """The parsed error body, e.g. a 422's `errors` list with codes like `already_exists`."""

    def has_code(self, code: str) -> bool:
        """Whether a validation error lists `code` (GitHub's `errors[].code`)."""
        errors = self.body.get("errors") if isinstance(self.body, dict) else None
        return any(isinstance(item, dict) and item.get("code") == code for item in errors or ())


class GitHubUnavailable(GitHubError):
    """Server errors or network failures outlasted the retries of one call."""


class RateLimited(GitHubError):
    """A rate limit holds requests until `until`, longer than the client will sleep in a call."""

    def __init__(self, until: float, url: str, method: str = "GET") -> None:
        stamp = time.strftime("%H:%M:%S", time.localtime(until))
        super().__init__(429, f"rate limited until {stamp}", url, method)
        self.until = until
