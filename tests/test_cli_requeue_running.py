"""`waterspider requeue` while a `--no-ui` run goes on: the run carries it out and the command line says what was done."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

from tests.e2e.helpers import WATERSPIDER, clean_env, git, run_cli
from tests.git_checkout import make_checkout
from tests.waiting import WAIT_S

# Fails each issue once (exit 2: failed, do not retry), then does the work with a commit.
AGENT = (
    'if [ -e "$0/tried-$1" ]; then echo "work $1" > "work-$1.txt" && git add . && git commit -qm "issue $1"; '
    'else touch "$0/tried-$1"; echo "first try of $1 fails"; exit 2; fi'
)


def _bench(root: Path) -> tuple[Path, Path, Path]:
    repo = make_checkout(root / "repo")
    for key, value in (("user.name", "test agent"), ("user.email", "agent@waterspider.invalid")):
        git(repo, "config", key, value)
    issues = root / "issues"
    issues.mkdir()
    (issues / "001.md").write_text("---\ntitle: First\n---\nDo it.\n")
    (issues / "002.md").write_text("---\ntitle: Second\n---\nDo it too.\n")
    marks = root / "marks"
    marks.mkdir()
    config = root / "waterspider.toml"
    config.write_text(
        '[agent]\nkind = "command"\n'
        f"options = {{ argv = [\"sh\", \"-c\", '''{AGENT}''', {json.dumps(str(marks))}, \"{{number}}\"] }}\n"
        "[issues]\npoll_interval_s = 0.5\n[workspace]\nwarm_pool = 0\n[sessions]\nretry_backoff_s = 0\nniceness = 0\n"
    )
    return repo, issues, config


def _states(store: Path) -> dict[str, str]:
    from waterspider_tui.core.state import replay
    from waterspider_tui.store.event_log import EventLog

    log = EventLog(store, read_only=True)
    try:
        return {key.rpartition("#")[2]: task.state.value for key, task in replay(log.read()).tasks.items()}
    finally:
        log.close()


def _wait_for(condition, what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached in {WAIT_S:.0f}s")
        time.sleep(0.2)


def test_requeue_reaches_a_no_ui_run_through_the_store(tmp_path: Path) -> None:
    repo, issues, config = _bench(tmp_path)
    store = repo / ".waterspider" / "state.db"
    out = tmp_path / "run.out"
    with open(out, "wb") as stdout:
        run = subprocess.Popen(
            [*WATERSPIDER, "run", "--no-ui", "--issues", str(issues), "--repo-path", str(repo), "--config", str(config)],
            stdout=stdout, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=clean_env(), start_new_session=True,
        )
    try:
        _wait_for(lambda: store.exists() and _states(store) == {"1": "failed", "2": "failed"}, "both issues failed")

        one = run_cli("requeue", "1", "--repo-path", str(repo))
        assert (one.returncode, one.stdout, one.stderr) == (0, "#1 requeued\n", "")
        _wait_for(lambda: _states(store)["1"] == "succeeded", "#1 succeeded after its requeue")

        again = run_cli("requeue", "1", "--repo-path", str(repo))
        assert again.returncode == 1
        assert again.stderr == "waterspider: #1 is succeeded: only failed or cancelled issues can be requeued\n"

        rest = run_cli("requeue", "--failed", "--repo-path", str(repo))
        assert (rest.returncode, rest.stdout) == (0, "#2 requeued\n")
        _wait_for(lambda: _states(store) == {"1": "succeeded", "2": "succeeded"}, "#2 succeeded after its requeue")
        assert run.poll() is None, "the run goes on: the requeues reached it, not a store it had let go"
    finally:
        run.send_signal(signal.SIGTERM)
        run.wait(timeout=60)
    assert "requeued" in out.read_text()


def test_requeue_without_a_run_changes_the_store_directly(tmp_path: Path) -> None:
    repo, issues, config = _bench(tmp_path)
    first = run_cli("run", "--no-ui", "--until-idle", "--issues", str(issues), "--repo-path", str(repo), "--config", str(config))
    assert first.returncode == 1
    assert "\nsummary: finished: 2 failed\n" in first.stdout
    assert "first try of 1 fails: first try of 1 fails" not in first.stdout  # the output line is told once
    assert _states(repo / ".waterspider" / "state.db") == {"1": "failed", "2": "failed"}
    requeued = run_cli("requeue", "--failed", "--repo-path", str(repo))
    assert (requeued.returncode, requeued.stdout) == (0, "#1 requeued\n#2 requeued\n")
    assert _states(repo / ".waterspider" / "state.db") == {"1": "queued", "2": "queued"}
    second = run_cli("run", "--no-ui", "--until-idle", "--issues", str(issues), "--repo-path", str(repo), "--config", str(config))
    assert second.returncode == 0
    assert "\nsummary: all done: 2 succeeded\n" in second.stdout


def test_an_unknown_failure_class_is_refused_with_the_nearest_names(tmp_path: Path) -> None:
    result = run_cli("requeue", "--failed", "--class", "crashd", "--store", str(tmp_path / "state.db"))
    assert result.returncode == 2
    assert result.stderr.startswith("waterspider: no failure class 'crashd': did you mean crashed? known classes: max_turns, ")


def test_a_request_nobody_can_read_is_answered_and_a_withdrawn_one_is_never_carried_out(tmp_path: Path) -> None:
    from waterspider_tui.core import commands as cmd
    from waterspider_tui.store.command_requests import CommandRequests, Reply
    from waterspider_tui.store.event_log import EventLog

    EventLog(tmp_path / "state.db").close()
    requests = CommandRequests(tmp_path / "state.db")
    try:
        requests._db.execute("INSERT INTO command_requests(requested_at, commands) VALUES (0, 'not json')")
        kept = requests.submit([cmd.Requeue(issue="#1", by="command line"), cmd.Bump(issue="#2", delta=-1)])
        withdrawn = requests.submit([cmd.Requeue(issue="#3")])
        assert requests.withdraw(withdrawn)
        [pending] = requests.pending()
        assert (pending.id, pending.commands) == (kept, [cmd.Requeue(issue="#1", by="command line"), cmd.Bump(issue="#2", delta=-1)])
        assert requests.replies(kept - 1) == [Reply(False, "the request could not be read")]
        requests.answer(kept, [Reply(True, "#1 requeued"), Reply(False, "#2 is succeeded; requeue it first")])
        assert not requests.withdraw(kept), "answered: too late to take back"
        assert requests.replies(kept) == [Reply(True, "#1 requeued"), Reply(False, "#2 is succeeded; requeue it first")]
        assert requests.pending() == []
    finally:
        requests.close()
