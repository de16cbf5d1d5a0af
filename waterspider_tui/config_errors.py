"""Bad settings in the operator's words: the value given, what it must be, and a "did you mean"."""

from __future__ import annotations

import difflib
import re
from typing import Any

from pydantic import BaseModel

_QUOTED = re.compile(r"'([^']*)'")


def _shown(value: Any) -> str:
    """The value as the operator wrote it: strings quoted, the rest as TOML would spell them."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str):
        return repr(value) if len(value) <= 60 else repr(value[:57] + "...")
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _fields_at(model: type[BaseModel], path: tuple[int | str, ...]) -> list[str]:
    """The setting names that exist where `path` points (the sections at the top, a section's keys below)."""
    for part in path:
        field = model.model_fields.get(str(part))
        annotation = field.annotation if field is not None else None
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        model = annotation
    return list(model.model_fields)


def _did_you_mean(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f" (did you mean {close[0]}?)" if close else ""


def explain(error: dict[str, Any], settings: type[BaseModel], within: tuple[str, ...] = ()) -> str:
    """One pydantic error as a short sentence about the value and what it must be; `within` is the
    table `settings` is read from when it is not the whole file (a step's `[pipeline.gate]`)."""
    kind = error.get("type", "")
    loc = tuple(error.get("loc", ()))
    ctx = error.get("ctx") or {}
    value = error.get("input")
    if kind == "extra_forbidden":
        name = str(loc[-1]) if loc else ""
        choices = _fields_at(settings, loc[:-1])
        what = "section" if len(loc) == 1 and not within else "key"
        hint = _did_you_mean(name, choices)
        if not hint and choices:
            where = "the sections are" if what == "section" else f"the keys of [{'.'.join(str(part) for part in (*within, *loc[:-1]))}] are"
            hint = f"; {where} {', '.join(choices)}"
        return f"unknown {what}{hint}"
    bounds = {
        "greater_than_equal": ("small", "at least", "ge"), "greater_than": ("small", "more than", "gt"),
        "less_than_equal": ("large", "at most", "le"), "less_than": ("large", "less than", "lt"),
    }
    if kind in bounds:
        size, rule, key = bounds[kind]
        return f"{_shown(value)} is too {size}: it must be {rule} {_shown(ctx.get(key))}"
    if kind == "literal_error":
        allowed = _QUOTED.findall(str(ctx.get("expected", "")))
        return f"{_shown(value)} is not one of {', '.join(allowed)}" + _did_you_mean(str(value), allowed)
    wanted = {
        "int_parsing": "a whole number", "int_type": "a whole number", "int_from_float": "a whole number",
        "float_parsing": "a number", "float_type": "a number", "bool_parsing": "true or false", "bool_type": "true or false",
        "string_type": "text in quotes", "list_type": 'a list, like ["a", "b"]', "dict_type": "a table, like { key = value }",
        "model_type": "a table, like { key = value }", "model_attributes_type": "a table, like { key = value }",
        "path_type": "a path in quotes",
    }
    if kind in wanted:
        return f"{_shown(value)} is not {wanted[kind]}"
    message = str(error.get("msg", "not valid"))
    message = message.removeprefix("Value error, ")
    return message[:1].lower() + message[1:]


__all__ = ["explain"]
