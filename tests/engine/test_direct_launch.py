"""The light spawn path (the agent under a shell wrapper, no Python runner): real processes throughout.

Spawn, output, exit code, the files a restart reads, the kill of the whole session, a session
found again after the orchestrator died with SIGKILL; and, through the real Engine, the spans
of each start and the agent's exit stored with the first step's start.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.engine.conftest import EngineFactory, write_issue, write_script
from waterspider_tui.adapters.agents.base import LaunchSpec
from waterspider_tui.adapters.executors.local_direct import WRAPPER_NAME
from waterspider_tui.adapters.executors.local_processes import DetachedProcesses, _pid_alive
from waterspider_tui.core import events as ev
from waterspider_tui.core.models import Outcome
from waterspider_tui.engine.spawn_spans import MACHINE_SPANS, ORCHESTRATOR_SPANS

REPORT = (
    "import os, sys; print(os.getcwd()); print(os.getpriority(os.PRIO_PROCESS, 0)); data = sys.stdin.read();"
    " print(len(data)); print(os.environ.get('WS_STARTED', 'unset')); print('oops', file=sys.stderr); sys.exit(3)"
)
IGNORES_SIGTERM = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); time.sleep(120)"


def _spec(tmp_path: Path, *argv: str, stdin_file: str = "") -> LaunchSpec:
    workdir = tmp_path / "worktree"
    workdir.mkdir(exist_ok=True)
    return LaunchSpec(argv=argv, env={"PATH": os.environ.get("PATH", "")}, cwd=str(workdir), stdin_file=stdin_file)


async def _first_line(path: Path) -> str:
    for _ in range(400):
        if path.exists() and (text := path.read_text()).endswith("\n"):
            return text.split("\n")[0]
        await asyncio.sleep(0.05)
    raise AssertionError(f"nothing was written to {path}")


def _kill_if_alive(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


async def test_the_agent_runs_under_a_shell_with_its_output_exit_and_the_files_a_restart_reads(tmp_path: Path) -> None:
    executor = DetachedProcesses(niceness=7, launcher="direct")
    session = tmp_path / "session"
    session.mkdir()
    (session / "prompt.md").write_text("x" * 300_000)
    before = time.time()
    pid = await executor.start(session, _spec(tmp_path, sys.executable, "-c", REPORT, stdin_file="prompt.md"))
    status = await asyncio.wait_for(executor.wait(session), 20)
    assert status.returncode == 3
    assert before <= status.ended <= time.time() + 1, "the end is the exit file's time"
    assert json.loads((session / "exit.json").read_text()) == {"returncode": 3}
    assert pid == int((session / "runner.pid").read_text())
    assert before - 1 <= float((session / "heartbeat").read_text()) <= time.time()
    cwd, priority, stdin_length, started_variable = (session / "stdout.jsonl").read_text().splitlines()
    assert cwd == str(tmp_path / "worktree")
    assert int(priority) == min(19, os.getpriority(os.PRIO_PROCESS, 0) + 7)
    assert stdin_length == "300000", "the prompt file is the agent's stdin"
    assert started_variable == "unset", "the wrapper's own variable does not reach the agent"
    assert (session / "stderr.log").read_text() == "oops\n"


async def test_a_session_is_one_interpreter_below_a_shell(tmp_path: Path) -> None:
    executor = DetachedProcesses(launcher="direct")
    session = tmp_path / "session"
    await executor.start(session, _spec(tmp_path, sys.executable, "-c", "import os; print(os.getppid(), flush=True); import time; time.sleep(30)"))
    try:
        parent = int(await _first_line(session / "stdout.jsonl"))
        shell = int((session / "runner.pid").read_text())
        assert parent == shell
        assert Path(f"/proc/{shell}/cmdline").read_bytes().split(b"\0")[3:5] == [WRAPPER_NAME.encode(), str(session).encode()] or not Path("/proc").exists()
        assert executor.is_alive(session)
    finally:
        await executor.stop(session, grace_s=2)
    assert (await asyncio.wait_for(executor.wait(session), 20)).returncode == -15, "killed by the stop's SIGTERM, as the runner reports it"


async def test_a_missing_program_or_stdin_file_is_refused_before_anything_starts(tmp_path: Path) -> None:
    executor = DetachedProcesses(launcher="direct")
    with pytest.raises(FileNotFoundError, match="no-such-agent"):
        await executor.start(tmp_path / "a", _spec(tmp_path, "no-such-agent-anywhere"))
    with pytest.raises(FileNotFoundError, match="prompt.md"):
        await executor.start(tmp_path / "b", _spec(tmp_path, sys.executable, "-c", "pass", stdin_file="prompt.md"))
    assert not (tmp_path / "a" / "runner.pid").exists() and not (tmp_path / "b" / "runner.pid").exists()


def _agent_with_a_grandchild(*, own_session: bool, then_exit: bool) -> str:
    return (
        "import subprocess, sys, time\n"
        f"child = subprocess.Popen([sys.executable, '-c', {IGNORES_SIGTERM!r}], stdout=subprocess.PIPE, start_new_session={own_session})\n"
        "child.stdout.readline()\n"
        "print(child.pid, flush=True)\n"
        f"{'sys.exit(0)' if then_exit else 'time.sleep(120)'}\n"
    )


@pytest.mark.parametrize("own_session", [False, True], ids=["same-group", "setsid"])
async def test_a_stop_kills_the_whole_session_even_a_grandchild_that_ignores_sigterm(tmp_path: Path, own_session: bool) -> None:
    executor = DetachedProcesses(launcher="direct")
    session = tmp_path / "session"
    await executor.start(session, _spec(tmp_path, sys.executable, "-c", _agent_with_a_grandchild(own_session=own_session, then_exit=False)))
    grandchild = int(await _first_line(session / "stdout.jsonl"))
    try:
        await asyncio.wait_for(executor.stop(session, grace_s=0.5), 15)
        await asyncio.wait_for(executor.wait(session), 20)
        assert not _pid_alive(grandchild), "the grandchild outlived its stopped session"
    finally:
        _kill_if_alive(grandchild)


async def test_what_an_exited_agent_left_in_its_group_ends_before_its_end_is_reported(tmp_path: Path) -> None:
    executor = DetachedProcesses(launcher="direct")
    session = tmp_path / "session"
    await executor.start(session, _spec(tmp_path, sys.executable, "-c", _agent_with_a_grandchild(own_session=False, then_exit=True)))
    grandchild = int(await _first_line(session / "stdout.jsonl"))
    try:
        status = await asyncio.wait_for(executor.wait(session), 20)
        assert status.returncode == 0
        assert not _pid_alive(grandchild), "the end was reported while the agent's leftover still ran"
    finally:
        _kill_if_alive(grandchild)


def _agent_with_a_daemon(*, then_exit: bool) -> str:
    """An agent that double-forks a daemon (a session of its own, its parent gone: init's child) that ignores SIGTERM."""
    return (
        "import os, signal, sys, time\n"
        "read, write = os.pipe()\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    if os.fork() == 0:\n"
        "        signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "        os.write(write, f'{os.getpid()}\\n'.encode())\n"
        "        time.sleep(120)\n"
        "    os._exit(0)\n"
        "os.wait()\n"
        "print(os.read(read, 64).decode().strip(), flush=True)\n"
        f"{'sys.exit(0)' if then_exit else 'time.sleep(120)'}\n"
    )


async def _left_running(session: Path) -> int:
    """The pid the session's agent printed once what it leaves behind runs."""
    return int(await _first_line(session / "stdout.jsonl"))


linux_only = pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="sessions are found by their mark through /proc")


