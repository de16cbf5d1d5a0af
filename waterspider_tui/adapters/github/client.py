"""An async GitHub REST client: conditional GETs, Link pagination, rate limits, retries, paced writes.

Why a small explicit ETag cache and not hishel: hishel (2.0 today; 0.x and 1.x had other,
incompatible APIs, which is what broke githubkit) is a general RFC 9111 cache. GitHub marks
responses `private, max-age=60`, so hishel by default (a shared cache) refuses to store them
for an authorized request, and as a private cache it serves them without asking GitHub for 60
s unless every request carries `Cache-Control: no-cache`. It also stores on disk (SQLite) by
default and does not tell us cleanly whether an answer was a free 304. What we need is
narrower: always revalidate, keep one body per URL per token, count 304s. That is
`etag_cache.EtagCache`, about forty lines, with no new dependency.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Mapping

import httpx

from waterspider_tui.adapters.github.errors import GitHubError, GitHubUnavailable, RateLimited
from waterspider_tui.adapters.github.etag_cache import CachedResponse, EtagCache
from waterspider_tui.adapters.github.rate_limit import (
    SECONDARY_LIMIT_WAIT_S, RateLimitState, is_rate_limited, rate_limit_wait_s, read_rate_limit, retry_backoff_s,
)

log = logging.getLogger(__name__)

API_VERSION = "2022-11-28"
"""The REST version we speak; later versions drop fields (`assignee`) we do not rely on anyway."""


@dataclass
class RequestStats:
    """Requests sent over the wire, for tests, benchmarks and the status line."""

    total: int = 0
    not_modified: int = 0
    """Conditional GETs answered 304: free against the primary limit."""
    writes: int = 0
    retries: int = 0
    rate_limited: int = 0
    by_method: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class ApiResponse:
    """One answered call; `data` is the parsed JSON (the cached body after a 304)."""

    status: int
    data: Any
    url: str
    next_url: str | None = None
    not_modified: bool = False


class GitHubClient:
    """One token against one GitHub (api.github.com, Enterprise, or a test server)."""

    def __init__(
        self,
        api_url: str = "https://api.github.com",
        token: str | None = None,
        *,
        min_write_interval: float = 1.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.time,
        jitter: Callable[[], float] = random.random,
        max_retries: int = 3,
        max_rate_limit_retries: int = 2,
        max_wait_s: float = 90.0,
        secondary_wait_s: float = SECONDARY_LIMIT_WAIT_S,
        backoff_base_s: float = 1.0,
        backoff_cap_s: float = 30.0,
        timeout_s: float = 30.0,
        user_agent: str = "waterspider",
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.min_write_interval = min_write_interval
        self.max_retries = max_retries
        self.max_rate_limit_retries = max_rate_limit_retries
        self.max_wait_s = max_wait_s
        """A limit that needs a longer wait fails the call with RateLimited instead of sleeping."""
        self.secondary_wait_s = secondary_wait_s
        self.backoff_base_s = backoff_base_s
        self.backoff_cap_s = backoff_cap_s
        self.stats = RequestStats()
        self.rate_limit = RateLimitState()
        self.wait_until: float | None = None
        """While set and in the future, GitHub has told us to wait until then."""
        self._sleep = sleep
        self._clock = clock
        self._jitter = jitter
        self._etags = EtagCache()
        self._write_lock = asyncio.Lock()
        self._last_write_at = float("-inf")
        headers = {
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": API_VERSION,
            "User-Agent": user_agent,
        }
        self._http = httpx.AsyncClient(
            headers=headers, timeout=timeout_s, follow_redirects=True, transport=transport
        )
        self.set_token(token)

    def set_token(self, token: str | None) -> None:
        """Use another token; ETags are per credential, so the cache starts over."""
        self._http.headers.pop("Authorization", None)
        if token:
            self._http.headers["Authorization"] = f"Bearer {token}"
        self._etags.clear()

    def waiting_until(self) -> float | None:
        """When a rate limit ends, if one holds now; for "rate limited until HH:MM:SS"."""
        if self.wait_until is not None and self.wait_until > self._clock():
            return self.wait_until
        return None

    def url(self, path: str, params: Mapping[str, Any] | None = None) -> str:
        """An absolute URL: Link URLs pass through untouched, paths join the API base."""
        base = path if path.startswith(("http://", "https://")) else self.api_url + path
        return str(httpx.URL(base, params=params)) if params else base

    async def get(self, path: str, params: Mapping[str, Any] | None = None) -> ApiResponse:
        """A conditional GET: a 304 answers from the cache and costs no rate limit."""
        return await self._send("GET", self.url(path, params))

    async def get_json(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return (await self.get(path, params)).data

    async def paginate(self, path: str, params: Mapping[str, Any] | None = None, *, network_retries: int | None = None) -> tuple[list[Any], bool]:
        """All items across pages by following `Link: rel="next"` exactly; also whether nothing changed.

        Later pages live at URLs GitHub chooses (`/repositories/{id}/...`), never rebuilt here.
        `network_retries` replaces `max_retries` for network errors (a caller that retries itself).
        """
        items: list[Any] = []
        unchanged = True
        next_url: str | None = self.url(path, params)
        while next_url:
            page = await self._send("GET", next_url, network_retries=network_retries)
            unchanged = unchanged and page.not_modified
            items.extend(page.data if isinstance(page.data, list) else [])
            next_url = page.next_url
        return items, unchanged

    async def download(self, path: str) -> bytes:
        """A file's bytes (an artifact's zip): redirects followed, the storage host gets no token."""
        url = self.url(path)
        await self._honour_wait("GET", url)
        try:
            response = await self._http.get(url)
        except httpx.TransportError as error:
            raise GitHubUnavailable(0, f"network error: {error.__class__.__name__}", url, "GET") from error
        self._count("GET", response.status_code)
        if response.status_code >= 400:
            raise GitHubError(response.status_code, _message_of(response), url, "GET", _json_or_none(response))
        return response.content

    async def download_from(self, path: str, start: int) -> bytes:
        """A growing file's bytes from `start` on (a running job's log), b"" when nothing is new.

        Asked with `Range`, which the storage host answers with 206 (or 416 past the end); one
        that ignores it sends the whole file, cut here.
        """
        url = self.url(path)
        await self._honour_wait("GET", url)
        try:
            response = await self._http.get(url, headers={"Range": f"bytes={start}-"} if start > 0 else None)
        except httpx.TransportError as error:
            raise GitHubUnavailable(0, f"network error: {error.__class__.__name__}", url, "GET") from error
        self._count("GET", response.status_code)
        if response.status_code == 416:
            return b""
        if response.status_code >= 400:
            raise GitHubError(response.status_code, _message_of(response), url, "GET", _json_or_none(response))
        return response.content if response.status_code == 206 else response.content[start:]

    async def post(self, path: str, json: Any = None) -> ApiResponse:
        return await self.write("POST", path, json)

    async def patch(self, path: str, json: Any = None) -> ApiResponse:
        return await self.write("PATCH", path, json)

    async def delete(self, path: str, json: Any = None) -> ApiResponse:
        return await self.write("DELETE", path, json)

    async def write(self, method: str, path: str, json: Any = None) -> ApiResponse:
        """One write at a time, at least `min_write_interval` apart, as GitHub asks of integrations."""
        async with self._write_lock:
            gap = self._last_write_at + self.min_write_interval - self._clock()
            if gap > 0:
                await self._sleep(gap)
            try:
                return await self._send(method, self.url(path), json=json)
            finally:
                self._last_write_at = self._clock()

    async def aclose(self) -> None:
        await self._http.aclose()

    close = aclose

    async def _honour_wait(self, method: str, url: str) -> None:
        until = self.waiting_until()
        if until is None:
            return
        wait = until - self._clock()
        if wait > self.max_wait_s:
            raise RateLimited(until, url, method)
        await self._sleep(wait)

    async def _send(self, method: str, url: str, json: Any = None, network_retries: int | None = None) -> ApiResponse:
        """Send with retries: limits are obeyed, 5xx and network errors back off, then give up."""
        failures = 0
        limited = 0
        while True:
            await self._honour_wait(method, url)
            cached = self._etags.get(url) if method == "GET" else None
            headers = {"If-None-Match": cached.etag} if cached else {}
            try:
                response = await self._http.request(method, url, json=json, headers=headers)
            except httpx.TransportError as error:
                failures += 1
                if failures > (self.max_retries if network_retries is None else network_retries):
                    raise GitHubUnavailable(0, f"network error: {error.__class__.__name__}", url, method) from error
                await self._back_off(failures, f"{error.__class__.__name__} on {method} {url}")
                continue
            self._count(method, response.status_code)
            self.rate_limit = read_rate_limit(response.headers, self.rate_limit)
            if response.status_code == 304 and cached is not None:
                self.stats.not_modified += 1
                return ApiResponse(200, cached.data, url, cached.next_url, not_modified=True)
            message = _message_of(response)
            if is_rate_limited(response.status_code, response.headers, message):
                limited += 1
                self.stats.rate_limited += 1
                wait = rate_limit_wait_s(
                    response.headers, now=self._clock(), attempt=limited, secondary_wait_s=self.secondary_wait_s
                )
                self.wait_until = self._clock() + wait
                log.warning("GitHub rate limit on %s %s: waiting %.0fs", method, url, wait)
                if limited > self.max_rate_limit_retries:
                    raise RateLimited(self.wait_until, url, method)
                continue
            if response.status_code >= 500:
                failures += 1
                if failures > self.max_retries:
                    raise GitHubUnavailable(response.status_code, message, url, method)
                await self._back_off(failures, f"{response.status_code} on {method} {url}")
                continue
            if response.status_code >= 400:
                raise GitHubError(response.status_code, message, url, method, _json_or_none(response))
            return self._answer(method, url, response)

    def _answer(self, method: str, url: str, response: httpx.Response) -> ApiResponse:
        data = response.json() if response.content else None
        next_url = response.links.get("next", {}).get("url")
        etag = response.headers.get("etag")
        if method == "GET" and etag and response.status_code == 200:
            self._etags.put(url, CachedResponse(etag, data, next_url))
        return ApiResponse(response.status_code, data, url, next_url)

    def _count(self, method: str, status: int) -> None:
        self.stats.total += 1
        self.stats.by_method[method] = self.stats.by_method.get(method, 0) + 1
        if method != "GET":
            self.stats.writes += 1

    async def _back_off(self, attempt: int, what: str) -> None:
        self.stats.retries += 1
        wait = retry_backoff_s(attempt, base_s=self.backoff_base_s, cap_s=self.backoff_cap_s, jitter=self._jitter())
        log.info("GitHub %s: retry %d in %.1fs", what, attempt, wait)
        await self._sleep(wait)


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json() if response.content else None
    except ValueError:
        return None


def _message_of(response: httpx.Response) -> str:
    """GitHub's `message` field when the body is JSON, else the start of the text."""
    if response.status_code < 400:
        return ""
    body = _json_or_none(response)
    if isinstance(body, dict):
        return str(body.get("message", ""))
    return response.text[:200]
