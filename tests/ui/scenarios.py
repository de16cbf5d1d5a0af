"""Scripted runs for the UI tests and the screenshots: real events at a fixed time, no host names."""

from __future__ import annotations

from dataclasses import dataclass, field

from waterspider_tui.adapters.agents.base import LogEntry
from waterspider_tui.adapters.executors.ssh_config import HostConfig
from waterspider_tui.core import events as ev
from waterspider_tui.core.models import (
    ErrorClass, HostStatus, Issue, Outcome, Progress, SessionInfo, SessionResult,
)

from .fakes import FakeEngine

NOW = 1_767_276_000.0
"""2026-01-01 14:00:00 UTC: the frozen "now" of every scenario."""
REPO = "acme/widgets"
MIN = 60.0


def key(number: int) -> str:
    return f"{REPO}#{number}"


def issue(number: int, title: str, *labels: str, deps: tuple[int, ...] = (), estimate: float | None = None, age_h: float = 30) -> Issue:
    return Issue(
        repo=REPO, number=number, title=title, labels=labels, depends_on=tuple(key(dep) for dep in deps),
        estimate_min=estimate, created=NOW - age_h * 3600, url=f"https://github.com/{REPO}/issues/{number}",
    )


def seen(*issues: Issue, at: float = NOW - 6 * 3600) -> list[ev.Event]:
    return [ev.IssueSeen(ts=at, issue_data=item) for item in issues]


def session(number: int, host: str, started_ago: float, attempt: int = 1, executor: str = "ssh", agent: str = "claude") -> SessionInfo:
    return SessionInfo(
        session_id=f"s-{number}-{attempt}", issue=key(number), attempt=attempt, executor=executor, host=host,
        worktree=f".worktrees/issue-{number}", branch=f"feature/issue-{number}",
        log_path=f".waterspider/sessions/issue-{number}/attempt-{attempt}.jsonl",
        started_at=NOW - started_ago, agent=agent,
    )


def run(number: int, host: str, started_ago: float, progress: Progress, attempt: int = 1, executor: str = "ssh") -> list[ev.Event]:
    info = session(number, host, started_ago, attempt, executor)
    return [
        ev.SessionStarted(ts=info.started_at, issue=key(number), session=info),
        ev.SessionSpawned(ts=info.started_at + 1, issue=key(number), session_id=info.session_id, pid=None),
        ev.SessionProgressed(ts=NOW - 20, issue=key(number), session_id=info.session_id, progress=progress),
    ]


def finish(number: int, host: str, took: float, outcome: Outcome, ended_ago: float, attempt: int = 1, error: ErrorClass | None = None,
           cost: float = 0.5, summary: str = "", message: str = "", executor: str = "ssh") -> list[ev.Event]:
    info = session(number, host, ended_ago + took, attempt, executor)
    result = SessionResult(outcome=outcome, error_class=error, error=message, summary=summary, turns=30,
                           cost_usd=cost, duration_s=took, commits=2 if outcome is Outcome.SUCCEEDED else 0,
                           files_changed=4 if outcome is Outcome.SUCCEEDED else 0)
    return [
        ev.SessionStarted(ts=info.started_at, issue=key(number), session=info),
        ev.SessionFinished(ts=NOW - ended_ago, issue=key(number), session_id=info.session_id, result=result),
    ]


def probe(name: str, total: int, used: int, loads: list[float | None], mem: float | None, reachable: bool = True, error: str = "") -> list[ev.Event]:
    out: list[ev.Event] = []
    for index, load in enumerate(loads):
        at = NOW - (len(loads) - index) * 15
        out.append(ev.HostProbed(ts=at, host=HostStatus(
            name=name, slots_total=total, slots_used=used, reachable=reachable if index == len(loads) - 1 else True,
            load=load, mem_percent=mem, probed_at=at, error=error if index == len(loads) - 1 else "",
        )))
    return out


def polled(remaining: int = 4812, limit: int = 5000, next_in: float = 7, wait_until: float | None = None) -> ev.Event:
    return ev.SourcePolled(ts=NOW - 53, source=f"github:{REPO}", ok=True, next_poll=NOW + next_in,
                           rate_remaining=remaining, rate_limit=limit, wait_until=wait_until)