@linux_only
async def test_what_an_exited_agent_started_in_a_session_of_its_own_ends_with_it_and_nothing_else(tmp_path: Path) -> None:
    # The runner caught these as a child subreaper; under the shell they are found by the session's mark.
    executor = DetachedProcesses(launcher="direct")
    setsid, daemon, neighbour = tmp_path / "setsid", tmp_path / "daemon", tmp_path / "neighbour"
    await executor.start(setsid, _spec(tmp_path, sys.executable, "-c", _agent_with_a_grandchild(own_session=True, then_exit=True)))
    await executor.start(daemon, _spec(tmp_path, sys.executable, "-c", _agent_with_a_daemon(then_exit=True)))
    await executor.start(neighbour, _spec(tmp_path, sys.executable, "-c", _agent_with_a_grandchild(own_session=True, then_exit=False)))
    unrelated = subprocess.Popen([sys.executable, "-c", IGNORES_SIGTERM], stdout=subprocess.DEVNULL, start_new_session=True)
    left = {name: await _left_running(session) for name, session in (("setsid", setsid), ("daemon", daemon), ("neighbour", neighbour))}
    try:
        assert os.getsid(left["setsid"]) == left["setsid"] and os.getsid(left["daemon"]) != int((daemon / "runner.pid").read_text())
        statuses = await asyncio.wait_for(asyncio.gather(executor.wait(setsid), executor.wait(daemon)), 30)
        assert [status.returncode for status in statuses] == [0, 0]
        assert not _pid_alive(left["setsid"]), "the setsid grandchild outlived its session"
        assert not _pid_alive(left["daemon"]), "the double-forked daemon outlived its session"
        assert _pid_alive(left["neighbour"]), "another session's grandchild was killed"
        assert unrelated.poll() is None, "a process of ours that no session started was killed"
    finally:
        await executor.stop(neighbour, grace_s=0.5)
        unrelated.kill()
        unrelated.wait()
        for pid in left.values():
            _kill_if_alive(pid)
    assert not _pid_alive(left["neighbour"]), "a stop ends the running agent's setsid grandchild too"


