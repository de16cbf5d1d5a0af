"""The milestone integrator on real git repositories, driven through the real outbox on a real store."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any, Callable

import httpx
import pytest

from tests.github.fake_github import DEFAULT_TOKEN, start_fake_github
from tests.github.fake_github_milestones import milestone_state
from tests.github.fake_github_pulls import merge_pull
from tests.sinks.backlog import T0, issue, ran, seen, started, succeeded
from waterspider_tui.adapters.github.client import GitHubClient
from waterspider_tui.adapters.integration import BranchIntegrator, MemberBranch, PipelineGate
from waterspider_tui.adapters.integration.closing import MilestoneCloser
from waterspider_tui.adapters.integration.publish import START, MilestonePublisher
from waterspider_tui.adapters.sinks.milestones import MilestoneSink
from waterspider_tui.adapters.sinks.outbox import Outbox
from waterspider_tui.core import events as ev
from waterspider_tui.store.event_log import EventLog
from waterspider_tui.store.sink_cursors import SinkCursors
from waterspider_tui.store.state_store import StateStore

IDENTITY = ["-c", "user.name=Test Operator", "-c", "user.email=operator@example.com", "-c", "commit.gpgsign=false"]
REPO = "acme/app"


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *IDENTITY, *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def commit(cwd: Path, files: dict[str, str], message: str) -> str:
    for name, text in files.items():
        (cwd / name).parent.mkdir(parents=True, exist_ok=True)
        (cwd / name).write_text(text)
        git(cwd, "add", name)
    git(cwd, "commit", "-q", "-m", message)
    return git(cwd, "rev-parse", "HEAD")


def make_repo(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    commit(root, {"README.md": "# app\n", "src/app.py": "def main():\n    return 0\n", ".gitignore": ".worktrees/\n"}, "start")
    return root


def issue_branch(root: Path, number: int, files: dict[str, str], base: str = "main") -> None:
    """The issue's work on `feature/issue-N`, branched from the base as a session's worktree is."""
    git(root, "branch", f"feature/issue-{number}", base)
    scratch = root.parent / f"scratch-{number}"
    git(root, "worktree", "add", "-q", str(scratch), f"feature/issue-{number}")
    commit(scratch, files, f"Issue {number}")
    git(root, "worktree", "remove", str(scratch))


class Run:
    """A store, the milestone sink and its outbox on one repository."""

    def __init__(
        self, db: Path, root: Path, *, repo: str = "local", publisher: MilestonePublisher | None = None, gate: Any = None, remote: str = "",
        closer: MilestoneCloser | None = None, clock: Callable[[], float] = time.time, on_conflict: str = "report",
    ) -> None:
        self.log = EventLog(db)
        self.state = StateStore(self.log)
        self.cursors = SinkCursors(db)
        self.repo = repo
        self.integrator = BranchIntegrator(root, "main", remote=remote)
        self.sink = MilestoneSink(self.integrator, publisher=publisher, gate=gate, closer=closer, clock=clock, check_interval_s=10.0,
                                  on_conflict=on_conflict)  # type: ignore[arg-type]
        self.warnings: list[str] = []
        self.reports: list[ev.Event] = []
        """What the sink reported, as stored (the engine's `record` does the same)."""
        self.outbox = Outbox(self.log, self.sink, cursors=self.cursors, snapshot=lambda: self.state.snapshot, warn=self.warnings.append, record=self.record,
                             clock=clock)

    def record(self, *events: ev.Event) -> None:
        stored = self.state.record(events)
        self.reports += [event for event in stored if isinstance(event, ev.MILESTONE_EVENTS)]

    def close(self) -> None:
        self.cursors.close()
        self.log.close()


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return make_repo(tmp_path)


@pytest.fixture
def runs(tmp_path: Path):
    opened: list[Run] = []

    def make(root: Path, **options: Any) -> Run:
        opened.append(Run(tmp_path / "state.db", root, **options))
        return opened[-1]

    yield make
    for run in opened:
        run.close()


DEPENDENCIES = {4: [], 2: [4], 5: [2], 1: [2, 5], 3: [1]}
"""Five issues of v1.0 whose dependency order (4, 2, 5, 1, 3) is not their number order."""


def five_issues(root: Path, repo: str = "local") -> list[ev.Event]:
    for number in DEPENDENCIES:
        issue_branch(root, number, {f"src/part{number}.py": f"PART = {number}\n", f"docs/{number}.md": f"issue {number}\n"})
    events: list[ev.Event] = seen(*(issue(number, deps=deps, repo=repo) for number, deps in DEPENDENCIES.items()))
    events += seen(issue(9, milestone="v2.0", repo=repo))
    for offset, number in enumerate(DEPENDENCIES):
        events += [started(number, T0 + offset, repo=repo), succeeded(number, T0 + offset + 0.5, repo=repo)]
    return events


def first_parent_subjects(root: Path, branch: str) -> list[str]:
    return git(root, "log", "--first-parent", "--format=%s", f"main..{branch}").splitlines()[::-1]


async def test_five_dependent_issues_are_integrated_into_one_branch_in_order(root: Path, runs) -> None:
    run = runs(root, gate=PipelineGate({"commands": [{"name": "parts", "run": "test -f src/part3.py && test -f src/part4.py"}]}))
    run.record(*five_issues(root))
    assert await run.outbox.drain(deadline_s=60) == 0
    assert first_parent_subjects(root, "integration/v1.0") == [
        f"Merge #{number} Task {number} (feature/issue-{number})" for number in (4, 2, 5, 1, 3)
    ]
    files = git(root, "ls-tree", "-r", "--name-only", "integration/v1.0").splitlines()
    assert {f"src/part{number}.py" for number in DEPENDENCIES} <= set(files)
    [report] = run.reports
    assert isinstance(report, ev.MilestoneIntegrated) and report.ok and report.gate_ok and report.repo == "local"
    assert report.issues == tuple(f"local#{number}" for number in (4, 2, 5, 1, 3))
    assert report.summary.startswith("milestone v1.0: 5 issues integrated into integration/v1.0 at ") and report.summary.count("gate passed") == 1
    assert run.state.snapshot.integrations[("local", "v1.0")] == report and not run.warnings
    assert git(root, "rev-parse", "--abbrev-ref", "HEAD") == "main" and git(root, "status", "--porcelain") == "", "the operator's checkout is untouched"
    assert len(run.sink.results) == 1, "only the issue that ended last completes the milestone"

    again = await run.sink.deliver([event for event in run.log.read() if run.sink.wants(event)], run.state.snapshot)
    assert again and "(already up to date)" in again[0].summary, "a batch offered again reuses the branch"


async def test_a_failing_gate_on_the_integrated_branch_is_reported(root: Path, runs) -> None:
    run = runs(root, gate=PipelineGate({"commands": [{"name": "tests", "run": "echo 2 failed; exit 1"}]}))
    run.record(*five_issues(root))
    assert await run.outbox.drain(deadline_s=60) == 0
    [result] = run.sink.results
    assert not result.ok and result.gate is not None and "2 failed" in result.gate.output
    [report] = run.reports
    assert isinstance(report, ev.MilestoneIntegrated) and report.gate_ok is False and not report.ok
    assert "gate FAILED: tests (exit 1" in report.summary and "gate failed:" not in report.summary


async def test_a_planted_conflict_is_reported_with_the_right_issues_files_and_merge_base(root: Path, runs) -> None:
    start = git(root, "rev-parse", "HEAD")
    issue_branch(root, 1, {"src/app.py": "def main():\n    return 1\n", "src/one.py": "ONE = 1\n"})
    issue_branch(root, 2, {"src/two.py": "TWO = 2\n"})
    issue_branch(root, 3, {"src/app.py": "def main():\n    return 3\n", "src/three.py": "THREE = 3\n"})
    run = runs(root)
    run.record(*seen(issue(1), issue(2, deps=[1]), issue(3, deps=[2])))
    run.record(*(event for number in (1, 2, 3) for event in (started(number, T0 + number), succeeded(number, T0 + number))))
    assert await run.outbox.drain(deadline_s=60) == 0
    [result] = run.sink.results
    conflict = result.conflict
    assert conflict is not None and not result.ok
    assert conflict.member.label == "#3" and [member.label for member in conflict.with_members] == ["#1"]
    assert conflict.files == ("src/app.py",) and not conflict.with_base
    assert start.startswith(conflict.merge_base)
    assert [member.label for member in conflict.merged] == ["#1", "#2"] and [member.label for member in conflict.not_merged] == ["#3"]
    [report] = run.reports
    assert isinstance(report, ev.MilestoneConflict) and report.issue == "local#3" and report.with_issues == ("local#1",)
    assert report.files == ("src/app.py",) and report.merge_base == conflict.merge_base and report.merged == ("local#1", "local#2")
    assert f"#3 (feature/issue-3) conflicts with #1 (feature/issue-1) in src/app.py (merge base {conflict.merge_base})" in report.summary
    assert "Nothing was resolved" in report.summary and "requeue #3" in report.summary
    assert first_parent_subjects(root, "integration/v1.0") == ["Merge #1 Task 1 (feature/issue-1)", "Merge #2 Task 2 (feature/issue-2)"]
    worktree = run.integrator.worktree_for("v1.0")
    assert git(worktree, "status", "--porcelain") == "", "the failed merge was aborted, nothing half-resolved is left"
    assert git(root, "show", "integration/v1.0:src/app.py") == "def main():\n    return 1"


async def test_on_conflict_requeue_rebased_sends_the_later_issue_back_with_the_conflict_to_resolve(root: Path, runs) -> None:
    from waterspider_tui.core.models import TaskState
    from waterspider_tui.engine.after_agent import follow_up_of

    issue_branch(root, 1, {"src/app.py": "def main():\n    return 1\n", "src/one.py": "ONE = 1\n"})
    issue_branch(root, 2, {"src/two.py": "TWO = 2\n"})
    issue_branch(root, 3, {"src/app.py": "def main():\n    return 3\n", "src/three.py": "THREE = 3\n"})
    run = runs(root, on_conflict="requeue_rebased")
    run.record(*seen(issue(1), issue(2, deps=[1]), issue(3, deps=[2])))
    run.record(*(event for number in (1, 2, 3) for event in (started(number, T0 + number), succeeded(number, T0 + number))))
    assert await run.outbox.drain(deadline_s=60) == 0
    [report] = run.reports
    assert isinstance(report, ev.MilestoneConflict) and report.requeued and report.issue == "local#3"
    assert "#3 requeued on top of integration/v1.0 to resolve it (integration branch merged into its worktree, conflicts left" in report.summary
    task = run.state.snapshot.tasks["local#3"]
    assert task.state is TaskState.QUEUED and task.reworks == 1
    prompt = follow_up_of(task)
    assert "conflicts with #1 (feature/issue-1) in these files" in prompt and "- src/app.py" in prompt and "never drop either side" in prompt

    worktree = root / ".worktrees" / "issue-3"
    assert git(worktree, "diff", "--name-only", "--diff-filter=U") == "src/app.py", "the conflict is left to the agent, not resolved"
    assert "<<<<<<<" in (worktree / "src/app.py").read_text()
    assert git(root, "rev-parse", "--abbrev-ref", "HEAD") == "main" and git(root, "status", "--porcelain") == ""

    # The agent resolves it keeping both sides, commits the merge, and the session succeeds: the milestone integrates.
    (worktree / "src/app.py").write_text("def main():\n    return 1 + 3\n")
    git(worktree, "add", "src/app.py")
    git(worktree, "commit", "-q", "--no-edit")
    run.record(started(3, T0 + 10, attempt=2), succeeded(3, T0 + 11, attempt=2))
    assert run.state.snapshot.tasks["local#3"].rework_note == "", "the note went with the session that resolved it"
    assert await run.outbox.drain(deadline_s=60) == 0
    integrated = run.reports[-1]
    assert isinstance(integrated, ev.MilestoneIntegrated) and integrated.issues == ("local#1", "local#2", "local#3")
    assert git(root, "show", "integration/v1.0:src/app.py") == "def main():\n    return 1 + 3"
    assert {"src/one.py", "src/two.py", "src/three.py"} <= set(git(root, "ls-tree", "-r", "--name-only", "integration/v1.0").splitlines())


async def test_a_conflict_requeues_the_same_issue_twice_at_most(root: Path, runs) -> None:
    issue_branch(root, 1, {"src/app.py": "one\n"})
    issue_branch(root, 2, {"src/app.py": "two\n"})
    run = runs(root, on_conflict="requeue_rebased")
    run.record(*seen(issue(1), issue(2, deps=[1])))
    run.record(*ran(1, T0 + 1), *ran(2, T0 + 2))
    for attempt in (2, 3):  # its agent "resolves" nothing: the branch still conflicts
        await run.outbox.drain(deadline_s=60)
        git(root / ".worktrees" / "issue-2", "merge", "--abort")
        run.record(started(2, T0 + attempt * 10, attempt=attempt), succeeded(2, T0 + attempt * 10 + 1, attempt=attempt))
    await run.outbox.drain(deadline_s=60)
    requeued = [report.requeued for report in run.reports if isinstance(report, ev.MilestoneConflict)]
    assert requeued == [True, True, False]
    assert "not requeued: sent back 2 times already, it needs the operator" in run.reports[-1].summary


async def test_a_conflict_with_the_base_itself_names_the_base(root: Path, tmp_path: Path) -> None:
    issue_branch(root, 7, {"README.md": "# app, by issue 7\n"})
    commit(root, {"README.md": "# app, changed on main\n"}, "main moves on")
    members = [MemberBranch("local#7", "#7", "Docs", "feature/issue-7")]
    result = await BranchIntegrator(root, "main").integrate("v3", members)
    assert result.conflict is not None and result.conflict.with_base and result.conflict.with_members == ()
    assert "conflicts with the base main in README.md" in result.line()


async def test_a_missing_branch_integrates_nothing(root: Path) -> None:
    result = await BranchIntegrator(root, "main").integrate("v1.0", [MemberBranch("local#1", "#1", "Gone", "feature/issue-1")])
    assert [member.label for member in result.missing] == ["#1"] and "branch not found for #1 (feature/issue-1)" in result.line()
    assert subprocess.run(["git", "rev-parse", "--verify", "--quiet", "integration/v1.0"], cwd=root).returncode != 0


async def test_a_folder_in_the_way_is_never_removed(root: Path) -> None:
    issue_branch(root, 1, {"src/one.py": "ONE = 1\n"})
    stranger = root / ".worktrees" / "integration-v1.0"
    stranger.mkdir(parents=True)
    (stranger / "notes.txt").write_text("mine")
    result = await BranchIntegrator(root, "main").integrate("v1.0", [MemberBranch("local#1", "#1", "One", "feature/issue-1")])
    assert "is in the way" in result.error and (stranger / "notes.txt").read_text() == "mine"


async def test_with_a_remote_branches_are_fetched_and_the_result_pushed(root: Path, tmp_path: Path) -> None:
    remote = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(root, "remote", "add", "origin", str(remote))
    issue_branch(root, 1, {"src/one.py": "ONE = 1\n"})
    issue_branch(root, 2, {"src/two.py": "TWO = 2\n"})
    git(root, "push", "-q", "origin", "main", "feature/issue-1", "feature/issue-2")
    git(root, "branch", "-D", "feature/issue-1", "feature/issue-2")  # the sessions ran on other hosts
    members = [MemberBranch(f"local#{n}", f"#{n}", f"Task {n}", f"feature/issue-{n}") for n in (1, 2)]
    result = await BranchIntegrator(root, "main", remote="origin").integrate("v1.0", members)
    assert result.ok and result.pushed_to == "origin"
    assert git(remote, "rev-parse", "integration/v1.0") == result.head


async def test_the_milestone_pull_request_lists_every_issue_and_a_rerun_updates_it(root: Path, runs) -> None:
    _, github = start_fake_github()
    github.add_repo(REPO, collaborators={"maintainer": "write"})
    for number in range(1, 10):
        github.add_issue(REPO, f"Task {number}", labels=[], labeled_by="maintainer")
    client = GitHubClient(github.base_url, DEFAULT_TOKEN, min_write_interval=0.0)
    try:
        run = runs(root, repo=REPO, publisher=MilestonePublisher(client, labels=["milestone"]))
        run.record(*five_issues(root, repo=REPO))
        assert await run.outbox.drain(deadline_s=60) == 0
        [report] = run.reports
        assert isinstance(report, ev.MilestoneIntegrated) and report.pull_request == 10 and "pull request #10 opened" in report.published
        pull = github.issue(REPO, 10)
        assert pull.title == "Milestone v1.0: 5 issues integrated" and "milestone" in pull.labels
        rows = [line for line in (pull.body or "").splitlines() if line.startswith("| ") and "Issue" not in line]
        assert [row.split(" | ")[1].split()[0] for row in rows] == ["#4", "#2", "#5", "#1", "#3"]
        await run.sink.deliver([event for event in run.log.read() if run.sink.wants(event)], run.state.snapshot)
        assert github.count("POST", r"/pulls$") == 1 and github.count("PATCH", r"/pulls/10$") == 1, "updated, not opened twice"
    finally:
        await client.aclose()
        github.stop()


async def test_the_milestone_closes_once_its_pull_request_is_merged_and_stays_closed_across_restarts(root: Path, runs, tmp_path: Path) -> None:
    _, github = start_fake_github()
    github.add_repo(REPO, collaborators={"maintainer": "write"})
    for number in range(1, 10):
        github.add_issue(REPO, f"Task {number}", labels=[], labeled_by="maintainer", milestone="v1.0" if number in DEPENDENCIES else None)
    client = GitHubClient(github.base_url, DEFAULT_TOKEN, min_write_interval=0.0)
    now = [T0 + 100]
    clock = lambda: now[0]  # noqa: E731
    pull_asks = lambda status=None: github.count("GET", rf"/repos/{REPO}/pulls/10$", status)  # noqa: E731
    try:
        run = runs(root, repo=REPO, publisher=MilestonePublisher(client), closer=MilestoneCloser(client), clock=clock)
        run.record(*five_issues(root, repo=REPO))
        assert await run.outbox.drain(deadline_s=1) == 0
        [integrated] = run.reports
        assert isinstance(integrated, ev.MilestoneIntegrated) and integrated.pull_request == 10
        assert run.sink.due_at() == now[0] + 10, "asked about at the collector's pace"

        for _ in range(2):  # not merged yet: asked twice, the second time a free 304
            now[0] += 10
            await run.outbox.drain(deadline_s=1)
        assert pull_asks() == 2 and pull_asks(304) == 1
        assert milestone_state(github, REPO, "v1.0") == "open" and run.state.snapshot.milestones_closed == {}

        merge_pull(github, REPO, 10)
        now[0] += 10
        await run.outbox.drain(deadline_s=1)
        closed = run.reports[-1]
        assert isinstance(closed, ev.MilestoneClosed) and (closed.number, closed.pull_request) == (1, 10)
        assert milestone_state(github, REPO, "v1.0") == "closed" and github.count("PATCH", r"/milestones/1$") == 1
        assert run.state.snapshot.milestones_closed == {(REPO, "v1.0"): 10} and run.sink.due_at() is None
        asked = pull_asks()

        restarted = runs(root, repo=REPO, publisher=MilestonePublisher(client), closer=MilestoneCloser(client), clock=clock)
        assert restarted.sink.due_at() is not None, "a start asks once what the store leaves open"
        now[0] += 10
        await restarted.outbox.drain(deadline_s=1)
        assert pull_asks() == asked and github.count("PATCH", r"/milestones/") == 1 and restarted.sink.due_at() is None

        # Stopped after GitHub closed it but before the store kept it: recorded again, not patched again.
        forgetful = EventLog(tmp_path / "forgetful.db")
        state = StateStore(forgetful)
        state.record([event for event in run.log.read() if not isinstance(event, ev.MilestoneClosed)])
        again, _ = await MilestoneCloser(client).check(state.snapshot, now[0])
        assert [type(event) for event in again] == [ev.MilestoneClosed] and github.count("PATCH", r"/milestones/") == 1
        forgetful.close()
    finally:
        await client.aclose()
        github.stop()


async def test_a_conflict_is_told_on_the_issue_once(root: Path) -> None:
    _, github = start_fake_github()
    github.add_repo(REPO, collaborators={"maintainer": "write"})
    for number in (1, 2):
        github.add_issue(REPO, f"Task {number}", labels=[], labeled_by="maintainer")
    issue_branch(root, 1, {"src/app.py": "one\n"})
    issue_branch(root, 2, {"src/app.py": "two\n"})
    members = [MemberBranch(f"{REPO}#{n}", f"#{n}", f"Task {n}", f"feature/issue-{n}") for n in (1, 2)]
    client = GitHubClient(github.base_url, DEFAULT_TOKEN, min_write_interval=0.0)
    try:
        publisher = MilestonePublisher(client)
        for _ in range(2):
            result = await BranchIntegrator(root, "main").integrate("v1.0", members)
            assert await publisher.publish(REPO, result) == "conflict told on #2"
        [comment] = github.comments_on(REPO, 2)
        assert "conflicts with #1 (feature/issue-1)" in comment.body and "- `src/app.py`" in comment.body
        assert github.count("POST", r"/pulls") == 0
    finally:
        await client.aclose()
        github.stop()


class MilestonesApi:
    """GitHub's milestone endpoints, as far as the publisher uses them."""

    def __init__(self) -> None:
        self.milestones = [{"number": 3, "title": "v1.0", "description": "The first release."}]
        self.patches: list[dict[str, Any]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET" and request.url.path == f"/repos/{REPO}/milestones":
            return httpx.Response(200, json=self.milestones)
        if request.method == "PATCH" and request.url.path == f"/repos/{REPO}/milestones/3":
            patch = json.loads(request.content)
            self.patches.append(patch)
            self.milestones[0].update(patch)
            return httpx.Response(200, json=self.milestones[0])
        return httpx.Response(404, json={"message": "Not Found"})


async def test_the_list_can_go_to_the_milestone_description_instead(root: Path) -> None:
    issue_branch(root, 1, {"src/one.py": "ONE = 1\n"})
    api = MilestonesApi()
    client = GitHubClient("https://api.github.test", "token", min_write_interval=0.0, transport=httpx.MockTransport(api))
    try:
        publisher = MilestonePublisher(client, mode="milestone")
        result = await BranchIntegrator(root, "main").integrate("v1.0", [MemberBranch(f"{REPO}#1", "#1", "One", "feature/issue-1")])
        for _ in range(2):
            assert await publisher.publish(REPO, result) == "milestone 'v1.0' description updated"
        description = api.milestones[0]["description"]
        assert description.startswith("The first release.\n\n" + START) and "| 1 | #1 One | `feature/issue-1` | — |" in description
        assert len(api.patches) == 1, "the same list is not written twice"
    finally:
        await client.aclose()




def test_milestone_settings_build_the_sink(root: Path) -> None:
    from waterspider_tui.adapters.sinks.milestones import build_milestone_sink
    from waterspider_tui.config import MilestonesSection

    assert build_milestone_sink(MilestonesSection(), repo_path=root, base_branch="main") is None
    sink = build_milestone_sink(
        MilestonesSection(enabled=True, branch_prefix="release/", done_when="closed"), repo_path=root, base_branch="main",
        gate_options={"commands": [{"name": "tests", "run": "true"}], "max_diff_lines": 10},
    )
    assert sink is not None and sink.integrator.branch_for("Sprint 3 / API") == "release/Sprint-3-API"
    assert sink.done_when == "closed" and sink.gate is not None and sink.gate.options.max_diff_lines is None
    client = GitHubClient("https://api.github.test", "token")
    with pytest.raises(ValueError, match="needs a remote"):
        build_milestone_sink(MilestonesSection(enabled=True), repo_path=root, base_branch="main", github=client)
    with pytest.raises(ValueError, match="close_when_merged needs publish"):
        build_milestone_sink(MilestonesSection(enabled=True, publish="milestone", close_when_merged=True), repo_path=root, base_branch="main", github=client)
    closing = build_milestone_sink(
        MilestonesSection(enabled=True, remote="origin", close_when_merged=True), repo_path=root, base_branch="main", github=client, check_interval_s=30,
    )
    assert closing is not None and closing.closer is not None and closing.check_interval_s == 30 and closing.due_at() == 0.0
    assert sink.closer is None and sink.due_at() is None, "off by default: the sink is never woken for it"


async def test_a_branch_deleted_after_its_pull_request_merged_is_skipped_not_missing(root: Path) -> None:
    issue_branch(root, 1, {"src/one.py": "ONE = 1\n"})
    members = [
        MemberBranch("local#1", "#1", "One", "feature/issue-1"),
        MemberBranch("local#2", "#2", "Two", "feature/issue-2", closed_upstream=True),
    ]
    result = await BranchIntegrator(root, "main").integrate("v1.0", members)
    assert result.ok and [member.label for member in result.merged] == ["#1"] and [member.label for member in result.skipped] == ["#2"]
    assert result.line().endswith("; merged upstream already: #2")
