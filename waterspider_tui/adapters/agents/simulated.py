"""The simulated agent for the demo and tests: a real child process that talks like Claude Code.

Run as `python -m waterspider_tui.adapters.agents.simulated` in an issue's worktree (the engine
starts `simulated_run.py` directly, which is the same program). Over
`--duration` seconds it prints Claude Code's stream-json (init, assistant text and tool calls,
tool results, TodoWrite updates, a final result), writes `waterspider-work/issue-N.md` and
commits it on the current branch. A seeded draw decides whether the run fails and how
(`error_max_turns`, an API 529, a crash without result), so the same seed, issue and attempt
always give the same outcome. Exit code 0 on success, 1 on failure, like Claude Code.
"""

from __future__ import annotations

import random
import sys
import uuid
from dataclasses import dataclass

from waterspider_tui.adapters.agents import simulated_run
from waterspider_tui.adapters.agents.base import EnvPolicy, LaunchSpec, SessionContext
from waterspider_tui.adapters.agents.claude_stream import ClaudeStreamParser
from waterspider_tui.adapters.agents.environment import BODY_FILE, agent_env, issue_env, body_file_path
from waterspider_tui.adapters.agents.simulated_run import FAILURE_MODES, decide_failure, main

CHILD_ARGV = (sys.executable, "-I", "-S", simulated_run.__file__)
"""How the agent process starts: the run is one standard-library-only file, so the interpreter
skips site-packages and our package (about 10 ms of CPU instead of 110 ms: it matters when a
hundred sessions start at once)."""


@dataclass(frozen=True)
class SimulatedOptions:
    """How the simulated agent behaves."""

    duration_s: float = 3.0
    """Wall-clock length of a run, spread over its steps."""
    duration_jitter: float = 0.0
    """Runs take `duration_s` × (1 ± this), drawn from seed + issue number + attempt, so that
    sessions started together do not all finish together."""
    fail_rate: float = 0.0
    """Share of runs that fail, drawn from seed + issue number + attempt."""
    seed: int = 0
    """Added to the session's own seed."""
    steps: int = 3
    """How many files it reads before editing."""
    fail_mode: str = ""
    """Force how failing runs fail (max_turns, overloaded, crash, usage_limit); empty: drawn."""

    def __post_init__(self) -> None:
        if not 0.0 <= self.duration_jitter <= 1.0:
            raise ValueError(f"simulated agent: duration_jitter must be between 0 and 1, not {self.duration_jitter}")
        if self.fail_mode and self.fail_mode not in FAILURE_MODES:
            raise ValueError(f"simulated agent: fail_mode must be one of {', '.join(FAILURE_MODES)}, not {self.fail_mode!r}")


class SimulatedAgent:
    """An Agent whose runs look like Claude Code's and are read by the same parser."""

    name = "simulated"

    def __init__(self, options: SimulatedOptions | None = None, env_policy: EnvPolicy | None = None) -> None:
        self.options = options or SimulatedOptions()
        self.env_policy = env_policy or EnvPolicy()

    def planned_failure(self, context: SessionContext) -> str:
        """The failure a launch for `context` will have ('' for success), without running it."""
        opts = self.options
        return decide_failure(opts.seed + context.seed, context.number, context.attempt, opts.fail_rate, opts.fail_mode)

    def duration_for(self, context: SessionContext) -> float:
        opts = self.options
        if opts.duration_jitter <= 0:
            return opts.duration_s
        draw = random.Random(f"{opts.seed + context.seed}:{context.number}:{context.attempt}:duration").uniform(-1.0, 1.0)
        return max(0.0, opts.duration_s * (1.0 + opts.duration_jitter * draw))

    def launch(self, context: SessionContext) -> LaunchSpec:
        opts = self.options
        session_id = context.resume_agent_session or str(uuid.uuid4())
        argv = [
            *CHILD_ARGV,
            "--duration", str(self.duration_for(context)), "--fail-rate", str(opts.fail_rate),
            "--seed", str(opts.seed + context.seed), "--steps", str(opts.steps),
            "--session-id", session_id,
        ]  # fmt: skip
        if opts.fail_mode:
            argv += ["--fail-mode", opts.fail_mode]
        env = agent_env(
            self.env_policy,
            defaults={"PYTHONUNBUFFERED": "1"},
            issue=issue_env(context, body_file_path(context)),
        )
        files = {BODY_FILE: context.body}
        return LaunchSpec(argv=tuple(argv), env=env, cwd=context.worktree, agent_session_id=session_id, files=files)

    def parser(self) -> ClaudeStreamParser:
        return ClaudeStreamParser()


if __name__ == "__main__":
    sys.exit(main())
