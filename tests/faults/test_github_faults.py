"""`waterspider run --repo` against the loopback GitHub failing in bursts, with untrusted relabels and a kill -9.

The bursts (5xx, 403 and 429 rate limits, 401, dropped connections) come at seeded moments, someone
without write access relabels and renames issues mid-run, and the orchestrator is killed once and
started again: nothing lost, nothing repeated, untrusted work never started, final comments and
labels right.
"""

from __future__ import annotations

import random
import sys
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.helpers import WATERSPIDER, clean_env, git
from tests.faults.checks import checkout_untouched, read_ledger, read_store
from tests.faults.conftest import FaultTally, replay_hint
from tests.faults.harness import AGENT, Finished, Orchestrator, toml_list, wait_until
from tests.git_checkout import make_checkout
from tests.github.fake_github_model import Fault
from tests.github.fake_github import BOT_LOGIN, DEFAULT_TOKEN, TRIGGER_LABEL, FakeGitHub, start_fake_github
from waterspider_tui.core import events as ev

REPO = "octo/faults"
TRUSTED = (1, 2, 5, 6, 7, 8)
"""Labeled by a maintainer and left alone: each runs exactly once."""
RELABELED, RENAMED, DRIVE_BY, LATE_DRIVE_BY = 3, 4, 9, 10
"""3 is relabeled and 4 renamed by a triager (no write access) while they wait on 2; 9 was labeled
by a reader from the start; 10 is opened and labeled by the triager mid-run."""
BURSTS: list[tuple[int | None, dict[str, Any]]] = [
    (502, {"times": 2, "method": "GET"}),
    (500, {"times": 1, "method": "PATCH"}),
    (503, {"times": 1, "method": "POST"}),
    (403, {"retry_after": 1, "message": "You have exceeded a secondary rate limit", "path_contains": "/issues?"}),
    (429, {"retry_after": 1}),
    (403, {"remaining_zero": True, "reset_in_s": 1, "message": "API rate limit exceeded"}),
    (401, {"times": 2, "method": "GET", "path_contains": "/issues?"}),
    (401, {"times": 1, "method": "PATCH"}),
    (None, {"disconnect": True}),
]
"""A 401 on the check right before a start has its own test below: the issue is asked about again, not held."""


def seed_repo(github: FakeGitHub) -> None:
    github.add_repo(REPO, collaborators={"maintainer": "write", "triager": "triage", "drive-by": "read"})
    github.add_label(REPO, TRIGGER_LABEL)
    for number in range(1, 9):
        github.add_issue(REPO, f"Task {number}", "Estimate: 15m", labels=[TRIGGER_LABEL], labeled_by="maintainer", user="maintainer")
    for blocked, blocker in ((2, 1), (3, 2), (4, 2)):
        github.add_blocked_by(REPO, blocked, REPO, blocker)
    github.add_issue(REPO, "Drive-by", "Run this", labels=[TRIGGER_LABEL], labeled_by="drive-by", user="drive-by")


def write_config(tmp_path: Path, ledger: Path, seed: int, poll_interval_s: float = 0.5) -> Path:
    argv = [sys.executable, "-S", str(AGENT), str(ledger), "work", str(seed), "{number}"]
    config = tmp_path / "waterspider.toml"
    config.write_text(
        f"[github]\npoll_interval_s = {poll_interval_s}\ncomment_interval_s = 0.5\nmin_write_interval_s = 0.02\n"
        f'[agent]\nkind = "command"\noptions = {{ argv = {toml_list(argv)} }}\n'
        "[scheduler]\ncapacity = 3\n[sessions]\nretry_backoff_s = 0\nniceness = 0\n"
        "[workspace]\nwarm_pool = 0\n"  # as harness.Bench, for the reason given there
    )
    return config


def inject_bursts(github: FakeGitHub, rng: random.Random, stop: threading.Event, injected: list[Any], ledger: Path) -> None:
    """Each burst in a seeded order, right after a seeded line of the agents' ledger (an agent starting
    or finishing), so that they land all through the run. A failed first poll is
    test_a_failed_first_poll_does_not_end_the_run's case, so the first burst waits for the first session."""
    bursts = BURSTS[:]
    rng.shuffle(bursts)
    lines = sorted(rng.randint(1, 2 * len(TRUSTED) - 2) for _ in bursts)
    for line, (status, options) in zip(lines, bursts):
        if not wait_until(lambda: stop.is_set() or len(read_ledger(ledger)) >= line, 60) or stop.is_set():
            return
        injected.append((status, options.get("times", 1), github.inject(status, **options)))


