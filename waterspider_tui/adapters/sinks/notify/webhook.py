"""Incoming webhooks: the URL is the credential, so it comes only from the environment or a secret file, and is never shown.

A post answers in one of three ways: delivered; `SinkUnavailable` (network error, 5xx, 429 with
its wait), so the outbox offers the batch again later; or `WebhookRejected` (any other 4xx: a
payload the service refuses or a webhook that was deleted), which repeating would not change.
Every error text is scrubbed of the URL before it is raised, so logs and the control center
only ever see `https://hooks.slack.com/…`.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any, Callable, Mapping
from urllib.parse import urlsplit

import httpx

from waterspider_tui.adapters.sinks.base import SinkUnavailable

TIMEOUT_S = 10.0
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class SecretError(ValueError):
    """A webhook URL that cannot be used; the message never contains the URL."""


class WebhookRejected(RuntimeError):
    """The service refused the message for good (4xx other than 429)."""


class WebhookUrl:
    """A webhook URL kept out of sight: `str()` and `repr()` give only its scheme and host."""

    def __init__(self, url: str, origin: str) -> None:
        url = url.strip()
        parts = urlsplit(url)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise SecretError(f"the webhook URL from {origin} is not an http(s) URL")
        if parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS:
            raise SecretError(f"the webhook URL from {origin} must use https")
        self._url = url
        self.origin = origin
        """Where it came from (`$WATERSPIDER_SLACK_WEBHOOK_URL`, a file path): safe to show."""
        self.masked = f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}/…"

    def reveal(self) -> str:
        """The URL itself: only for the request."""
        return self._url

    def scrub(self, text: str) -> str:
        """`text` with the URL, and its path alone, replaced by the masked form."""
        path = urlsplit(self._url).path
        text = text.replace(self._url, self.masked)
        return text.replace(path, "/…") if len(path) > 1 else text

    def __str__(self) -> str:
        return self.masked

    def __repr__(self) -> str:
        return f"WebhookUrl({self.masked!r} from {self.origin})"


def find_webhook_url(env_name: str, file: str | Path | None = None, environ: Mapping[str, str] | None = None) -> WebhookUrl | None:
    """The URL from the variable `env_name`, else from the file (a mounted secret); None when neither is set."""
    environ = os.environ if environ is None else environ
    value = environ.get(env_name, "").strip() if env_name else ""
    if value:
        return WebhookUrl(value, f"${env_name}")
    if file:
        path = Path(file).expanduser()
        try:
            value = path.read_text(encoding="utf-8").strip()
        except OSError as error:
            raise SecretError(f"cannot read the webhook URL file {path}: {error.strerror}") from None
        if value:
            return WebhookUrl(value, str(path))
    return None


async def post_json(
    client: httpx.AsyncClient, url: WebhookUrl, payload: Mapping[str, Any], *, what: str,
    clock: Callable[[], float] = time.time,
) -> httpx.Response:
    """POST the payload; see the module docstring for the three outcomes."""
    try:
        response = await client.post(url.reveal(), json=dict(payload), timeout=TIMEOUT_S)
    except httpx.TimeoutException:
        raise SinkUnavailable(f"{what}: {url.masked} did not answer within {TIMEOUT_S:.0f}s") from None
    except httpx.HTTPError as error:
        raise SinkUnavailable(url.scrub(f"{what}: cannot reach {url.masked}: {type(error).__name__}: {error}")) from None
    status = response.status_code
    if 200 <= status < 300:
        return response
    body = url.scrub(response.text.strip()[:200])
    if status == 429:
        wait = _retry_after(response)
        raise SinkUnavailable(f"{what}: rate-limited by {url.masked}", retry_at=clock() + wait if wait is not None else None)
    if status >= 500:
        raise SinkUnavailable(f"{what}: {url.masked} answered {status} {body}".rstrip())
    raise WebhookRejected(f"{what}: {url.masked} refused the message: {status} {body}".rstrip())


def _retry_after(response: httpx.Response) -> float | None:
    """Seconds to wait: the `Retry-After` header, else Discord's `retry_after` in the body."""
    header = response.headers.get("retry-after", "")
    try:
        return max(0.0, float(header))
    except ValueError:
        pass
    try:
        body = response.json()
    except ValueError:
        return None
    value = body.get("retry_after") if isinstance(body, dict) else None
    return max(0.0, float(value)) if isinstance(value, (int, float)) else None
