"""The advice per error class, as the comment renderer reads it: the core's one table."""

from __future__ import annotations

from waterspider_tui.core.advice import ADVICE, DEFAULT_ADVICE, advice_for

__all__ = ["ADVICE", "DEFAULT_ADVICE", "advice_for"]