@linux_only
async def test_a_stop_ends_a_daemon_the_running_agent_left_to_init(tmp_path: Path) -> None:
    executor = DetachedProcesses(launcher="direct")
    session = tmp_path / "session"
    await executor.start(session, _spec(tmp_path, sys.executable, "-c", _agent_with_a_daemon(then_exit=False)))
    daemon = await _left_running(session)
    try:
        await asyncio.wait_for(executor.stop(session, grace_s=0.5), 15)
        await asyncio.wait_for(executor.wait(session), 20)
        assert not _pid_alive(daemon), "the daemon outlived its stopped session"
    finally:
        _kill_if_alive(daemon)


@linux_only
async def test_an_executor_that_finds_an_ended_session_again_ends_what_it_left(tmp_path: Path) -> None:
    session = tmp_path / "session"
    first = DetachedProcesses(launcher="direct")
    await first.start(session, _spec(tmp_path, sys.executable, "-c", _agent_with_a_grandchild(own_session=True, then_exit=True)))
    grandchild = await _left_running(session)
    try:
        for _ in range(400):
            if (session / "exit.json").exists():
                break
            await asyncio.sleep(0.05)
        del first  # the orchestrator is gone while the agent ends: nobody cleaned up yet
        assert _pid_alive(grandchild)
        status = await asyncio.wait_for(DetachedProcesses(launcher="runner").wait(session), 20)
        assert status.returncode == 0
        assert not _pid_alive(grandchild), "the grandchild outlived the session a restart found ended"
    finally:
        _kill_if_alive(grandchild)


ORCHESTRATOR = """
import asyncio, sys
sys.path.insert(0, {root!r})
from pathlib import Path
from waterspider_tui.adapters.agents.base import LaunchSpec
from waterspider_tui.adapters.executors.local_processes import DetachedProcesses

async def main():
    spec = LaunchSpec(argv=({python!r}, "-c", {agent!r}), env={{"PATH": {path!r}}}, cwd={cwd!r})
    pid = await DetachedProcesses(launcher="direct").start(Path({session!r}), spec)
    print(pid, flush=True)
    await asyncio.sleep(120)

asyncio.run(main())
"""


async def test_a_session_outlives_an_orchestrator_killed_with_sigkill_and_is_found_again(tmp_path: Path) -> None:
    session = tmp_path / "session"
    release = tmp_path / "release"
    agent = f"import os, time\nprint('working', flush=True)\nwhile not os.path.exists({str(release)!r}): time.sleep(0.05)\nprint('done', flush=True)\nraise SystemExit(4)"
    (tmp_path / "worktree").mkdir()
    script = ORCHESTRATOR.format(root=str(Path(__file__).resolve().parents[2]), python=sys.executable, agent=agent,
                                 path=os.environ.get("PATH", ""), cwd=str(tmp_path / "worktree"), session=str(session))
    orchestrator = subprocess.Popen([sys.executable, "-c", textwrap.dedent(script)], stdout=subprocess.PIPE, text=True)
    assert orchestrator.stdout is not None
    shell = int(orchestrator.stdout.readline())
    assert await _first_line(session / "stdout.jsonl") == "working"
    orchestrator.send_signal(signal.SIGKILL)
    orchestrator.wait()

    found_again = DetachedProcesses(launcher="runner")  # the configured launcher does not matter to a reattach
    try:
        assert found_again.is_alive(session), "the session outlived its orchestrator"
        assert found_again.exit_status(session) is None
        waiting = asyncio.create_task(found_again.wait(session))
        await asyncio.sleep(0.3)
        assert not waiting.done()
        release.write_text("")
        status = await asyncio.wait_for(waiting, 20)
    finally:
        _kill_if_alive(shell)
    assert status.returncode == 4
    assert (session / "stdout.jsonl").read_text().split() == ["working", "done"]
    assert not found_again.is_alive(session)


