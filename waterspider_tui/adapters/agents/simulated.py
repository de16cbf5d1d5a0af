"""The simulated agent for the demo and tests: a real child process that talks like Claude Code.

Run as `python -m waterspider_tui.adapters.agents.simulated` in an issue's worktree. Over
`--duration` seconds it prints Claude Code's stream-json (init, assistant text and tool calls,
tool results, TodoWrite updates, a final result), writes `waterspider-work/issue-N.md` and
commits it on the current branch. A seeded draw decides whether the run fails and how
(`error_max_turns`, an API 529, a crash without result), so the same seed, issue and attempt
always give the same outcome. Exit code 0 on success, 1 on failure, like Claude Code.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import uuid
from dataclasses import dataclass

from waterspider_tui.adapters.agents.base import EnvPolicy, LaunchSpec, SessionContext
from waterspider_tui.adapters.agents.claude_stream import ClaudeStreamParser
from waterspider_tui.adapters.agents.environment import agent_env, issue_env, write_body_file
from waterspider_tui.adapters.agents.simulated_run import FAILURE_MODES, RunPlan, SimulatedRun, decide_failure

_PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
"""The folder holding `waterspider_tui`, so the child finds us even when we are not installed."""


@dataclass(frozen=True)
class SimulatedOptions:
    """How the simulated agent behaves."""

    duration_s: float = 3.0
    """Wall-clock length of a run, spread over its steps."""
    fail_rate: float = 0.0
    """Share of runs that fail, drawn from seed + issue number + attempt."""
    seed: int = 0
    """Added to the session's own seed."""
    steps: int = 3
    """How many files it reads before editing."""
    fail_mode: str = ""
    """Force how failing runs fail (max_turns, overloaded, crash, usage_limit); empty: drawn."""

    def __post_init__(self) -> None:
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

    def launch(self, context: SessionContext) -> LaunchSpec:
        opts = self.options
        session_id = context.resume_agent_session or str(uuid.uuid4())
        argv = [
            sys.executable, "-m", "waterspider_tui.adapters.agents.simulated",
            "--duration", str(opts.duration_s), "--fail-rate", str(opts.fail_rate),
            "--seed", str(opts.seed + context.seed), "--steps", str(opts.steps),
            "--session-id", session_id,
        ]  # fmt: skip
        if opts.fail_mode:
            argv += ["--fail-mode", opts.fail_mode]
        env = agent_env(
            self.env_policy,
            defaults={"PYTHONPATH": _PACKAGE_ROOT, "PYTHONUNBUFFERED": "1"},
            issue=issue_env(context, write_body_file(context)),
        )
        return LaunchSpec(argv=tuple(argv), env=env, cwd=context.worktree, agent_session_id=session_id)

    def parser(self) -> ClaudeStreamParser:
        return ClaudeStreamParser()


def _plan_from(argv: list[str] | None) -> RunPlan:
    env = os.environ
    parser = argparse.ArgumentParser(prog="waterspider-simulated-agent", description=__doc__.splitlines()[0])
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