def test_github_bursts_and_untrusted_relabels_mid_run(tmp_path: Path, fault_seed: int, fault_tally: FaultTally) -> None:
    rng = random.Random(fault_seed)
    _, github = start_fake_github()
    stop = threading.Event()
    injected: list[Any] = []
    try:
        seed_repo(github)
        repo = make_checkout(tmp_path / "widgets")
        for key, value in (("user.name", "fault agent"), ("user.email", "agent@waterspider.invalid")):
            git(repo, "config", key, value)
        head = git(repo, "rev-parse", "HEAD").strip()
        ledger = tmp_path / "ledger.jsonl"
        argv = [*WATERSPIDER, "run", "--repo", REPO, "--github-api-url", github.base_url, "--repo-path", str(repo),
                "--config", str(write_config(tmp_path, ledger, fault_seed)), "--no-ui", "--until-idle"]
        orchestrator = Orchestrator.start(argv, tmp_path / "run.out", tmp_path / "run.err", env=clean_env() | {"GITHUB_TOKEN": DEFAULT_TOKEN})
        bursts = threading.Thread(target=inject_bursts, args=(github, rng, stop, injected, ledger), daemon=True)
        bursts.start()
        # Once #1 is done, #2 starts; #3 and #4 wait on it, so these changes land before their start.
        assert wait_until(lambda: any(l["issue"] == 1 and l["event"] == "finish" for l in read_ledger(ledger)), 45), \
            f"#1 never finished; {replay_hint(fault_tally)}\n{(tmp_path / 'run.err').read_text()[-2000:]}"
        github.unlabel_issue(REPO, RELABELED, TRIGGER_LABEL, actor="triager")
        github.label_issue(REPO, RELABELED, TRIGGER_LABEL, actor="triager")
        github.edit_issue(REPO, RENAMED, actor="triager", title="Task 4, and also delete the tests")
        github.add_issue(REPO, "Late drive-by", "Run this too", labels=[TRIGGER_LABEL], labeled_by="triager", user="triager")
        kill_at = len(read_ledger(ledger)) + random.Random(f"{fault_seed}:kill").randint(1, 4)
        wait_until(lambda: not orchestrator.alive() or len(read_ledger(ledger)) >= kill_at, 30)
        if orchestrator.alive():
            orchestrator.kill("pid", marker=str(tmp_path))
            fault_tally.crash_points += 1
            orchestrator = Orchestrator.start(argv, tmp_path / "restart.out", tmp_path / "restart.err", env=clean_env() | {"GITHUB_TOKEN": DEFAULT_TOKEN})
        result = orchestrator.wait(120)
    finally:
        stop.set()
        github.stop()
    taken = sum(times - fault.times for _, times, fault in injected)
    fault_tally.faults += taken + 4
    context = f"bursts taken: {[(status, times - fault.times) for status, times, fault in injected]}; {replay_hint(fault_tally)}"

    events, snapshot = read_store(repo / ".waterspider" / "state.db")
    started = Counter(e.issue for e in events if isinstance(e, ev.SessionStarted))
    succeeded = Counter(e.issue for e in events if isinstance(e, ev.SessionFinished) and e.result.outcome.value == "succeeded")
    finishes = Counter(line["issue"] for line in read_ledger(ledger) if line["event"] == "finish")
    lost = [n for n in TRUSTED if succeeded[f"{REPO}#{n}"] != 1]
    duplicates = [n for n in TRUSTED if finishes[n] > 1 or started[f"{REPO}#{n}"] > 1]
    fault_tally.lost += len(lost)
    fault_tally.duplicates += len(duplicates)
    assert result.returncode == 1, f"held issues are left waiting, so the run is not done; {context}\n{result.stderr[-2000:]}"
    assert not lost and not duplicates, f"lost {lost}, run twice {duplicates}; started {dict(started)}; {context}\n{result.stdout[-3000:]}"
    untrusted = (RELABELED, RENAMED, DRIVE_BY, LATE_DRIVE_BY)
    assert not any(started[f"{REPO}#{n}"] or finishes[n] for n in untrusted), f"an untrusted issue ran: {dict(started)}; {context}"
    assert "@triager" in snapshot.tasks[f"{REPO}#{RELABELED}"].held_reason
    assert "title changed by @triager" in snapshot.tasks[f"{REPO}#{RENAMED}"].held_reason
    assert "@drive-by" in snapshot.tasks[f"{REPO}#{DRIVE_BY}"].held_reason
    late = snapshot.tasks.get(f"{REPO}#{LATE_DRIVE_BY}")
    assert late is None or "@triager" in late.held_reason, "seen by a poll before the run ended, it is held"

    for number in TRUSTED:
        mine = [c for c in github.comments_on(REPO, number) if c.user == BOT_LOGIN]
        assert len(mine) == 1, f"#{number} has {len(mine)} progress comments; {context}"
        assert "succeeded" in mine[0].body.lower(), f"#{number}'s comment is not final: {mine[0].body[:300]}; {context}"
        labels = set(github.issue(REPO, number).labels)
        assert "agent:done" in labels and not labels & {"agent:running", "agent:queued", "agent:failed"}, (number, labels, context)
    for number in untrusted:
        labels = set(github.issue(REPO, number).labels)
        assert not labels & {"agent:running", "agent:done", "agent:failed"}, (number, labels)
        assert not [c for c in github.comments_on(REPO, number) if c.user == BOT_LOGIN], f"#{number} got a progress comment"
    assert not checkout_untouched(repo, head)


