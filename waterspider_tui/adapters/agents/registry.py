"""Agents by kind name, as config names them: `simulated`, `command`, `claude`, `codex`."""

from __future__ import annotations

import dataclasses
from typing import Any

from waterspider_tui.adapters.agents.base import Agent, EnvPolicy, StreamParser
from waterspider_tui.adapters.agents.claude import ClaudeAgent, ClaudeOptions
from waterspider_tui.adapters.agents.claude_stream import ClaudeStreamParser
from waterspider_tui.adapters.agents.codex import CodexAgent, CodexOptions
from waterspider_tui.adapters.agents.codex_stream import CodexStreamParser
from waterspider_tui.adapters.agents.command import CommandAgent, CommandOptions, CommandStreamParser
from waterspider_tui.adapters.agents.simulated import SimulatedAgent, SimulatedOptions

AGENT_KINDS = ("simulated", "command", "claude", "codex")

_AGENTS: dict[str, tuple[type[Any], type[Any]]] = {
    "simulated": (SimulatedAgent, SimulatedOptions),
    "command": (CommandAgent, CommandOptions),
    "claude": (ClaudeAgent, ClaudeOptions),
    "codex": (CodexAgent, CodexOptions),
}
_PARSERS: dict[str, type[Any]] = {
    "simulated": ClaudeStreamParser,
    "claude": ClaudeStreamParser,
    "codex": CodexStreamParser,
    "command": CommandStreamParser,
}


def _check_kind(kind: str) -> None:
    if kind not in _AGENTS:
        raise ValueError(f"unknown agent kind {kind!r}; choose one of: {', '.join(AGENT_KINDS)}")


def build_options(kind: str, options: dict[str, Any] | None) -> Any:
    """The options dataclass for `kind` from a config mapping; lists become tuples, typos are errors."""
    _check_kind(kind)
    options_type = _AGENTS[kind][1]
    known = {option.name for option in dataclasses.fields(options_type)}
    given = dict(options or {})
    unknown = sorted(set(given) - known)
    if unknown:
        raise ValueError(f"{kind} agent: unknown option(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    values = {name: tuple(value) if isinstance(value, list) else value for name, value in given.items()}
    try:
        return options_type(**values)
    except TypeError as error:  # a required option is missing
        raise ValueError(f"{kind} agent: {error}") from error


def make_agent(kind: str, options: dict[str, Any] | None, env_policy: EnvPolicy) -> Agent:
    """The Agent for a config entry; a ValueError names the unknown kind or option."""
    built = build_options(kind, options)
    agent: Agent = _AGENTS[kind][0](built, env_policy)
    return agent


def parser_for(kind: str) -> StreamParser:
    """A fresh parser for one session of `kind` (also for re-reading a log after a restart)."""
    _check_kind(kind)
    parser: StreamParser = _PARSERS[kind]()
    return parser
