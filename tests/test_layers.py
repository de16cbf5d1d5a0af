"""The layer rules hold: --no-ui never loads Textual, core stays pure, imports point one way."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_headless_does_not_import_textual() -> None:
    code = (
        "import sys, waterspider_tui.headless, waterspider_tui.engine.wiring, waterspider_tui.cli;"
        "print('textual' in sys.modules)"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert output.strip() == "False"


def test_core_imports_only_pure_modules() -> None:
    code = (
        "import sys; before = set(sys.modules);"
        "import waterspider_tui.core.scheduler, waterspider_tui.core.state, waterspider_tui.core.retry;"
        "bad = {'textual', 'httpx', 'asyncssh', 'git', 'sqlite3', 'subprocess', 'asyncio'} & (set(sys.modules) - before);"
        "print(sorted(bad))"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert output.strip() == "[]"


def test_import_linter_contracts() -> None:
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    if lint is None:
        pytest.skip("import-linter is not installed (it comes with the test extras)")
    result = subprocess.run([lint], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:]