def agent_log() -> list[LogEntry]:
    return [
        LogEntry("system", "session s-443-1 started · claude · model sonnet"),
        LogEntry("text", "I'll start by reading the login handler and its tests."),
        LogEntry("tool", "Read src/auth/login.py"),
        LogEntry("tool", "→ read 120 lines"),
        LogEntry("tool", "Bash pytest -q tests/auth"),
        LogEntry("tool", "→ 1 failed, 13 passed in 2.31s  (4 lines)"),
        LogEntry("text", "The crash comes from an empty password reaching the hasher."),
        LogEntry("tool", "Edit src/auth/login.py (+12 −3)"),
        LogEntry("tool", "Edit tests/auth/test_login.py (+18 −0)"),
        LogEntry("error", "API Error: 529 overloaded, retrying in 2s"),
        LogEntry("tool", "Bash pytest -q tests/auth"),
        LogEntry("tool", "→ 14 passed in 2.40s"),
        LogEntry("text", "I fixed the empty-password path and added a regression test."),
    ]


LOAD_LOCAL = [0.8, 1.0, 1.3, 1.6, 1.9, 1.7, 1.5, 1.2, 1.4, 1.6, 1.5, 1.4]
LOAD_MINI1 = [2.1, 2.8, 3.3, 3.9, 4.2, 4.0, 3.7, 3.5, 3.8, 4.1, 3.9, 3.9]
LOAD_MINI2 = [0.5, 0.6, 0.4, 0.9, 1.1, 0.7, 0.6, 0.5, 0.8, 0.9, 0.7, 0.8]


def backlog() -> list[Issue]:
    """The issues of acme/widgets used by the mid-run scenarios."""
    return [
        issue(440, "Fix flaky upload test", "P2"),
        issue(441, "Migrate settings page to new forms", "P1"),
        issue(442, "Remove legacy exporter", "P3"),
        issue(443, "Fix login crash on empty password", "P0-Critical", estimate=90),
        issue(444, "Rate-limit password reset", "P1"),
        issue(445, "Docs for config file", "P3"),
        issue(446, "Add audit log table", "P1"),
        issue(447, "Session store in Redis", "P2", estimate=120),
        issue(448, "Payment webhook retries", "P0", estimate=60),
        issue(450, "Cache headers for static assets", "P1", estimate=30),
        issue(452, "Flaky test in CI matrix", "P2"),
        issue(453, "Update dependencies", "P3", estimate=45),
        issue(454, "Dark mode for emails", estimate=240, age_h=200),
        issue(456, "Typo in README", "P3", estimate=10),
        issue(455, "Use new schema for orders", "P1", deps=(447, 448), estimate=180),
        issue(457, "Refund flow", "P1", deps=(441,)),
        issue(460, "Split the parser module", "P2", deps=(461,)),
        issue(461, "Parser tokens as enums", "P2", deps=(460,)),
        issue(462, "Export orders as CSV", "P2"),
        issue(463, "Bump Python to 3.13", "P3"),
        issue(464, "Retry webhooks on 5xx", "P1"),
        issue(470, "Launch checklist", "P1", deps=(455,), estimate=240),
    ]


