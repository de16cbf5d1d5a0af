"""StoreError, and the checks that refuse a store file before SQLite would misread or change it."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

SESSIONS_DIR = "sessions"
"""The sessions' folder the engine keeps beside the store: a sign that a store was here."""


class StoreError(RuntimeError):
    """The store's file cannot be used as it is; the message is one line naming it and what to do."""


class SchemaError(StoreError):
    """The store was written by a newer (or unknown) schema."""


def check_file(path: Path, *, read_only: bool) -> bool:
    """Refuse a file that is no usable store; True if there is none yet, so a new one may be made.

    Why an empty file is refused: a new store is made beside its path and linked into place
    whole, so an empty file at the path is a store that was emptied (a full disk, a bad
    copy), and taking it as new would run every finished issue again.
    """
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        if read_only:
            raise StoreError(f"{path}: no store here (nothing has run with it yet)") from None
        _check_folder_writable(path)
        return True
    except OSError as error:
        raise StoreError(f"{path} cannot be read: {error.strerror}") from error
    if path.is_dir():
        raise StoreError(f"{path} is a folder, not a waterspider store: choose a file path for the store")
    if size == 0:
        raise StoreError(f"{path} is empty but a store was here ({_signs_of_a_store(path)}): restore it from backup or move it away to start over")
    if not read_only:
        if not os.access(path, os.W_OK):
            raise StoreError(f"{path} cannot be written: read-only file: make it writable or choose another store path")
        _check_folder_writable(path)
    return False


def _check_folder_writable(path: Path) -> None:
    """SQLite creates the -wal and -shm files beside the store, so its folder must be writable too."""
    folder = next((parent for parent in path.parents if parent.exists()), path.parent)
    if not os.access(folder, os.W_OK | os.X_OK):
        if folder != path.parent:
            raise StoreError(f"{path} cannot be created: read-only folder {folder}: make it writable or choose another store path")
        raise StoreError(
            f"{path} cannot be written: read-only folder {folder} (SQLite keeps {path.name}-wal and {path.name}-shm beside the store):"
            " make it writable or choose another store path"
        )


def _signs_of_a_store(path: Path) -> str:
    signs = [name for name in (f"{path.name}-wal", f"{path.name}-shm") if (path.parent / name).exists()]
    if (path.parent / SESSIONS_DIR).is_dir():
        signs.append(f"{SESSIONS_DIR}/")
    if not signs:
        return "a new store is never an empty file"
    return f"{', '.join(signs)} {'exists' if len(signs) == 1 else 'exist'}"


def sqlite_error(path: Path, error: sqlite3.Error, *, read_only: bool) -> StoreError:
    """What SQLite said about the store, as one line with what to do."""
    name = getattr(error, "sqlite_errorname", "")
    if name == "SQLITE_NOTADB":
        return StoreError(f"{path} is not a waterspider store ({error})")
    if name.startswith("SQLITE_CORRUPT"):
        return StoreError(f"{path} is damaged ({error}): restore it from backup or move it away to start over")
    if name.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PERM")):
        return StoreError(f"{path} cannot be {'read' if read_only else 'written'}: {error}")
    return StoreError(f"{path}: {error}")
