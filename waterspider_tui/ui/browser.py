"""Opening a web page from the control center: `$BROWSER`, else a graphical browser.

A console browser (lynx, w3m) is never started: it would fight the control center for the
terminal. Without a browser the caller shows the address instead.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import webbrowser
from typing import Mapping


def _browser_argv(command: str, url: str) -> list[str]:
    """One `$BROWSER` entry as argv: `%s` stands for the address, else it goes last."""
    argv = shlex.split(command)
    return [part.replace("%s", url) for part in argv] if any("%s" in part for part in argv) else [*argv, url]


def open_in_browser(url: str, env: Mapping[str, str] | None = None) -> bool:
    """Open `url` without waiting for the browser; False when there is no browser to open it with."""
    env = os.environ if env is None else env
    commands = [entry for entry in env.get("BROWSER", "").split(os.pathsep) if entry.strip()]
    for command in commands:
        try:
            subprocess.Popen(
                _browser_argv(command, url), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, start_new_session=True,
            )
        except (OSError, ValueError):
            continue
        return True
    if commands:
        return False
    try:
        browser = webbrowser.get()
    except webbrowser.Error:
        return False
    # GenericBrowser itself (not a subclass) is how `webbrowser` runs console browsers in the foreground.
    if type(browser) is webbrowser.GenericBrowser:
        return False
    return bool(browser.open(url, new=2))