def mid_run_events(*, mini2_down: bool = False) -> list[ev.Event]:
    events: list[ev.Event] = [*seen(*backlog())]
    events += finish(440, "mini-1", 18 * MIN, Outcome.SUCCEEDED, 50 * MIN, cost=1.10,
                     summary=f"Fixed the race in the upload test. https://github.com/{REPO}/pull/501")
    events += finish(441, "mini-2", 22 * MIN, Outcome.FAILED, 3 * 3600, error=ErrorClass.MAX_TURNS, cost=0.92, message="reached max turns (40)")
    events.append(ev.RetryScheduled(ts=NOW - 3 * 3600 + 5, issue=key(441), not_before=NOW - 2.9 * 3600, error_class="max_turns"))
    events += finish(441, "mini-2", 25 * MIN, Outcome.FAILED, 2 * 3600, attempt=2, error=ErrorClass.MAX_TURNS, cost=1.05, message="reached max turns (40)")
    events += finish(442, "local", 4 * MIN, Outcome.CANCELLED, 90 * MIN, cost=0.12, executor="local")
    events += run(443, "mini-1", 12 * MIN, Progress("implementing", 2, 5, 23, 0.84, "Edit src/auth/login.py (+12 −3)", NOW - 20))
    events += run(444, "local", 8 * MIN, Progress("testing", 3, 5, 17, 0.51, "Bash pytest -q tests/reset", NOW - 5), executor="local")
    events += run(445, "mini-2", 1 * MIN, Progress("analysing", 0, 5, 2, 0.02, "Read docs/config.md", NOW - 30))
    events += run(446, "mini-1", 25 * MIN, Progress("implementing", 2, 4, 31, 1.22, "Bash alembic upgrade head", NOW - 7 * MIN))
    events += run(447, "local", 4 * MIN, Progress("planning", 0, 0, 5, 0.09, "TodoWrite 0/4 done", NOW - 12), executor="local")
    events += [
        ev.PriorityBumped(ts=NOW - 3000, issue=key(456), delta=1, by="operator"),
        ev.IssuePinned(ts=NOW - 2990, issue=key(452), pinned=True, by="operator"),
        ev.IssuePaused(ts=NOW - 2980, issue=key(462), by="operator"),
        ev.IssueHeld(ts=NOW - 2970, issue=key(463), reason="label added by an untrusted account"),
        ev.Warned(ts=NOW - 2960, message="#460 and #461 wait on each other; both are held", issue=key(460)),
    ]
    events += finish(464, "mini-2", 3 * MIN, Outcome.FAILED, 60, error=ErrorClass.RATE_LIMITED, cost=0.05, message="429 from the API")
    events.append(ev.RetryScheduled(ts=NOW - 55, issue=key(464), not_before=NOW + 4 * MIN, error_class="rate_limited"))
    events += probe("local", 2, 2, LOAD_LOCAL, 41, )
    events += probe("mini-1", 3, 2, LOAD_MINI1, 63)
    if mini2_down:
        events += probe("mini-2", 3, 1, LOAD_MINI2[:-1] + [None], None, reachable=False, error="ssh: connect to port 22: connection refused")
    else:
        events += probe("mini-2", 3, 1, LOAD_MINI2, 22)
    events += probe("actions", 5, 0, [None], None)
    events.append(polled())
    return events


@dataclass
class Scenario:
    """A named fixture: the events, the logs, and where the engine's clock stands."""

    name: str
    events: list[ev.Event]
    logs: dict[str, list[LogEntry]] = field(default_factory=dict)
    attempt_logs: dict[tuple[str, int], list[LogEntry]] = field(default_factory=dict)
    title: str = REPO
    capacity: int = 5
    diffs: dict[str, str] = field(default_factory=dict)
    hosts: dict[str, HostConfig] = field(default_factory=dict)
    configured_hosts: dict[str, int] = field(default_factory=dict)
    """Every configured host and its slots, probed or not."""

    def engine(self) -> FakeEngine:
        ordered = sorted(self.events, key=lambda event: event.ts)
        return FakeEngine(ordered, now=NOW, title=self.title, capacity=self.capacity, logs=self.logs, attempt_logs=self.attempt_logs,
                          diffs=self.diffs, hosts=self.hosts, configured_hosts=self.configured_hosts)


def empty() -> Scenario:
    return Scenario("empty", [])


def just_started() -> Scenario:
    """Seconds after a start: the issues are in, only mini-1 of three configured hosts has answered its probe."""
    events: list[ev.Event] = [*seen(*backlog()[:6], at=NOW - 5)]
    events += probe("mini-1", 3, 0, [0.4], 31)
    events.append(polled())
    return Scenario("just_started", events, configured_hosts={"local": 2, "mini-1": 3, "mini-2": 3})


def failed_log(attempt: int) -> list[LogEntry]:
    """What #441's sessions left on disk: both ran out of turns."""
    return [
        LogEntry("system", f"session s-441-{attempt} started · claude · model sonnet"),
        LogEntry("text", "I'll move the settings page to the new forms, one section at a time."),
        LogEntry("tool", "Read src/settings/page.py"),
        LogEntry("tool", "→ read 410 lines"),
        LogEntry("tool", "Bash pytest -q tests/settings"),
        LogEntry("tool", "→ error: 3 failed, 21 passed in 4.10s"),
        LogEntry("text", "The profile section still uses the old validators."),
        LogEntry("tool", "Edit src/settings/profile.py (+40 −31)"),
        LogEntry("tool", "Bash pytest -q tests/settings"),
        LogEntry("tool", "→ error: 1 failed, 23 passed in 4.02s"),
        LogEntry("error", "API Error: 529 overloaded, retrying in 2s"),
        LogEntry("tool", "Edit src/settings/notifications.py (+22 −18)"),
        LogEntry("result", "failed, max_turns (40 turns, 1320.0s, $0.9200): Reached maximum number of turns (40)"),
    ]