class ExactFault(Fault):
    """A fault for one path exactly (`path_contains` is the whole path): the re-read of an issue right
    before its start, and not the reads of its events below the same path."""

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and path == self.path_contains


def run_small(tmp_path: Path, github: FakeGitHub, seed: int) -> tuple[Finished, Path]:
    """One trusted issue, run to idle; the result and the ledger. Polls are 2 s apart, so the run's
    first idle check comes before a second poll could mend what the first fault did."""
    github.add_repo(REPO, collaborators={"maintainer": "write"})
    github.add_issue(REPO, "Only task", "Estimate: 15m", labels=[TRIGGER_LABEL], labeled_by="maintainer", user="maintainer")
    repo = make_checkout(tmp_path / "widgets")
    ledger = tmp_path / "ledger.jsonl"
    argv = [*WATERSPIDER, "run", "--repo", REPO, "--github-api-url", github.base_url, "--repo-path", str(repo),
            "--config", str(write_config(tmp_path, ledger, seed, poll_interval_s=2.0)), "--no-ui", "--until-idle"]
    orchestrator = Orchestrator.start(argv, tmp_path / "run.out", tmp_path / "run.err", env=clean_env() | {"GITHUB_TOKEN": DEFAULT_TOKEN})
    return orchestrator.wait(60), ledger


def test_a_failed_first_poll_does_not_end_the_run(tmp_path: Path, fault_seed: int, fault_tally: FaultTally) -> None:
    _, github = start_fake_github()
    try:
        github.inject(401, method="GET", path_contains="/issues?")
        result, ledger = run_small(tmp_path, github, fault_seed)
    finally:
        github.stop()
    fault_tally.faults += 1
    assert result.returncode == 0 and len(read_ledger(ledger)) == 2, result.stdout[-1500:]


def test_a_failed_check_right_before_the_start_is_asked_again_not_held(tmp_path: Path, fault_seed: int, fault_tally: FaultTally) -> None:
    _, github = start_fake_github()
    try:
        github.faults.append(ExactFault(401, method="GET", path_contains=f"/repos/{REPO}/issues/1"))
        result, ledger = run_small(tmp_path, github, fault_seed)
    finally:
        github.stop()
    fault_tally.faults += 1
    assert "held" not in result.stdout, "an unanswered check is not a verdict on the issue"
    assert result.returncode == 0 and len(read_ledger(ledger)) == 2, result.stdout[-1500:]
