"""Every key of the control center by where it applies, and the check of `[ui] keymap` against them.

Textual applies a keymap to any binding whose id it names and ignores the rest, so a misspelt id
or a key taken from another action would go unnoticed until the key does something else. The
check runs before anything starts and names the problem in one line.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Mapping

from textual.binding import Binding
from textual.keys import _character_to_key, format_key

from waterspider_tui.config import ConfigError


@dataclass(frozen=True)
class KeyScope:
    """Keys that are active together: one screen, or the panel that has the focus."""

    title: str
    bindings: tuple[Binding, ...]


def key_scopes() -> list[KeyScope]:
    """The control center's keys first, then each screen and panel with keys of its own."""
    # Imported here: the screens import the app's modules, and the app imports this one.
    from waterspider_tui.ui.app import WaterspiderApp
    from waterspider_tui.ui.screens.dag import DagScreen
    from waterspider_tui.ui.screens.diff_pager import DiffScreen
    from waterspider_tui.ui.screens.log_pager import LogScreen
    from waterspider_tui.ui.screens.modals import QuitScreen, TaskDetailScreen
    from waterspider_tui.ui.screens.summary import SummaryScreen
    from waterspider_tui.ui.widgets.hosts import HostsPanel
    from waterspider_tui.ui.widgets.pager_log import PagerLog

    def bound(*owners: type) -> tuple[Binding, ...]:
        return tuple(binding for owner in owners for binding in owner.__dict__.get("BINDINGS", ()) if isinstance(binding, Binding))

    return [
        KeyScope("Control center", bound(WaterspiderApp)),
        KeyScope("Hosts panel", bound(HostsPanel)),
        KeyScope("Dependency graph (d)", bound(DagScreen)),
        KeyScope("Log pager (l)", bound(LogScreen, PagerLog)),
        KeyScope("Diff (D)", bound(DiffScreen, PagerLog)),
        KeyScope("Results (R)", bound(SummaryScreen)),
        KeyScope("Issue detail (enter)", bound(TaskDetailScreen)),
        KeyScope("Quit question (q)", bound(QuitScreen)),
    ]


def key_names(keys: str) -> list[str]:
    """`"?, ctrl+s"` as Textual names them (`question_mark`, `ctrl+s`)."""
    names = []
    for key in keys.split(","):
        key = key.strip()
        if key:
            names.append(_character_to_key(key) if len(key) == 1 else key)
    return names


def keys_of(binding: Binding, keymap: Mapping[str, str]) -> list[str]:
    """The keys a binding answers to once the keymap is applied."""
    return key_names(keymap.get(binding.id or "", binding.key) if binding.id else binding.key)


def check_keymap(keymap: Mapping[str, object]) -> None:
    """Raise ConfigError for an id no binding has, an empty key, or a key another action keeps."""
    scopes = key_scopes()
    ids = sorted({binding.id for scope in scopes for binding in scope.bindings if binding.id})
    for binding_id, keys in keymap.items():
        if binding_id not in ids:
            close = difflib.get_close_matches(binding_id, ids, n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]}?)" if close else "; the ids are in the help screen (?)"
            raise ConfigError(f"bad setting ui.keymap: no key has the id {binding_id!r}{hint}")
        if not isinstance(keys, str) or not key_names(keys):
            raise ConfigError(f"bad setting ui.keymap.{binding_id}: give the keys as a string, e.g. \"z\" or \"z,ctrl+z\"")
    for scope in scopes:
        for remapped in scope.bindings:
            if remapped.id not in keymap:
                continue
            for other in scope.bindings:
                if other is remapped or other.id == remapped.id or other.action == remapped.action:
                    continue
                shared_before = set(key_names(remapped.key)) & set(key_names(other.key))
                clash = [key for key in keys_of(remapped, keymap) if key in keys_of(other, keymap) and key not in shared_before]
                if clash:
                    taker = f"{other.id} ({other.description or other.action})" if other.id else repr(other.description or other.action)
                    remedy = f"; remap {other.id} too" if other.id else ""
                    raise ConfigError(f"bad setting ui.keymap.{remapped.id}: {format_key(clash[0])!r} is already the key of {taker} in the {scope.title.split(' (')[0].lower()}{remedy}")