DIFF_440 = """\
 tests/test_upload.py | 9 ++++++---
 src/upload.py        | 4 +++-
 2 files changed, 9 insertions(+), 4 deletions(-)

diff --git a/src/upload.py b/src/upload.py
index 3b18e51..a1f9c2d 100644
--- a/src/upload.py
+++ b/src/upload.py
@@ -40,7 +40,9 @@ def finish_upload(part, store):
     checksum = part.checksum()
-    store.commit(part)
+    with store.lock(part.upload_id):
+        store.commit(part)
+        store.mark_complete(part.upload_id)
     return checksum
diff --git a/tests/test_upload.py b/tests/test_upload.py
index 77d0c3e..5e2b8a1 100644
--- a/tests/test_upload.py
+++ b/tests/test_upload.py
@@ -12,9 +12,12 @@ def test_parallel_parts_finish_once(store):
-    parts = [make_part(n) for n in range(2)]
-    run_all(parts)
-    assert store.completed == 1
+    parts = [make_part(n) for n in range(8)]
+    for _ in range(20):
+        store.reset()
+        run_all(parts)
+        assert store.completed == 1
+        assert store.commits == 8
"""
"""What `git diff main...feature/issue-440` shows on mini-1."""

MINIS = {name: HostConfig(name=name, address=f"{name}.lan", user="ci", repo_path="~/src/widgets") for name in ("mini-1", "mini-2")}
"""The `[[hosts]]` of the mid-run scenario's SSH sessions."""


def mid_run() -> Scenario:
    return Scenario("mid_run", mid_run_events(), logs={key(443): agent_log(), key(441): failed_log(2)}, attempt_logs={(key(441), 1): failed_log(1)},
                    diffs={key(440): DIFF_440}, hosts=MINIS)


def host_down() -> Scenario:
    return Scenario("host_down", mid_run_events(mini2_down=True), logs={key(443): agent_log()})


def failure() -> Scenario:
    """A bad night: the usage limit paused dispatch, sessions failed, a file was rejected."""
    issues = [
        issue(501, "Add OAuth login", "P0", estimate=120),
        issue(502, "Webhook signature check", "P1"),
        issue(503, "Nightly export job", "P2"),
        issue(504, "Use OAuth for the admin", "P1", deps=(501,)),
        issue(505, "Search by SKU", "P2"),
        issue(506, "Remove jQuery", "P3", deps=(503,)),
    ]
    events: list[ev.Event] = [*seen(*issues)]
    events += finish(501, "mini-1", 14 * MIN, Outcome.FAILED, 40 * MIN, error=ErrorClass.AUTH, cost=0.02, message="Invalid API key · Please run /login")
    events += finish(502, "local", 31 * MIN, Outcome.FAILED, 30 * MIN, error=ErrorClass.STALLED, cost=0.71, message="no output for 10m", executor="local")
    events += finish(503, "mini-2", 2 * MIN, Outcome.FAILED, 20 * MIN, error=ErrorClass.WORKSPACE, cost=0.0, message="git worktree add: branch feature/issue-503 already exists")
    events += finish(505, "mini-1", 9 * MIN, Outcome.FAILED, 10 * MIN, error=ErrorClass.USAGE_LIMIT, cost=0.33, message="Claude usage limit reached")
    events += [
        ev.DispatcherPaused(ts=NOW - 10 * MIN, by="limit", reason="usage_limit: waiting for the reset", until=NOW + 50 * MIN),
        ev.IssueRejected(ts=NOW - 6 * 3600, path="issues/0507-bad-front-matter.md", error="front matter: 'depends_on' must be a list of issue numbers"),
        ev.Warned(ts=NOW - 6 * 3600, message="#506 references #999, which no source knows"),
        ev.Warned(ts=NOW - 40 * MIN, message="mini-2: ssh: connection timed out"),
    ]
    events += probe("local", 2, 0, LOAD_LOCAL, 35)
    events += probe("mini-1", 3, 0, LOAD_MINI1, 48)
    events += probe("mini-2", 3, 0, LOAD_MINI2[:-1] + [None], None, reachable=False, error="ssh: connection timed out")
    events.append(polled(remaining=38, limit=5000, next_in=300, wait_until=NOW + 25 * MIN))
    return Scenario("failure", events)


