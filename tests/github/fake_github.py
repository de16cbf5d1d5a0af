"""A GitHub REST server on 127.0.0.1 for tests: real HTTP, the endpoints waterspider uses.

It behaves like api.github.com where we depend on it: ETags and free 304s, `Link` pages
under `/repositories/{id}/...`, pull requests in the issue list, AND label filters, label
auto-creation on add, 404 when removing an absent label, 422 when creating an existing one,
comments, issue events with actors, collaborator permissions, dependencies and sub-issues
addressed by issue *id*, rate-limit headers counting down, and injectable faults (403/429
with `retry-after`, exhausted quota, 5xx runs, dropped connections, slow answers).

    base_url, github = start_fake_github()
    github.add_repo("octo/app")
    github.add_issue("octo/app", "Fix it", labels=["trigger:agent-execute"], labeled_by="octo")
    seed_backlog(github, "octo/app", 30)   # labeled by a maintainer, with blocked-by chains
    ...
    github.stop()
"""

from __future__ import annotations

import hashlib
import json
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qsl, unquote, urlsplit

from .fake_github_model import (
    AUTO_LABEL_COLOR, DEFAULT_LABELS, FAKE_EPOCH, FakeComment, FakeEvent, FakeIssue, FakeLabel, FakeRepo, Ids, Shapes,
)
from .fake_github_routes import ROUTES, Reply

DEFAULT_TOKEN = "test-token"
BOT_LOGIN = "waterspider-bot"
"""Who the default token authenticates as."""

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


@dataclass
class Fault:
    """A response to give instead of the real one (or a delay before it), `times` times."""

    status: int | None
    times: int = 1
    retry_after: int | None = None
    remaining_zero: bool = False
    reset_in_s: int = 60
    delay_s: float = 0.0
    disconnect: bool = False
    method: str | None = None
    path_contains: str | None = None
    message: str | None = None

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and (
            self.path_contains is None or self.path_contains in path
        )


