"""Headless Chromium (Debian's `chromium`) for the HTML report: a screenshot, and the DOM it built."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run", "--disable-extensions")


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _run(page: Path, profile: Path, *extra: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    binary = chromium()
    if binary is None:
        raise FileNotFoundError("chromium is not installed (apt-get install -y chromium)")
    argv = [binary, *FLAGS, f"--user-data-dir={profile}", *extra, page.resolve().as_uri()]
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=True)


def screenshot(page: Path, out: Path, profile: Path, size: tuple[int, int] = (1200, 1600)) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    _run(page, profile, f"--window-size={size[0]},{size[1]}", f"--screenshot={out.resolve()}")
    return out


def dom(page: Path, profile: Path) -> str:
    """The page as the browser parsed it (what a reader's browser would show)."""
    return _run(page, profile, "--dump-dom").stdout