def cycle() -> Scenario:
    """Issues that wait on each other, next to a plain chain, for the blocked panel and the DAG."""
    issues = [
        issue(601, "Define the plugin API", "P1", estimate=120),
        issue(602, "Port the CSV plugin", "P2", deps=(601,)),
        issue(603, "Port the JSON plugin", "P2", deps=(601,)),
        issue(604, "Plugin docs", "P3", deps=(602, 603)),
        issue(610, "Split the parser module", "P2", deps=(611,)),
        issue(611, "Parser tokens as enums", "P2", deps=(610,)),
        issue(620, "Config loader v2", "P1", deps=(622,)),
        issue(621, "Env overrides for config", "P2", deps=(620,)),
        issue(622, "Validate config schema", "P2", deps=(621,)),
        issue(630, "Release 2.0", "P0", deps=(604, 610)),
    ]
    events: list[ev.Event] = [*seen(*issues)]
    events.append(ev.Warned(ts=NOW - 5 * 3600, message="cycle #610 → #611 → #610: both held until one dependency is removed"))
    events.append(ev.Warned(ts=NOW - 5 * 3600, message="cycle #620 → #622 → #621 → #620: all held until one dependency is removed"))
    events += run(601, "local", 6 * MIN, Progress("implementing", 1, 3, 9, 0.31, "Write src/plugins/api.py (+80)", NOW - 15), executor="local")
    events += probe("local", 2, 1, LOAD_LOCAL, 30)
    events.append(polled())
    return Scenario("cycle", events)


def github_down() -> Scenario:
    """GitHub unreachable for five minutes: the last good list is kept, the header says so."""
    events = [event for event in mid_run_events() if not isinstance(event, ev.SourcePolled)]
    source = f"github:{REPO}"
    events.append(ev.SourcePolled(ts=NOW - 5 * MIN, source=source, ok=True, next_poll=NOW - 5 * MIN + 10, rate_remaining=4812, rate_limit=5000))
    for ago in (290, 230, 170, 110, 50, 2):
        events.append(ev.SourcePolled(ts=NOW - ago, source=source, ok=False, message="ConnectError: [Errno -3] Temporary failure in name resolution",
                                      next_poll=NOW - ago + 10, rate_remaining=4812, rate_limit=5000))
    events.append(ev.Warned(ts=NOW - 290, message=f"{source}: ConnectError: [Errno -3] Temporary failure in name resolution (keeping the last good list)"))
    return Scenario("github_down", events, logs={key(443): agent_log()})


def all_done() -> Scenario:
    """Twenty of twenty succeeded: nothing runs, nothing waits."""
    issues = [issue(700 + n, f"Finished task number {n}", ("P0", "P1", "P2", "P3")[n % 4]) for n in range(20)]
    events: list[ev.Event] = [*seen(*issues)]
    for n in range(20):
        events += finish(700 + n, "local", (5 + n) * MIN, Outcome.SUCCEEDED, (40 - n) * MIN, cost=0.2 + n / 100, executor="local")
    events += probe("local", 5, 0, LOAD_LOCAL, 30)
    events.append(polled())
    return Scenario("all_done", events)


def large(running: int = 200, queued: int = 800) -> Scenario:
    """Hundreds of sessions at once, for the responsiveness test."""
    issues = [issue(1000 + n, f"Generated task number {n}", ("P0", "P1", "P2", "P3")[n % 4]) for n in range(running + queued)]
    events: list[ev.Event] = [*seen(*issues)]
    for n in range(running):
        events += run(1000 + n, f"host-{n % 20}", (n % 50) * MIN, Progress("implementing", n % 5, 5, n % 40, 0.01 * n, "Edit src/module.py", NOW - n))
    for h in range(20):
        events += probe(f"host-{h}", 10, 10, [1.0 + h / 10] * 4, 50)
    return Scenario("large", events, capacity=running)
