"""The operator at the screen: a terminal bell and a desktop notification by escape sequence (off by default).

OSC 9 (`ESC ] 9 ; text BEL`) is shown as a desktop notification by iTerm2, Windows Terminal,
WezTerm, ConEmu and others; OSC 777 (`ESC ] 777 ; notify ; title ; body BEL`) by foot,
urxvt, Ghostty and VTE terminals that carry the patch. A terminal that knows neither ignores
both. Inside tmux the sequence is wrapped for passthrough (tmux needs `allow-passthrough on`).

The sequence is written in one call, by the writer given or straight to `/dev/tty`. While the
control center lends the terminal to the operator's shell (`TerminalHold`), messages wait and
are written once it is back: one bell and one notification for all of them.
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING, Callable, Literal, Mapping

from waterspider_tui.adapters.sinks.notify.messages import SEVERITY_RANK, Message, clip

if TYPE_CHECKING:
    from waterspider_tui.adapters.sinks.terminal_hold import TerminalHold

Desktop = Literal["osc9", "osc777", "off"]
BEL = "\a"
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _plain(text: str, limit: int) -> str:
    """No control characters (an issue title must not end the sequence early) and no `;` (OSC 777's separator)."""
    return clip(_CONTROL.sub(" ", text).replace(";", ","), limit)


def terminal_sequence(message: Message, *, bell: bool = True, desktop: Desktop = "osc9", tmux: bool = False, app: str = "waterspider") -> str:
    """What to write for one message: the bell, then the desktop notification."""
    title = _plain(message.title, 120)
    sequence = ""
    if desktop == "osc9":
        sequence = f"\x1b]9;{_plain(app, 40)}: {title}{BEL}"
    elif desktop == "osc777":
        first = message.sections[0].lines[0] if message.sections and message.sections[0].lines else None
        body = _plain(f"{first.label} {first.text}" if first else message.footer, 200)
        sequence = f"\x1b]777;notify;{_plain(app, 40)}: {title};{body}{BEL}"
    if sequence and tmux:
        sequence = "\x1bPtmux;" + sequence.replace("\x1b", "\x1b\x1b") + "\x1b\\"
    return (BEL if bell else "") + sequence


def merged(messages: list[Message]) -> Message:
    """Several messages as one: their titles in a row, their sections in order, the worst severity."""
    if len(messages) == 1:
        return messages[0]
    return Message(
        title=" · ".join(message.title for message in messages),
        sections=tuple(section for message in messages for section in message.sections),
        footer=messages[-1].footer,
        severity=max((message.severity for message in messages), key=lambda severity: SEVERITY_RANK.get(severity, 0)),
        notices=sum(message.notices for message in messages),
    )


def _write_to_tty(text: str) -> None:
    fd = os.open("/dev/tty", os.O_WRONLY | os.O_NOCTTY)
    try:
        os.write(fd, text.encode("utf-8", "replace"))
    finally:
        os.close(fd)


class TerminalChannel:
    """Rings and notifies on the orchestrator's terminal."""

    kind = "terminal"

    def __init__(
        self, *, bell: bool = True, desktop: Desktop = "osc9", write: Callable[[str], None] | None = None,
        environ: Mapping[str, str] | None = None, hold: TerminalHold | None = None,
    ) -> None:
        self.bell = bell
        self.desktop: Desktop = desktop
        self.tmux = bool((os.environ if environ is None else environ).get("TMUX"))
        self._write = write or _write_to_tty
        self._hold = hold
        self._held: list[Message] = []
        """Messages that came while the terminal was lent, oldest first."""
        if hold is not None:
            hold.on_release(self._deliver_held)

    async def send(self, message: Message) -> None:
        """A terminal that is gone is not worth retrying: the error goes up as a one-line failure."""
        if self._hold is not None and self._hold.held:
            self._held.append(message)
            return
        self._write_message(message)

    def _write_message(self, message: Message) -> None:
        sequence = terminal_sequence(message, bell=self.bell, desktop=self.desktop, tmux=self.tmux)
        if sequence:
            self._write(sequence)

    def _deliver_held(self) -> None:
        """The terminal is back: everything held, as one bell and one notification."""
        held, self._held = self._held, []
        if held:
            self._write_message(merged(held))

    async def close(self) -> None:
        """Nothing to release."""
