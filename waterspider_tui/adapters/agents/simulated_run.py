"""The simulated agent's run: Claude Code's stream-json shape, a real file edit and a real git commit."""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from typing import Any

RANDOM_FAILURES = ("max_turns", "overloaded", "crash")
"""How a run fails when the dice say so; `usage_limit` is only used when asked for by name."""
FAILURE_MODES = (*RANDOM_FAILURES, "usage_limit")

GIT_IDENTITY = ("-c", "user.name=waterspider simulated agent", "-c", "user.email=simulated@waterspider.invalid")


def decide_failure(seed: int, number: int, attempt: int, fail_rate: float, fail_mode: str = "") -> str:
    """The failure this run will have ('' for none): same seed, issue and attempt, same answer."""
    rng = random.Random(f"{seed}:{number}:{attempt}")
    if rng.random() >= fail_rate:
        return ""
    return fail_mode or rng.choice(RANDOM_FAILURES)


@dataclass(frozen=True)
class RunPlan:
    """What one simulated session does; read from argv and the WATERSPIDER_ISSUE_* environment."""

    session_id: str
    number: int
    title: str
    attempt: int
    duration_s: float
    steps: int
    failure: str
    fail_at: int
    """How many reading steps happen before the failure strikes."""


class SimulatedRun:
    """Prints one session's stream line by line, pacing it over the plan's duration."""

    def __init__(self, plan: RunPlan) -> None:
        self.plan = plan
        self.turns = 0
        self.started = time.monotonic()
        self.cwd = os.getcwd()
        self._pause = max(plan.duration_s, 0.0) / (plan.steps + 4)  # the number of beat() calls
        self._tool_number = 0

    # -- the stream ---------------------------------------------------------------------------

    def emit(self, message: dict[str, Any]) -> None:
        message.setdefault("session_id", self.plan.session_id)
        sys.stdout.write(json.dumps(message) + "\n")
        sys.stdout.flush()

    def beat(self) -> None:
        time.sleep(self._pause)

    def assistant(self, *blocks: dict[str, Any], **extra: Any) -> None:
        """One API response: one line per content block, all with the same message id."""
        self.turns += 1
        message_id = f"msg_sim_{self.plan.session_id[:8]}_{self.turns}"
        model = extra.pop("model", "claude-simulated")
        for block in blocks:
            message = {"id": message_id, "type": "message", "role": "assistant", "model": model,
                       "content": [block], "usage": {"input_tokens": 1500 + 200 * self.turns, "output_tokens": 1}}  # fmt: skip
            self.emit({"type": "assistant", "message": message, "parent_tool_use_id": None, **extra})

    def tool(self, name: str, tool_input: dict[str, Any], text: str = "") -> str:
        self._tool_number += 1
        tool_id = f"toolu_sim_{self._tool_number:03d}"
        blocks = ([{"type": "text", "text": text}] if text else []) + [
            {"type": "tool_use", "id": tool_id, "name": name, "input": tool_input}
        ]
        self.assistant(*blocks)
        return tool_id

    def tool_result(self, tool_id: str, content: str, *, is_error: bool = False, details: Any = None) -> None:
        block = {"tool_use_id": tool_id, "type": "tool_result", "content": content, "is_error": is_error}
        line: dict[str, Any] = {"type": "user", "message": {"role": "user", "content": [block]}, "parent_tool_use_id": None}
        if details is not None:
            line["tool_use_result"] = details
        self.emit(line)

    def result(self, *, subtype: str = "success", is_error: bool = False, **fields: Any) -> None:
        self.emit({
            "type": "result", "subtype": subtype, "is_error": is_error,
            "duration_ms": int((time.monotonic() - self.started) * 1000), "num_turns": self.turns,
            "total_cost_usd": round(0.0123 * self.turns, 4), "stop_reason": "end_turn",
            # As the CLI gives it: this result's own part, whatever the total counts.
            "model_usage_since_last_result": {"simulated": {"costUSD": round(0.0123 * self.turns, 4)}},
            "usage": {"input_tokens": 1700 * self.turns, "output_tokens": 90 * self.turns,
                      "cache_read_input_tokens": 12000 * max(self.turns - 1, 0), "cache_creation_input_tokens": 0},
            **fields,
        })  # fmt: skip

    def todos(self, current: int) -> None:
        steps = ("Understand the issue", "Implement the change", "Run the tests", "Commit on the branch")
        todos = [
            {"content": step, "status": "completed" if index < current else "in_progress" if index == current else "pending",
             "activeForm": step}
            for index, step in enumerate(steps)
        ]  # fmt: skip
        tool_id = self.tool("TodoWrite", {"todos": todos})
        self.tool_result(tool_id, "Todos have been modified successfully.")

    # -- the work -----------------------------------------------------------------------------

    def run(self) -> int:
        """The whole session; returns the exit code (0 success, 1 failure, like Claude Code)."""
        plan = self.plan
        self.emit({"type": "system", "subtype": "init", "cwd": self.cwd, "model": "claude-simulated",
                   "tools": ["Bash", "Edit", "Glob", "Grep", "Read", "TodoWrite", "Write"],
                   "permissionMode": "bypassPermissions", "claude_code_version": "simulated"})  # fmt: skip
        self.assistant({"type": "text", "text": f"I'll work on issue #{plan.number}: {plan.title}"})
        self.todos(0)
        for step, path in enumerate(self._files_to_read()):
            if plan.failure and step == plan.fail_at:
                return self.fail()
            self.beat()
            self.read(path)
        if plan.failure:
            return self.fail()
        self.beat()
        self.todos(1)
        relative_path = self.write_notes()
        self.beat()
        self.todos(2)
        tool_id = self.tool("Bash", {"command": "pytest -q", "description": "Run the tests (simulated)"})
        self.beat()
        self.tool_result(tool_id, "4 passed in 0.01s (simulated)")
        self.todos(3)
        committed, output = self.commit(relative_path)
        if not committed:
            self.result(subtype="error_during_execution", is_error=True, errors=[f"git commit failed: {output}"])
            return 1
        self.beat()
        self.todos(4)
        summary = f"Added {relative_path} for issue #{plan.number} and committed it."
        self.assistant({"type": "text", "text": summary})
        self.result(result=summary, terminal_reason="completed")
        return 0

    def _files_to_read(self) -> list[str]:
        names = sorted(name for name in os.listdir(self.cwd) if not name.startswith(".") and os.path.isfile(name))
        return [names[index % len(names)] if names else "README.md" for index in range(self.plan.steps)]

    def read(self, path: str) -> None:
        tool_id = self.tool("Read", {"file_path": os.path.join(self.cwd, path)})
        try:
            with open(path, encoding="utf-8", errors="replace") as source:
                lines = source.read(4000).splitlines()[:5]
        except OSError as error:
            self.tool_result(tool_id, f"<tool_use_error>{error}</tool_use_error>", is_error=True)
            return
        numbered = "\n".join(f"{index:>6}\t{line}" for index, line in enumerate(lines, start=1))
        file_info = {"filePath": os.path.join(self.cwd, path), "numLines": len(lines), "startLine": 1}
        self.tool_result(tool_id, numbered, details={"type": "text", "file": file_info})

    def write_notes(self) -> str:
        relative_path = os.path.join("waterspider-work", f"issue-{self.plan.number}.md")
        try:
            with open(relative_path, encoding="utf-8") as earlier:
                before = earlier.read()
        except OSError:
            before = ""
        # Sent back to a worktree it already worked in (a gate round), it adds to its notes: each run
        # leaves a change of its own to commit, as a real agent answering the gate does.
        runs = before.count("\nWorked on ")
        if not before:
            before = f"# Issue #{self.plan.number}: {self.plan.title}\n"
        text = before + (f"\nWorked on by the simulated agent (session {self.plan.session_id}, attempt {self.plan.attempt}"
                         f"{f', run {runs + 1} here' if runs else ''}).\n")  # fmt: skip
        tool_id = self.tool("Write", {"file_path": os.path.join(self.cwd, relative_path), "content": text},
                            "Writing the change.")  # fmt: skip
        os.makedirs("waterspider-work", exist_ok=True)
        with open(relative_path, "w", encoding="utf-8") as notes:
            notes.write(text)
        self.tool_result(tool_id, f"File created successfully at: {os.path.join(self.cwd, relative_path)}")
        return relative_path

    def commit(self, relative_path: str) -> tuple[bool, str]:
        message = f"Work on #{self.plan.number}: {self.plan.title}"
        command = f'git add {relative_path} && git commit -m "{message}"'
        tool_id = self.tool("Bash", {"command": command, "description": "Commit the change"})
        output = ""
        for argv in (["git", "add", "--", relative_path],
                     ["git", *GIT_IDENTITY, "-c", "commit.gpgsign=false", "commit", "--no-verify", "-m", message]):  # fmt: skip
            try:
                done = subprocess.run(argv, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
            except (OSError, subprocess.TimeoutExpired) as error:
                self.tool_result(tool_id, str(error), is_error=True)
                return False, str(error)
            output = (done.stdout + done.stderr).strip()
            if done.returncode != 0:
                self.tool_result(tool_id, output or f"exit {done.returncode}", is_error=True)
                return False, output
        self.tool_result(tool_id, output, details={"stdout": output, "stderr": "", "interrupted": False})
        return True, output

    def fail(self) -> int:
        """Fail the way the plan says, with the same lines the real CLI prints for that failure."""
        failure = self.plan.failure
        if failure == "crash":
            sys.stderr.write("simulated agent: crashed on purpose\n")
            return 1
        if failure == "max_turns":
            self.result(subtype="error_max_turns", is_error=True, terminal_reason="max_turns",
                        errors=[f"Reached maximum number of turns ({self.turns})"])  # fmt: skip
            return 1
        status, error, text = 529, "overloaded", "API Error: 529 Overloaded. (simulated)"
        if failure == "usage_limit":
            status, error, text = 429, "rate_limit", "You've hit your limit (simulated)"
            info = {"status": "rejected", "resetsAt": int(time.time()) + 300, "rateLimitType": "five_hour"}
            self.emit({"type": "rate_limit_event", "rate_limit_info": info})
        for attempt in (1, 2):
            self.emit({"type": "system", "subtype": "api_retry", "attempt": attempt, "max_retries": 2,
                       "retry_delay_ms": 10, "error_status": status, "error": error})  # fmt: skip
        final_error = "server_error" if error == "overloaded" else error
        self.assistant({"type": "text", "text": text}, model="<synthetic>", error=final_error,
                       is_api_error_message=True, api_error_status=status)  # fmt: skip
        self.result(is_error=True, api_error_status=status, terminal_reason="api_error", result=text)
        return 1


def _plan_from(argv: list[str] | None) -> RunPlan:
    env = os.environ
    parser = argparse.ArgumentParser(prog="waterspider-simulated-agent", description="The simulated agent: a real child process that talks like Claude Code.")
    parser.add_argument("--duration", type=float, default=float(env.get("WATERSPIDER_SIM_DURATION", 3.0)))
    parser.add_argument("--fail-rate", type=float, default=float(env.get("WATERSPIDER_SIM_FAIL_RATE", 0.0)))
    parser.add_argument("--seed", type=int, default=int(env.get("WATERSPIDER_SIM_SEED", 0)))
    parser.add_argument("--steps", type=int, default=int(env.get("WATERSPIDER_SIM_STEPS", 3)))
    parser.add_argument("--fail-mode", choices=FAILURE_MODES, default=env.get("WATERSPIDER_SIM_FAIL_MODE") or None)
    parser.add_argument("--session-id", default="")
    args = parser.parse_args(argv)
    number = int(env.get("WATERSPIDER_ISSUE_NUMBER", "0") or 0)
    attempt = int(env.get("WATERSPIDER_ISSUE_ATTEMPT", "1") or 1)
    failure = decide_failure(args.seed, number, attempt, args.fail_rate, args.fail_mode or "")
    steps = max(args.steps, 1)
    return RunPlan(
        session_id=args.session_id or str(uuid.uuid4()),
        number=number,
        title=env.get("WATERSPIDER_ISSUE_TITLE", f"issue {number}"),
        attempt=attempt,
        duration_s=args.duration,
        steps=steps,
        failure=failure,
        fail_at=random.Random(f"{args.seed}:{number}:{attempt}:at").randrange(steps + 1),
    )


def main(argv: list[str] | None = None) -> int:
    """Run one simulated session in the current directory; returns the exit code."""
    plan = _plan_from(argv)
    try:
        return SimulatedRun(plan).run()
    except BrokenPipeError:  # the reader went away; nobody is left to tell
        return 1


if __name__ == "__main__":
    sys.exit(main())