async def test_a_session_started_by_a_dropped_executor_is_found_by_a_new_one(tmp_path: Path) -> None:
    session = tmp_path / "session"
    first = DetachedProcesses(launcher="direct")
    pid = await first.start(session, _spec(tmp_path, sys.executable, "-c", "import time; time.sleep(1.0); print('late', flush=True)"))
    del first
    for _ in range(100):  # LocalExecutor writes the pid itself before it reports the spawn; here the shell does
        if (session / "runner.pid").read_text().strip() == str(pid) if (session / "runner.pid").exists() else False:
            break
        await asyncio.sleep(0.02)
    second = DetachedProcesses(launcher="direct")
    assert second.is_alive(session)
    status = await asyncio.wait_for(second.wait(session), 20)
    assert status.returncode == 0
    assert (session / "stdout.jsonl").read_text() == "late\n"


QUICK_COMMIT = """
import subprocess
open("work.txt", "a").write("done\\n")
subprocess.run(["git", "add", "work.txt"], check=True)
subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "work"], check=True)
print("committed", flush=True)
"""


async def test_each_start_is_timed_in_parts_and_the_agents_exit_is_stored_with_the_first_steps_start(
    tmp_path: Path, issues: Path, make_engine: EngineFactory,
) -> None:
    write_issue(issues, 1)
    write_issue(issues, 2)
    engine = make_engine(write_script(tmp_path, "agent.py", QUICK_COMMIT))
    batches: list[list[str]] = []
    engine.store.subscribe(lambda _snapshot, events: batches.append([type(event).__name__ for event in events]))
    await asyncio.wait_for(engine.run(until_idle=True), 60)

    finished = [e for e in engine.store.log.read() if isinstance(e, ev.SessionFinished)]
    assert [e.result.outcome for e in finished] == [Outcome.SUCCEEDED] * 2
    assert batches.count(["AgentExited", "StepStarted"]) == 2, batches
    assert ["AgentExited"] not in batches, "the exit is not a transaction of its own"
    spans = engine.sessions.spans
    assert len(spans.by_session) == 2
    direct_parts = set(ORCHESTRATOR_SPANS) - {"priority"}  # the shell lowers its own priority
    for session_id, parts in spans.by_session.items():
        assert set(parts) == direct_parts | set(MACHINE_SPANS), session_id
        assert all(wall >= 0 and cpu >= 0 for wall, cpu in parts.values())
        assert 0 < spans.orchestrator_s(session_id) < sum(wall for wall, _ in parts.values())
        assert 0 < spans.orchestrator_s(session_id, cpu=True)


async def test_without_steps_after_the_agent_its_exit_is_stored_with_the_sessions_end(tmp_path: Path, issues: Path, make_engine: EngineFactory) -> None:
    write_issue(issues, 1)
    engine = make_engine(write_script(tmp_path, "agent.py", "raise SystemExit(2)"), max_attempts=1)
    engine.sessions.steps = []
    batches: list[list[str]] = []
    engine.store.subscribe(lambda _snapshot, events: batches.append([type(event).__name__ for event in events]))
    await asyncio.wait_for(engine.run(until_idle=True), 60)
    ends = [batch for batch in batches if "SessionFinished" in batch]
    assert len(ends) == 1 and ends[0][:2] == ["AgentExited", "SessionFinished"], [b for b in batches if b != ["SessionProgressed"]]
    assert [type(e).__name__ for e in engine.store.log.read()].count("AgentExited") == 1


def test_the_launcher_is_chosen_in_the_config_and_the_environment(tmp_path: Path, repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from waterspider_tui.adapters.executors.registry import make_executor
    from waterspider_tui.adapters.workspace import WorkspaceManager
    from waterspider_tui.config import Settings

    assert Settings().sessions.launcher == "direct"
    monkeypatch.setenv("WATERSPIDER_SESSIONS__LAUNCHER", "runner")
    settings = Settings()
    executor = make_executor("local", workspace=WorkspaceManager(repo), sessions_dir=tmp_path / "sessions", slots=2,
                             niceness=settings.sessions.niceness, launcher=settings.sessions.launcher)
    assert executor.processes.launcher == "runner"  # type: ignore[attr-defined]
    monkeypatch.setenv("WATERSPIDER_SESSIONS__LAUNCHER", "fork")
    with pytest.raises(ValueError, match="launcher"):
        Settings()
    with pytest.raises(ValueError, match="fork"):
        DetachedProcesses(launcher="fork")
