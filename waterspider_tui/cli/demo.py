"""`waterspider demo`: a throw-away git repository, twenty sample issues, simulated agents."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from importlib import resources
from pathlib import Path

DEMO_FILES = {
    "README.md": "# widgets\n\nA sample project for the waterspider demo.\n",
    "src/widgets/__init__.py": '"""Widgets."""\n',
}


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=waterspider demo", "-c", "user.email=demo@waterspider.invalid", *args],
        cwd=repo, check=True, capture_output=True, text=True,
    )


def prepare_demo(folder: Path | None = None) -> tuple[Path, Path, Path]:
    """Create (or reuse) a demo folder; returns (the folder, its repository, its issue folder)."""
    root = Path(folder) if folder else Path(tempfile.mkdtemp(prefix="waterspider-demo-"))
    repo = root / "widgets"
    issues = root / "issues"
    if not (repo / ".git").exists():
        repo.mkdir(parents=True, exist_ok=True)
        for name, text in DEMO_FILES.items():
            path = repo / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        _git(repo, "init", "-q", "-b", "main")
        _git(repo, "add", "-A")
        _git(repo, "commit", "-q", "-m", "Initial commit")
    if not issues.exists():
        issues.mkdir(parents=True)
        for item in resources.files("waterspider_tui.demo_issues").iterdir():
            if item.name.endswith(".md"):
                (issues / item.name).write_text(item.read_text(encoding="utf-8"), encoding="utf-8")
    return root, repo, issues


def remove_demo(root: Path) -> None:
    shutil.rmtree(root, ignore_errors=True)
