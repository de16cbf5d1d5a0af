"""The exit codes of `waterspider run` and `demo`, with or without the control center."""

from __future__ import annotations

EXIT_DONE = 0
"""Every issue succeeded (or was closed upstream)."""
EXIT_NOT_DONE = 1
"""Issues failed, were cancelled or are left waiting; or the engine stopped on an error."""
EXIT_USAGE = 2
"""Nothing ran: a bad flag or setting, no issue source, no terminal for the control center."""
EXIT_INTERRUPTED = 130
"""Stopped from outside: Ctrl-C or SIGTERM in `--no-ui`, or its reader went away (`| head`);
SIGTERM or SIGHUP to the control center."""
