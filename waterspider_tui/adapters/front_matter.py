"""An issue file's YAML front matter read as plain data: no aliases, bounded in size and depth.

Front matter never needs anchors and aliases, and aliases are how a few hundred bytes expand
into a billion strings ("billion laughs"), so any alias refuses the file. Escaped surrogate
pairs (`"\\ud83d\\ude80"`, as JSON writers emit them), which YAML leaves as two halves, are
joined into their character; a lone half becomes U+FFFD.
"""

from __future__ import annotations

import math
import re
from typing import Any

import yaml

from waterspider_tui.core.safe_text import one_line_text, without_surrogates

MAX_FRONT_MATTER_BYTES = 64 * 1024
"""Real front matter is a few hundred bytes; more is a mistake or an attack on the parser."""

_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)(.*)\Z", re.DOTALL)


class IssueFileError(ValueError):
    """One file's problem, phrased for the operator."""


class _PlainDataLoader(yaml.SafeLoader):
    """SafeLoader that refuses aliases."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            anchor = one_line_text(str(self.peek_event().anchor))[:40]
            raise IssueFileError(f"front matter uses a YAML alias (*{anchor}); issue files must spell every value out")
        return super().compose_node(parent, index)


def split_front_matter(text: str) -> tuple[str, str]:
    """The YAML between the opening and closing `---` lines, and the body after them."""
    match = _FRONT_MATTER.match(text.lstrip("\ufeff"))
    if not match:
        raise IssueFileError("no YAML front matter: the file must start with a '---' line and close it with another")
    return match.group(1), match.group(2)


def load_front_matter(text: str) -> Any:
    """The front matter's value ({} when empty); raises IssueFileError saying what is wrong."""
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_FRONT_MATTER_BYTES:
        limit_kb = MAX_FRONT_MATTER_BYTES // 1024
        raise IssueFileError(f"front matter is {math.ceil(size / 1024)} KB; the most an issue file may have is {limit_kb} KB")
    try:
        return _without_surrogates(yaml.load(text, Loader=_PlainDataLoader)) or {}
    except IssueFileError:
        raise
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 2}" if mark is not None else ""
        problem = one_line_text(str(getattr(error, "problem", error)))
        raise IssueFileError(f"front matter is not valid YAML{where}: {problem}") from error
    except RecursionError as error:
        raise IssueFileError("front matter is nested too deeply") from error
    except ValueError as error:  # YAML that parses to an impossible value, such as a date 2026-13-45
        raise IssueFileError(f"front matter has an impossible value: {one_line_text(str(error))}") from error


def _without_surrogates(value: Any) -> Any:
    """`value` with every string's surrogate halves joined or replaced, in lists and mappings too."""
    if isinstance(value, str):
        return without_surrogates(value)
    if isinstance(value, list):
        return [_without_surrogates(item) for item in value]
    if isinstance(value, dict):
        return {_without_surrogates(key): _without_surrogates(item) for key, item in value.items()}
    return value
