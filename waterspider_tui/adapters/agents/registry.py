"""Agents by kind name, as config names them: `simulated`, `command`, `claude`, `codex`."""

from __future__ import annotations

import dataclasses
import difflib
import typing
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
    if len(unknown) == 1 and (close := difflib.get_close_matches(unknown[0], sorted(known), n=1, cutoff=0.6)):
        raise ValueError(f"{kind} agent: unknown option {unknown[0]} (did you mean {close[0]}?)")
    if unknown:
        raise ValueError(f"{kind} agent: unknown option(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    _check_numbers(kind, options_type, given)
    values = {name: tuple(value) if isinstance(value, list) else value for name, value in given.items()}
    try:
        return options_type(**values)
    except TypeError as error:  # a required option is missing
        raise ValueError(f"{kind} agent: {error}") from error


def _check_numbers(kind: str, options_type: type[Any], given: dict[str, Any]) -> None:
    """A boolean or a string where an option is a number is refused (`duration_s = true`), not run with."""
    hints = typing.get_type_hints(options_type)
    for name, value in given.items():
        wanted = {int: "a whole number", float: "a number"}.get(hints.get(name))
        if wanted and (isinstance(value, (bool, str)) or (hints[name] is int and isinstance(value, float) and not value.is_integer())):
            shown = str(value).lower() if isinstance(value, bool) else repr(value)
            raise ValueError(f"{kind} agent: option {name}: {shown} is not {wanted}")


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
