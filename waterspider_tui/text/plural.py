"""A number with its noun, singular or plural as the number asks: `1 commit`, `2 commits`, `0 files`."""

from __future__ import annotations


def counted(number: int, singular: str, plural: str = "") -> str:
    """`number` and the noun agreeing with it; `plural` where adding an s is wrong (`1 entry`, `2 entries`)."""
    return f"{number} {singular if number == 1 else plural or singular + 's'}"
