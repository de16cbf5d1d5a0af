"""The DAG screen's milestones section: each milestone's progress, what blocks it, and its integration."""

from __future__ import annotations

from typing import Callable, Sequence

from rich.text import Text
from textual.widget import Widget

from waterspider_tui.core.milestones import MilestoneProgress
from waterspider_tui.ui import format as fmt
from waterspider_tui.ui.palette import Palette

BAR_CELLS = 10
MilestoneKey = tuple[str, str]
"""(repo, milestone name)."""


def progress_bar(done: int, total: int, cells: int = BAR_CELLS) -> str:
    """`██████░░░░` for 3 of 5."""
    filled = round(cells * done / total) if total else 0
    return "█" * filled + "░" * (cells - filled)


def render_milestones(
    rows: Sequence[tuple[MilestoneProgress, str]], palette: Palette, chosen: MilestoneKey | None,
    label: Callable[[str], str], width: int = 160,
) -> Text:
    """One line per milestone: the bar, its counts, what blocks it and the integrator's word; `chosen` marked."""
    out = Text(end="", no_wrap=True, overflow="ellipsis")
    for index, (progress, integration) in enumerate(rows):
        if index:
            out.append("\n")
        mine = (progress.repo, progress.name) == chosen
        out.append("▸ " if mine else "  ", palette.accent)
        out.append(fmt.truncate(progress.name, 16).ljust(16), (palette.bold + palette.accent) if mine else palette.bold)
        out.append(f" {progress_bar(len(progress.done), progress.total)} ", palette.succeeded)
        out.append(f"{len(progress.done)}/{progress.total} done")
        for word, keys, style in (("running", progress.running, palette.running), ("queued", progress.queued, palette.ready),
                                  ("awaiting merge", progress.awaiting_merge, palette.muted), ("blocked", progress.blocked, palette.blocked),
                                  ("failed", progress.failed, palette.failed)):
            if keys:
                out.append(" · ", palette.muted)
                out.append(f"{len(keys)} {word}", style)
        if progress.blocking:
            out.append(" · blocked by ", palette.muted)
            out.append(", ".join(label(key) for key in progress.blocking), palette.failed)
        if integration:
            out.append(" · ", palette.muted)
            trouble = integration.startswith(("conflict", "not integrated")) or "FAILED" in integration
            out.append(integration, palette.warning if trouble else palette.succeeded)
    return out


class MilestonePanel(Widget):
    """Shows `render_milestones`; hidden while no issue has a milestone."""

    DEFAULT_CSS = """
    MilestonePanel { height: auto; max-height: 8; padding: 0 1; display: none; }
    MilestonePanel.-shown { display: block; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.picture = Text("")

    def show(self, picture: Text, shown: bool) -> None:
        self.picture = picture
        self.set_class(shown, "-shown")
        self.refresh(layout=True)

    def render(self) -> Text:
        return self.picture
