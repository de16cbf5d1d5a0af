"""Textual-free renderers: event lines, status and plan texts, shared by `--no-ui`, the CLI and the control center."""
