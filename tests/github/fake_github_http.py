"""The fake GitHub's HTTP side: authentication, faults, routing, ETags and 304s, rate-limit headers."""

from __future__ import annotations

import hashlib
import json
import socket
import time
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlsplit

from .fake_github_model import Fault, FakeRepo, RequestRecord
from .fake_github_routes import ROUTES, Reply

if TYPE_CHECKING:
    from .fake_github import FakeGitHub

_STATIC_HEADERS = {
    "access-control-allow-origin": "*",
    "access-control-expose-headers": "ETag, Link, Location, Retry-After, X-GitHub-OTP, X-RateLimit-Limit, "
    "X-RateLimit-Remaining, X-RateLimit-Used, X-RateLimit-Resource, X-RateLimit-Reset, X-OAuth-Scopes, "
    "X-Accepted-OAuth-Scopes, X-Poll-Interval, X-GitHub-Media-Type, X-GitHub-SSO, X-GitHub-Request-Id, "
    "Deprecation, Sunset",
    "content-security-policy": "default-src 'none'",
    "referrer-policy": "origin-when-cross-origin, strict-origin-when-cross-origin",
    "strict-transport-security": "max-age=31536000; includeSubdomains; preload",
    "x-accepted-oauth-scopes": "repo",
    "x-content-type-options": "nosniff",
    "x-frame-options": "deny",
    "x-github-media-type": "github.v3; format=json",
    "x-oauth-scopes": "repo, workflow",
    "x-xss-protection": "0",
}


class GitHubHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    github: FakeGitHub

    def log_message(self, format: str, *args: Any) -> None:  # quiet test output
        pass

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes; without this, Nagle plus delayed ACKs
        # add about 40 ms to every keep-alive request.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def _handle(self, method: str) -> None:
        github = self.github
        length = int(self.headers.get("Content-Length") or 0)
        raw_body = self.rfile.read(length) if length else b""
        fault = github.take_fault(method, self.path)
        if fault is not None and fault.delay_s:
            time.sleep(fault.delay_s)
        if fault is not None and fault.disconnect:
            with github.lock:
                github.requests.append(RequestRecord(method, self.path, 0, False, None))
            self.close_connection = True
            self.connection.shutdown(2)
            return
        with github.lock:
            login = github.tokens.get(_bearer(self.headers.get("Authorization", "")))
            reply = self._reply(method, raw_body, login, fault if fault and fault.status else None)
            conditional = "If-None-Match" in self.headers
            status, headers, payload = self._finish(method, reply, login)
            github.requests.append(RequestRecord(method, self.path, status, conditional, login,
                                                 {name.lower(): value for name, value in self.headers.items()}))
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if payload:
            self.wfile.write(payload)

    def _reply(self, method: str, raw_body: bytes, login: str | None, fault: Fault | None) -> Reply:
        github = self.github
        if login is None:
            return Reply(401, {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"})
        if fault is not None:
            return _fault_reply(fault, github)
        if github.rate_remaining <= 0:
            return Reply(403, {"message": "API rate limit exceeded for user ID 1.",
                               "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"})
        split = urlsplit(self.path)
        query = dict(parse_qsl(split.query))
        # The few routes that read a header (Range) find the request's here; set and read under the lock.
        github.request_headers = {name.lower(): value for name, value in self.headers.items()}
        try:
            body = json.loads(raw_body) if raw_body else None
        except ValueError:
            return Reply(400, {"message": "Problems parsing JSON"})
        for route_method, pattern, handler in ROUTES:
            match = pattern.fullmatch(split.path)
            if match and route_method == method:
                repo = _resolve_repo(github, match.group("repo") or match.group("repo_id"))
                if repo is None:
                    return Reply(404, {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"})
                args = [unquote(value) for name, value in match.groupdict().items()
                        if name not in ("repo", "repo_id") and value is not None]
                return handler(github, repo, login, query, body, *args)
        return Reply(404, {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"})

    def _finish(self, method: str, reply: Reply, login: str | None) -> tuple[int, dict[str, str], bytes]:
        github = self.github
        payload = reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode() if reply.body is not None else b""
        headers = dict(_STATIC_HEADERS)
        headers["date"] = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(github.real_time()))
        headers["x-github-request-id"] = f"FAKE:{len(github.requests):06d}"
        headers["x-github-api-version-selected"] = self.headers.get("X-GitHub-Api-Version", "2022-11-28")
        status = reply.status
        if method == "GET" and status == 200:
            weak = isinstance(reply.body, list)
            digest = hashlib.sha256(payload + (login or "").encode()).hexdigest()[:40]
            etag = f'W/"{digest}"' if weak else f'"{digest}"'
            headers["etag"] = etag
            headers["cache-control"] = "private, max-age=60, s-maxage=60"
            headers["vary"] = "Accept, Authorization, Cookie, X-GitHub-OTP"
            if reply.last_modified:
                headers["last-modified"] = reply.last_modified
            if etag in [tag.strip() for tag in self.headers.get("If-None-Match", "").split(",")]:
                status, payload = 304, b""
        elif status in (200, 201) and method != "GET":
            headers["cache-control"] = "private, max-age=60, s-maxage=60"
            headers["etag"] = '"' + hashlib.sha256(payload).hexdigest()[:40] + '"'
        if status != 304 and login is not None and reply.counts:
            github.rate_used += 1
        headers.update({
            "x-ratelimit-limit": str(github.rate_limit),
            "x-ratelimit-remaining": str(github.rate_remaining),
            "x-ratelimit-reset": str(github.reset_at),
            "x-ratelimit-used": str(github.rate_used),
            "x-ratelimit-resource": "core",
        })
        headers.update(reply.headers)
        if payload and "content-type" not in reply.headers:
            headers["content-type"] = "application/json; charset=utf-8"
        headers["content-length"] = str(len(payload))
        return status, headers, payload


def _fault_reply(fault: Fault, github: FakeGitHub) -> Reply:
    headers: dict[str, str] = {}
    if fault.retry_after is not None:
        headers["retry-after"] = str(fault.retry_after)
    if fault.remaining_zero:
        headers["x-ratelimit-remaining"] = "0"
        headers["x-ratelimit-reset"] = str(int(github.real_time()) + fault.reset_in_s)
        message = "API rate limit exceeded for user ID 1."
    elif fault.status in (403, 429):
        message = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
    else:
        message = "Server Error"
    return Reply(fault.status or 500, {"message": fault.message or message,
                                       "documentation_url": "https://docs.github.com/rest"}, headers, counts=False)


def _bearer(header: str) -> str:
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() in ("bearer", "token") else ""


def _resolve_repo(github: FakeGitHub, ref: str) -> FakeRepo | None:
    """`owner/name` from `/repos/...`, or a numeric id from `/repositories/{id}/...`."""
    if ref.isdigit():
        return next((repo for repo in github.repos.values() if repo.id == int(ref)), None)
    return github.repos.get(ref.lower())
