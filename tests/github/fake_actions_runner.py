"""A self-hosted runner for the fake GitHub: it takes queued runs and really runs `waterspider exec-issue`.

What the example workflow's job does, minus GitHub itself: for each queued run of the
workflow it starts `waterspider exec-issue` with the run's inputs in its own checkout (a clone
standing for the runner's machine), appends what the command prints to the job's log as it
arrives, uploads the stream file as the `stream` artifact, publishes the issue branch on the
fake (what the push step does on GitHub), and completes the run with the conclusion the exit
code gives. A run cancelled through the API has its command stopped (SIGTERM, as the runner
does), and ends `cancelled`.

    runner = FakeRunner(github, "octo/app", checkout, env={...})
    runner.hold(3)            # runs of issue 3 stay queued: no runner takes them
    runner.start(); ...; runner.stop()
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from tests.e2e.helpers import WATERSPIDER, clean_env

from .fake_github import DEFAULT_TOKEN
from .fake_github_actions import actions_of, push_branch, set_run, upload_artifact, write_log

if TYPE_CHECKING:
    from .fake_github import FakeGitHub
    from .fake_github_actions import FakeRun

PICK_UP_S = 0.05


class FakeRunner:
    def __init__(
        self, github: FakeGitHub, repo: str, checkout: Path, *, base_branch: str = "main",
        agent_options: Callable[[int], dict[str, Any]] = lambda number: {"duration_s": 0.5},
    ) -> None:
        self.github = github
        self.repo = repo
        self.checkout = checkout
        self.base_branch = base_branch
        self.agent_options = agent_options
        """The simulated agent's options per issue number (how long it takes, whether it fails)."""
        self.env: dict[int, dict[str, str]] = {}
        """Issue number -> variables the job sets for its session (the workflow's WATERSPIDER_STEPS, say)."""
        self.held: dict[int, int] = {}
        """Issue number -> how many of its runs are left queued (no runner takes them)."""
        self.taken: set[int] = set()
        self.passed_over: set[int] = set()
        self.exit_codes: dict[int, int] = {}
        """Run id -> exec-issue's exit code."""
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._poller = threading.Thread(target=self._poll, name="fake-runner", daemon=True)

    def hold(self, number: int, runs: int = 1) -> None:
        self.held[number] = self.held.get(number, 0) + runs

    def start(self) -> None:
        self._poller.start()

    def stop(self) -> None:
        self._stop.set()
        self._poller.join(timeout=10)
        for thread in self._threads:
            thread.join(timeout=30)

    def _poll(self) -> None:
        while not self._stop.wait(PICK_UP_S):
            with self.github.lock:
                queued = [run for run in actions_of(self.github, self.repo).runs.values()
                          if run.status == "queued" and run.id not in self.taken | self.passed_over]
            for run in queued:
                number = int(run.inputs.get("issue", "0"))
                if self.held.get(number, 0) > 0:
                    self.held[number] -= 1
                    self.passed_over.add(run.id)
                    continue
                self.taken.add(run.id)
                thread = threading.Thread(target=self._execute, args=(run,), name=f"job-{run.id}", daemon=True)
                self._threads.append(thread)
                thread.start()

    def _execute(self, run: FakeRun) -> None:
        inputs = run.inputs
        number = int(inputs["issue"])
        stream_file = self.checkout.parent / "runner-temp" / str(run.id) / "stream.jsonl"
        set_run(self.github, self.repo, run.id, "in_progress")
        env = clean_env()
        env.update({"GITHUB_TOKEN": DEFAULT_TOKEN, "WATERSPIDER_AGENT__OPTIONS": json.dumps(self.agent_options(number))})
        env.update(self.env.get(number, {}))
        argv = [*WATERSPIDER, "exec-issue", "--repo", self.repo, "--issue", str(number), "--session", inputs["session"],
                "--agent", inputs["agent"], "--attempt", inputs["attempt"], "--branch", inputs["branch"], "--base-branch", self.base_branch,
                "--github-api-url", self.github.base_url, "--stream-file", str(stream_file), "--echo-stream"]
        if inputs.get("pipeline"):  # the workflow passes it only when the dispatch carried it
            argv += ["--pipeline", inputs["pipeline"]]
        process = subprocess.Popen(argv, cwd=self.checkout, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   text=True, bufsize=1, start_new_session=True)
        watcher = threading.Thread(target=self._stop_when_cancelled, args=(run, process), daemon=True)
        watcher.start()
        assert process.stdout is not None
        for line in process.stdout:
            write_log(self.github, self.repo, run.id, line)
        code = process.wait()
        self.exit_codes[run.id] = code
        uploaded = {path.name: path.read_bytes() for path in stream_file.parent.iterdir() if path.name in ("stream.jsonl", "session.json")}
        if uploaded:  # both at the zip's root, as upload-artifact puts files below their common folder
            upload_artifact(self.github, self.repo, run.id, "stream", uploaded)
        self._publish_branch(inputs["branch"])
        with self.github.lock:
            cancelled = run.conclusion == "cancelled"
        if not cancelled:
            set_run(self.github, self.repo, run.id, "completed", "success" if code == 0 else "failure")

    def _stop_when_cancelled(self, run: FakeRun, process: subprocess.Popen[str]) -> None:
        while process.poll() is None:
            with self.github.lock:
                cancelled = run.conclusion == "cancelled"
            if cancelled:
                os.kill(process.pid, signal.SIGTERM)
                return
            time.sleep(PICK_UP_S)

    def _publish_branch(self, branch: str) -> None:
        """The issue branch as GitHub would have it after the push step: its commits and files against the base."""
        def git(*args: str) -> str:
            return subprocess.run(["git", *args], cwd=self.checkout, capture_output=True, text=True).stdout

        if not git("branch", "--list", branch).strip():
            return
        commits = int(git("rev-list", "--count", f"{self.base_branch}..{branch}").strip() or 0)
        files = []
        for line in git("diff", "--numstat", f"{self.base_branch}...{branch}").splitlines():
            added, deleted, name = line.split("\t", 2)
            files.append((name, int(added), int(deleted)))
        if commits:
            push_branch(self.github, self.repo, branch, commits=commits, files=files)
