"""Text from outside (issue files, the GitHub API) made safe to store, print and pass on.

An issue's title or body is written by whoever can open an issue. Before it reaches the
operator's terminal, the store (SQLite, JSON) or an agent's environment, it loses what could
move the cursor, retitle the window, reorder the text (bidi overrides) or fail to encode (lone
UTF-16 surrogates, which JSON writers emit as `\\ud83d` escapes).
"""

from __future__ import annotations

import re

_SURROGATE = re.compile("[\ud800-\udfff]")

_ESCAPE_SEQUENCE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]?"  # CSI: ESC [ parameters intermediates final
    r"|\x9b[0-?]*[ -/]*[@-~]?"  # the same, introduced by the one-byte C1 CSI
    r"|[\x1b][\]PX^_][^\x07\x1b\x9c\n]*(?:\x07|\x1b\\|\x9c)?"  # OSC, DCS, SOS, PM, APC up to BEL or ST
    r"|[\x90\x98\x9d\x9e\x9f][^\x07\x1b\x9c\n]*(?:\x07|\x1b\\|\x9c)?"  # their one-byte C1 forms
    r"|\x1b[ -/]*[0-~]?"  # any other escape: ESC, intermediates, final
)
"""Whole terminal escape sequences; a string one (OSC, DCS…) ends at its terminator or the line's end."""

_BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
"""Embeddings, overrides and isolates: they make text read differently from what it is ("Trojan Source")."""

_C0_C1 = [*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0)]
_LINE_BREAKS = "\t\n\v\f\r\x85\u2028\u2029"

_ONE_LINE: dict[int, str | None] = {code: None for code in _C0_C1}
_ONE_LINE.update({ord(char): None for char in _BIDI_CONTROLS})
_ONE_LINE.update({ord(char): " " for char in _LINE_BREAKS})

_BODY: dict[int, str | None] = {code: None for code in _C0_C1}
_BODY.update({ord(char): None for char in _BIDI_CONTROLS})
_BODY.update({ord("\n"): "\n", ord("\t"): "\t", 0x2028: "\n", 0x2029: "\n", 0x85: "\n"})


def without_surrogates(text: str) -> str:
    """`text` with escaped surrogate pairs joined into their character and lone halves as U+FFFD."""
    if not _SURROGATE.search(text):
        return text
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def one_line_text(text: str) -> str:
    """A title, label or name as one printable line: no control characters, escapes or bidi overrides.

    Line breaks and tabs become spaces; escape sequences go whole (`ESC ] 0 ; pwned BEL` leaves
    nothing behind), and every other C0/C1 control, DEL and bidi control is dropped.
    """
    return _ESCAPE_SEQUENCE.sub("", without_surrogates(text)).translate(_ONE_LINE)


def body_text(text: str) -> str:
    """An issue body: newlines and tabs kept (CRLF as LF), every other control, escape and bidi control dropped."""
    text = without_surrogates(text).replace("\r\n", "\n")
    return _ESCAPE_SEQUENCE.sub("", text).translate(_BODY)