@dataclass(frozen=True)
class RequestRecord:
    method: str
    path: str
    status: int
    conditional: bool
    login: str | None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class FakeGitHub:
    """The server's whole state; tests seed it, break it and count what reached it."""

    base_url: str = ""
    rate_limit: int = 5000
    tokens: dict[str, str] = field(default_factory=lambda: {DEFAULT_TOKEN: BOT_LOGIN})
    real_time: Callable[[], float] = time.time
    repos: dict[str, FakeRepo] = field(default_factory=dict)
    requests: list[RequestRecord] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    rate_used: int = 0
    lock: threading.RLock = field(default_factory=threading.RLock)

    def __post_init__(self) -> None:
        self.ids = Ids()
        self.user_ids: dict[str, int] = {}
        self.issues_by_id: dict[int, tuple[FakeRepo, FakeIssue]] = {}
        self.reset_at = int(self.real_time()) + 3600
        self._ticks = 0
        self._server: ThreadingHTTPServer | None = None
        self.shapes = Shapes(self.base_url, self.user_ids, self.issue_by_id)

    # ----- time, lookups
    def tick(self) -> float:
        """Fake time moves one second per change, so `updated_at` always moves when something does."""
        self._ticks += 1
        return FAKE_EPOCH + self._ticks

    def issue_by_id(self, issue_id: int) -> FakeIssue | None:
        found = self.issues_by_id.get(issue_id)
        return found[1] if found else None

    def repo(self, full_name: str) -> FakeRepo:
        return self.repos[full_name.lower()]

    def issue(self, full_name: str, number: int) -> FakeIssue:
        return self.repo(full_name).issues[number]

    # ----- seeding and changing, as people on GitHub would
    def add_repo(self, full_name: str, *, collaborators: dict[str, str] | None = None) -> FakeRepo:
        with self.lock:
            owner, name = full_name.split("/")
            repo = FakeRepo(self.ids.next("repo"), owner, name)
            for label_name, color, description in DEFAULT_LABELS:
                repo.labels[label_name] = FakeLabel(self.ids.next("label"), label_name, color, description, True)
            repo.permissions.update({owner: "admin", BOT_LOGIN: "write"})
            repo.permissions.update(collaborators or {})
            self.repos[full_name.lower()] = repo
            return repo

    def add_label(self, full_name: str, name: str, color: str = "0e8a16", description: str | None = None) -> None:
        with self.lock:
            repo = self.repo(full_name)
            repo.labels.setdefault(name.lower(), FakeLabel(self.ids.next("label"), name, color, description))

    def set_permission(self, full_name: str, login: str, permission: str) -> None:
        with self.lock:
            self.repo(full_name).permissions[login] = permission

    def add_issue(
        self, full_name: str, title: str, body: str | None = "", *, labels: tuple[str, ...] | list[str] = (),
        user: str = "reporter", labeled_by: str | None = None, assignees: tuple[str, ...] | list[str] = (),
        milestone: str | None = None, pull_request: bool = False, state: str = "open",
    ) -> FakeIssue:
        """A new issue (or pull request); each label is applied by `labeled_by` (default: `user`)."""
        with self.lock:
            repo = self.repo(full_name)
            now = self.tick()
            issue = FakeIssue(self.ids.next("issue"), len(repo.issues) + 1, title, body, user, now, now,
                              assignees=list(assignees), is_pull_request=pull_request)
            if milestone:
                repo.milestones.setdefault(milestone, len(repo.milestones) + 1)
                issue.milestone = milestone
            repo.issues[issue.number] = issue
            self.issues_by_id[issue.id] = (repo, issue)
            for label in labels:
                self.label_issue(full_name, issue.number, label, actor=labeled_by or user)
            if state == "closed":
                self.close_issue(full_name, issue.number)
            return issue

    def label_issue(self, full_name: str, number: int, label: str, *, actor: str) -> None:
        with self.lock:
            repo = self.repo(full_name)
            issue = repo.issues[number]
            known = repo.labels.get(label.lower())
            if known is None:
                known = repo.labels[label.lower()] = FakeLabel(self.ids.next("label"), label, AUTO_LABEL_COLOR)
            if known.name.lower() in (name.lower() for name in issue.labels):
                return
            issue.labels.append(known.name)
            issue.updated_at = self.tick()
            issue.events.append(FakeEvent(self.ids.next("event"), "labeled", actor, issue.updated_at, label=known.name))

    def unlabel_issue(self, full_name: str, number: int, label: str, *, actor: str) -> bool:
        with self.lock:
            issue = self.issue(full_name, number)
            for name in issue.labels:
                if name.lower() == label.lower():
                    issue.labels.remove(name)
                    issue.updated_at = self.tick()
                    issue.events.append(FakeEvent(self.ids.next("event"), "unlabeled", actor, issue.updated_at, label=name))
                    return True
            return False

    def edit_issue(self, full_name: str, number: int, *, actor: str, title: str | None = None,
                   body: str | None = None) -> None:
        """An edit; a title change leaves a `renamed` event, a body change leaves none (as on GitHub)."""
        with self.lock:
            issue = self.issue(full_name, number)
            issue.updated_at = self.tick()
            if title is not None and title != issue.title:
                issue.events.append(FakeEvent(self.ids.next("event"), "renamed", actor, issue.updated_at,
                                              rename=(issue.title, title)))
                issue.title = title
            if body is not None:
                issue.body = body

    def close_issue(self, full_name: str, number: int, *, actor: str = "maintainer") -> None:
        with self.lock:
            issue = self.issue(full_name, number)
            issue.state, issue.state_reason = "closed", "completed"
            issue.closed_at = issue.updated_at = self.tick()
            issue.events.append(FakeEvent(self.ids.next("event"), "closed", actor, issue.updated_at))

    def add_blocked_by(self, full_name: str, number: int, blocker_repo: str, blocker_number: int) -> None:
        with self.lock:
            issue = self.issue(full_name, number)
            issue.blocked_by.append(self.issue(blocker_repo, blocker_number).id)
            issue.updated_at = self.tick()

    def add_sub_issue(self, full_name: str, parent_number: int, sub_repo: str, sub_number: int) -> None:
        with self.lock:
            parent = self.issue(full_name, parent_number)
            sub = self.issue(sub_repo, sub_number)
            parent.sub_issues.append(sub.id)
            sub.parent = parent.id
            parent.updated_at = sub.updated_at = self.tick()

    def add_comment(self, full_name: str, number: int, body: str, *, user: str) -> FakeComment:
        with self.lock:
            repo = self.repo(full_name)
            now = self.tick()
            comment = FakeComment(self.ids.next("comment"), number, user, body, now, now)
            repo.comments[comment.id] = comment
            repo.issues[number].updated_at = now
            return comment

    def comments_on(self, full_name: str, number: int) -> list[FakeComment]:
        with self.lock:
            return sorted((c for c in self.repo(full_name).comments.values() if c.issue_number == number),
                          key=lambda c: c.id)

    def label_names(self, full_name: str) -> set[str]:
        with self.lock:
            return {label.name for label in self.repo(full_name).labels.values()}

    # ----- faults and counting
    def inject(self, status: int | None, **options: Any) -> Fault:
        """Answer the next matching request(s) with `status` (None: only delay or disconnect)."""
        fault = Fault(status, **options)
        with self.lock:
            self.faults.append(fault)
        return fault

    def take_fault(self, method: str, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.times > 0 and fault.matches(method, path):
                    fault.times -= 1
                    if fault.times == 0:
                        self.faults.remove(fault)
                    return fault
        return None

    def count(self, method: str | None = None, path: str | None = None, status: int | None = None) -> int:
        """Requests that reached the server; `path` is a regular expression searched in path+query."""
        with self.lock:
            return sum(
                1 for r in self.requests
                if (method is None or r.method == method) and (path is None or re.search(path, r.path))
                and (status is None or r.status == status)
            )

    def reset_counts(self) -> None:
        with self.lock:
            self.requests.clear()

    @property
    def rate_remaining(self) -> int:
        return max(self.rate_limit - self.rate_used, 0)

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


class _Handler(BaseHTTPRequestHandler):
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
        payload = json.dumps(reply.body).encode() if reply.body is not None else b""
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
        if payload:
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


def start_fake_github(*, rate_limit: int = 5000, tokens: dict[str, str] | None = None,
                      real_time: Callable[[], float] = time.time) -> tuple[str, FakeGitHub]:
    """Serve a fresh fake GitHub on 127.0.0.1 (a free port) in a daemon thread; stop with `.stop()`."""
    github = FakeGitHub(rate_limit=rate_limit, real_time=real_time,
                        tokens=tokens if tokens is not None else {DEFAULT_TOKEN: BOT_LOGIN})
    handler = type("FakeGitHubHandler", (_Handler,), {"github": github})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    base_url = f"http://127.0.0.1:{server.server_address[1]}"
    github.base_url = base_url
    github.shapes.api = base_url
    github._server = server
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-github", daemon=True).start()
    return base_url, github



TRIGGER_LABEL = "trigger:agent-execute"


def seed_backlog(
    github: FakeGitHub, full_name: str, count: int = 30, *, blocked_every: int = 3, maintainer: str = "maintainer",
    trigger_label: str = TRIGGER_LABEL,
) -> list[FakeIssue]:
    """`count` labeled issues, labeled by `maintainer` (given write access; the repository is added if new).

    Every `blocked_every`-th issue is blocked by the one before it through the dependency API,
    and every fifth carries a priority label, so an end-to-end run has a graph to schedule.
    """
    if full_name.lower() not in github.repos:
        github.add_repo(full_name)
    github.set_permission(full_name, maintainer, "write")
    github.add_label(full_name, trigger_label)
    issues: list[FakeIssue] = []
    for index in range(count):
        labels = [trigger_label] + (["P1-High"] if index % 5 == 0 else [])
        issue = github.add_issue(full_name, f"Task {index + 1}", f"Estimate: {15 + index % 4 * 15}m",
                                 labels=labels, labeled_by=maintainer, user=maintainer)
        if blocked_every and index % blocked_every == blocked_every - 1:
            github.add_blocked_by(full_name, issue.number, full_name, issues[-1].number)
        issues.append(issue)
    return issues
