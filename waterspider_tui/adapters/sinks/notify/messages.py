"""One message from a batch of notices: a title that counts them, a section per kind, lines with links.

Each channel renders the same `Message` in its own format (Slack blocks, Discord embeds, a
terminal line), so a burst reads the same everywhere and is cut to each service's limits in
one place: a section lists at most `max_lines` notices, then says how many more there were.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Sequence

from waterspider_tui.adapters.sinks.notify.notices import Notice, NoticeKind

KIND_ORDER = (
    NoticeKind.FAILED, NoticeKind.PAUSED, NoticeKind.HOST_DOWN, NoticeKind.OPERATOR,
    NoticeKind.MILESTONE, NoticeKind.IDLE, NoticeKind.DIGEST,
)
HEADINGS = {
    NoticeKind.FAILED: ("issue failed", "issues failed"),
    NoticeKind.PAUSED: ("dispatch", "dispatch"),
    NoticeKind.HOST_DOWN: ("host", "hosts"),
    NoticeKind.OPERATOR: ("needs you", "need you"),
    NoticeKind.MILESTONE: ("milestone", "milestones"),
    NoticeKind.IDLE: ("run idle", "run idle"),
    NoticeKind.DIGEST: ("daily digest", "daily digest"),
}
SEVERITY_RANK = {"info": 0, "warning": 1, "error": 2}


@dataclass(frozen=True)
class Line:
    label: str
    """Link text (`#12`); plain when `url` is empty."""
    text: str
    url: str = ""


@dataclass(frozen=True)
class Section:
    kind: NoticeKind
    heading: str
    """`3 issues failed`."""
    lines: tuple[Line, ...]
    more: int = 0
    """Notices left out to stay within the message's size."""
    severity: str = "info"
    hints: tuple[str, ...] = ()
    """What the operator can do, each said once (`max_turns: The agent ran out of turns. ...`)."""


@dataclass(frozen=True)
class Message:
    title: str
    """Counts of what is in it: `3 issues failed · dispatch paused`."""
    sections: tuple[Section, ...]
    footer: str
    severity: str
    notices: int
    mentions: tuple[str, ...] = ()
    """Platform mention strings (`<@U024BE7LH>`, `<!here>`), added when someone must act."""

    def plain_lines(self) -> list[str]:
        """The message as plain text lines (the fallback text, the terminal, logs)."""
        lines = [self.title]
        for section in self.sections:
            lines.append(f"{section.heading}:")
            lines.extend(f"  {line.label} {line.text}".rstrip() for line in section.lines)
            if section.more:
                lines.append(f"  … and {section.more} more")
            lines.extend(f"  {hint}" for hint in section.hints)
        return lines


def compose(
    notices: Sequence[Notice], *, source: str = "waterspider", mentions: Sequence[str] = (), max_lines: int = 15,
    now: float | None = None,
) -> Message:
    """Group notices by kind (failures first), oldest first within a kind."""
    by_kind: dict[NoticeKind, list[Notice]] = {}
    for notice in sorted(notices, key=lambda item: (item.seq or 0, item.ts, item.key)):
        by_kind.setdefault(notice.kind, []).append(notice)
    sections = tuple(_section(kind, by_kind[kind], max_lines) for kind in KIND_ORDER if kind in by_kind)
    severity = max((notice.severity for notice in notices), key=lambda value: SEVERITY_RANK.get(value, 0), default="info")
    needs_operator = any(notice.needs_operator for notice in notices)
    moment = time.time() if now is None else now
    footer = f"{source} · {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(moment))}"
    return Message(
        title=" · ".join(_summary(section, by_kind[section.kind]) for section in sections) or "nothing to report",
        sections=sections, footer=footer, severity=severity, notices=len(notices),
        mentions=tuple(mentions) if needs_operator else (),
    )


HINTS_SHOWN = 5


def _section(kind: NoticeKind, notices: list[Notice], max_lines: int) -> Section:
    """The notices' lines (cut at `max_lines`, each said once), then each distinct hint once."""
    lines: list[Line] = []
    said: set[tuple[str, str]] = set()
    for notice in notices:
        if (notice.label, notice.text) in said:
            continue
        said.add((notice.label, notice.text))
        lines.append(Line(notice.label, notice.text, notice.url))
        lines.extend(Line("", detail) for detail in notice.details)
    shown = lines[:max_lines]
    more = sum(1 for line in lines[max_lines:] if line.label) if kind is not NoticeKind.DIGEST else len(lines) - len(shown)
    hints = tuple(dict.fromkeys(notice.hint for notice in notices if notice.hint))[:HINTS_SHOWN]
    severity = max((notice.severity for notice in notices), key=lambda value: SEVERITY_RANK.get(value, 0))
    return Section(kind, _heading(kind, notices), tuple(shown), more, severity, hints)


def _things(notices: list[Notice]) -> int:
    """How many things the notices are about (hosts, milestones): a host down and back is one host."""
    return len({notice.label for notice in notices})


def _heading(kind: NoticeKind, notices: list[Notice]) -> str:
    one, many = HEADINGS[kind]
    if kind is NoticeKind.FAILED:
        issues = _things(notices)
        return f"{issues} {one if issues == 1 else many}"
    return one if _things(notices) == 1 else many


def _summary(section: Section, notices: list[Notice]) -> str:
    """The title's part for one kind: how many things, or the latest news when it is about one thing."""
    if section.kind in (NoticeKind.FAILED, NoticeKind.IDLE, NoticeKind.DIGEST):
        return section.heading
    if _things(notices) == 1:
        latest = notices[-1]
        text = f"{latest.label} {latest.text}"
        return clip(text.split(": ")[0] if section.kind is NoticeKind.PAUSED else text, 80)
    return f"{_things(notices)} {section.heading}"


def clip(text: str, limit: int) -> str:
    """Cut to `limit` characters, marking the cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
