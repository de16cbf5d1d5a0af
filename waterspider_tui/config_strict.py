"""Checks pydantic's lax parsing would let through: a misspelled section in `WATERSPIDER_*`
variables (they are otherwise ignored), and a boolean or a string in the file where a number belongs."""

from __future__ import annotations

import difflib
import types
from typing import Any, Mapping, Union, get_args, get_origin

from pydantic import BaseModel

ENV_PREFIX = "WATERSPIDER_"
ENV_DELIMITER = "__"


def unknown_env_section(environ: Mapping[str, str], sections: list[str]) -> str | None:
    """The first `WATERSPIDER_SECTION__KEY` whose section does not exist, as one line with a did-you-mean.

    Only names with the `__` delimiter are settings: `WATERSPIDER_SLACK_WEBHOOK_URL` and the
    variables a session is given (`WATERSPIDER_ISSUE_NUMBER`) are not, and are left alone."""
    known = [section.upper() for section in sections]
    for name in sorted(environ):
        upper = name.upper()
        if not upper.startswith(ENV_PREFIX) or ENV_DELIMITER not in upper[len(ENV_PREFIX):]:
            continue
        section, _, rest = upper[len(ENV_PREFIX):].partition(ENV_DELIMITER)
        if section in known:
            continue
        close = difflib.get_close_matches(section, known, n=1, cutoff=0.6)
        hint = f" (did you mean {ENV_PREFIX}{close[0]}{ENV_DELIMITER}{rest}?)" if close else f"; the sections are {', '.join(s.lower() for s in sections)}"
        return f"unknown section {section.lower()} in {name}{hint}"
    return None


def number_wanted(annotation: Any) -> str | None:
    """'a whole number' or 'a number' when a field holds one (optional or not), else None."""
    if get_origin(annotation) in (Union, types.UnionType):
        kinds = [arg for arg in get_args(annotation) if arg is not type(None)]
        annotation = kinds[0] if len(kinds) == 1 else None
    if annotation is int:
        return "a whole number"
    if annotation is float:
        return "a number"
    return None


def loose_number(data: Any, model: type[BaseModel], loc: tuple[int | str, ...] = ()) -> tuple[tuple[int | str, ...], Any, str] | None:
    """The first value of `data` (as read from the file) that is a boolean or a string where `model`
    wants a number: its place, the value and what was wanted. TOML has real numbers, so a quoted
    "3" or a `true` is a mistake there, not a spelling to convert."""
    if not isinstance(data, dict):
        return None
    for key, value in data.items():
        field = model.model_fields.get(str(key))
        if field is None:
            continue
        wanted = number_wanted(field.annotation)
        if wanted and isinstance(value, (bool, str)):
            return (*loc, key), value, wanted
        inner = _model_in(field.annotation)
        if inner is not None and isinstance(value, dict):
            found = loose_number(value, inner, (*loc, key))
        elif inner is not None and isinstance(value, list) and get_origin(field.annotation) is list:
            found = next((hit for index, item in enumerate(value) if (hit := loose_number(item, inner, (*loc, key, index)))), None)
        else:
            found = None
        if found:
            return found
    return None


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The settings model a field holds, alone or as the items of a list."""
    if get_origin(annotation) is list:
        (annotation,) = get_args(annotation) or (None,)
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None
