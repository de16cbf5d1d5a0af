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

import re
import threading
import time
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from typing import Any, Callable

from .fake_github_http import GitHubHandler
from .fake_github_model import (
    AUTO_LABEL_COLOR, DEFAULT_LABELS, FAKE_EPOCH, Fault, FakeComment, FakeEvent, FakeIssue, FakeLabel, FakeRepo, Ids,
    RequestRecord, Shapes,
)

DEFAULT_TOKEN = "test-token"
BOT_LOGIN = "waterspider-bot"
"""Who the default token authenticates as."""

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


def start_fake_github(*, rate_limit: int = 5000, tokens: dict[str, str] | None = None,
                      real_time: Callable[[], float] = time.time) -> tuple[str, FakeGitHub]:
    """Serve a fresh fake GitHub on 127.0.0.1 (a free port) in a daemon thread; stop with `.stop()`."""
    github = FakeGitHub(rate_limit=rate_limit, real_time=real_time,
                        tokens=tokens if tokens is not None else {DEFAULT_TOKEN: BOT_LOGIN})
    handler = type("FakeGitHubHandler", (GitHubHandler,), {"github": github})
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
