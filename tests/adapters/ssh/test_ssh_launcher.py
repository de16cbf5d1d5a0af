"""The launcher an SSH host runs to start a session, run here directly (no SSH server needed)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from waterspider_tui.adapters.executors import runner, ssh_launcher


def launch(order: dict[str, object]) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-I", "-S", ssh_launcher.__file__, runner.__file__]
    return subprocess.run(command, input=json.dumps(order), capture_output=True, text=True, timeout=10)


def ended(session: Path) -> dict[str, object]:
    deadline = time.monotonic() + 10
    while not (session / "exit.json").exists():
        assert time.monotonic() < deadline, "the session did not end"
        time.sleep(0.02)
    return json.loads((session / "exit.json").read_text())


def order(session: Path, script: str, **extra: object) -> dict[str, object]:
    return {
        "session_dir": str(session), "argv": ["sh", "-c", script], "cwd": str(session.parent), "env": {"WS_SPEC": "spec"},
        "inherit": ["PATH"], "path_prepend": [], "orphan_after_s": 0, **extra,
    }


@pytest.mark.parametrize("via_runner", [True, False])
def test_the_agent_reads_its_stdin_file_whether_or_not_the_runner_opens_it(tmp_path: Path, via_runner: bool) -> None:
    session = tmp_path / "session"
    script = 'read line; echo "$line $WS_SPEC"; echo "$WS_ONLY_HOST" >&2'
    started = launch(order(session, script, files={"prompt.md": "from the file\n"}, stdin_file="prompt.md", stdin_via_runner=via_runner))
    pid, how = started.stdout.split()
    assert how == "new" and int(pid) > 0, started.stderr
    assert ended(session)["returncode"] == 0
    assert (session / "stdout.jsonl").read_text() == "from the file spec\n"
    assert (session / "prompt.md").stat().st_mode & 0o777 == 0o600 and session.stat().st_mode & 0o777 == 0o700


def test_a_second_start_of_the_same_session_reports_the_first(tmp_path: Path) -> None:
    session = tmp_path / "session"
    first = launch(order(session, "echo once; sleep 0.3"))
    second = launch(order(session, "echo twice"))
    assert second.stdout.split() == [first.stdout.split()[0], "existing"]
    ended(session)
    assert (session / "stdout.jsonl").read_text() == "once\n"


def test_a_file_name_that_leaves_the_session_folder_is_refused(tmp_path: Path) -> None:
    refused = launch(order(tmp_path / "session", "true", files={"../escape": "x"}))
    assert refused.returncode != 0 and "refused a session file name" in refused.stderr
    assert not (tmp_path / "escape").exists()


def test_host_variables_path_folders_and_home_relative_arguments(tmp_path: Path) -> None:
    session = tmp_path / "session"
    tools = tmp_path / "tools"
    tools.mkdir()
    (tools / "agent-tool").write_text("#!/bin/sh\necho tool\n")
    (tools / "agent-tool").chmod(0o755)
    script = 'agent-tool; echo "$WS_SPEC $1 $WS_BODY"'
    launched = launch({
        **order(session, script), "argv": ["sh", "-c", script, "sh", "~/notes"], "path_prepend": [str(tools), "~/missing"],
        "env": {"WS_SPEC": "spec", "WS_BODY": "~/body.md"},
    })
    assert launched.returncode == 0, launched.stderr
    assert ended(session)["returncode"] == 0
    home = os.path.expanduser("~")
    assert (session / "stdout.jsonl").read_text() == f"tool\nspec {home}/notes {home}/body.md\n"


def test_a_runner_that_dies_before_the_agent_leaves_an_exit_record(tmp_path: Path) -> None:
    session = tmp_path / "session"
    broken = tmp_path / "runner.py"
    broken.write_text("raise SystemExit(3)\n")
    command = [sys.executable, "-I", "-S", ssh_launcher.__file__, str(broken)]
    subprocess.run(command, input=json.dumps(order(session, "true")), capture_output=True, text=True, timeout=10, check=True)
    record = json.loads((session / "exit.json").read_text())
    assert record["returncode"] == 127 and "ended (status 3) before it started the agent" in str(record["error"])
    missing = subprocess.run([*command[:-1], str(tmp_path / "none.py")], input="{}", capture_output=True, text=True, timeout=10)
    assert missing.returncode != 0 and "is missing" in missing.stderr
