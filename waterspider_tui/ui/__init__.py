"""The Textual control center; the only package that imports textual."""

from __future__ import annotations

from waterspider_tui.ui.app import WaterspiderApp, run_ui

__all__ = ["WaterspiderApp", "run_ui"]
