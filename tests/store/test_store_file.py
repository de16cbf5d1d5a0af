"""Store files that cannot be used are refused with one StoreError line naming the file and what to do."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from waterspider_tui.core import events as ev
from waterspider_tui.store.event_log import SCHEMA_VERSION, EventLog, StoreError
from waterspider_tui.store.state_store import StateStore

T0 = 1_700_000_000.0


def _store(path: Path, count: int = 50) -> None:
    log = EventLog(path)
    log.append([ev.Warned(ts=T0 + n, message=f"event {n} " + "x" * 400) for n in range(count)])
    log.close()


def _refusal(path: Path, *, read_only: bool = False) -> str:
    with pytest.raises(StoreError) as refused:
        EventLog(path, read_only=read_only)
    message = str(refused.value)
    assert "\n" not in message and str(path) in message
    return message


def test_a_missing_store_is_new(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "state.db"
    EventLog(path).close()
    assert path.stat().st_size > 0
    assert EventLog(path, read_only=True).count() == 0


def test_an_emptied_store_is_refused_and_left_as_it_is(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    _store(path)
    (tmp_path / "sessions").mkdir()
    path.write_bytes(b"")
    for read_only in (False, True):
        message = _refusal(path, read_only=read_only)
        assert "is empty but a store was here (sessions/ exists)" in message
        assert message.endswith("restore it from backup or move it away to start over")
    assert path.stat().st_size == 0
    assert sorted(item.name for item in tmp_path.iterdir()) == ["sessions", "state.db"]
    with pytest.raises(StoreError):
        StateStore(EventLog(path))


def test_an_emptied_store_names_the_wal_a_killed_writer_left(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    writer = (
        "import os, sys; from waterspider_tui.store.event_log import EventLog; from waterspider_tui.core import events as ev;"
        "log = EventLog(sys.argv[1]); log.append([ev.Warned(ts=1.0, message='kept in the wal')]); print('up', flush=True);"
        "import time; time.sleep(60)"
    )
    process = subprocess.Popen([sys.executable, "-c", writer, str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None and process.stdout.readline() == "up\n"
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    os.truncate(path, 0)
    message = _refusal(path)
    assert "is empty but a store was here (state.db-wal, state.db-shm exist)" in message


def test_an_empty_file_with_nothing_beside_it_is_refused_too(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    path.touch()
    assert "is empty but a store was here (a new store is never an empty file)" in _refusal(path)


def test_a_new_store_never_leaves_an_empty_file_at_its_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "state.db"
    seen_sizes: list[int] = []
    connect = sqlite3.connect

    def watching(database: object, *args: object, **kwargs: object) -> sqlite3.Connection:
        if str(database) in (str(path), f"file:{path}?mode=ro"):
            seen_sizes.append(path.stat().st_size if path.exists() else -1)
        return connect(database, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(sqlite3, "connect", watching)
    log = EventLog(path)
    assert seen_sizes and all(size > 0 for size in seen_sizes), "the store's own path is opened only once it holds a store"
    assert sorted(item.name for item in tmp_path.iterdir() if not item.name.startswith("state.db-")) == ["state.db"]
    log.close()


def test_a_writer_killed_right_after_creating_the_store_leaves_a_usable_one(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    create = "import os, sys; from waterspider_tui.store.event_log import EventLog; EventLog(sys.argv[1]); os.kill(os.getpid(), 9)"
    assert subprocess.run([sys.executable, "-c", create, str(path)]).returncode == -9
    assert path.stat().st_size > 0
    log = EventLog(path)
    assert log.append([ev.Warned(ts=T0, message="first")])[0].seq == 1
    log.close()


def test_a_database_without_tables_left_by_an_older_version_becomes_a_store(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    with sqlite3.connect(path) as db:  # an older version connected and set WAL, then stopped
        db.execute("PRAGMA journal_mode=WAL")
    db.close()
    assert path.stat().st_size > 0
    log = EventLog(path)
    log.append([ev.Warned(ts=T0, message="first")])
    log.close()
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone() == (str(SCHEMA_VERSION),)
    db.close()


def test_garbage_is_not_a_store(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    garbage = os.urandom(8192)
    path.write_bytes(garbage)
    for read_only in (False, True):
        assert _refusal(path, read_only=read_only) == f"{path} is not a waterspider store (file is not a database)"
    assert path.read_bytes() == garbage


def test_a_truncated_store_is_damaged(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    _store(path, count=500)
    os.truncate(path, path.stat().st_size // 2)
    for read_only in (False, True):
        message = _refusal(path, read_only=read_only)
        assert message.startswith(f"{path} is damaged (database disk image is malformed)")
        assert message.endswith("restore it from backup or move it away to start over")


def test_a_store_damaged_in_the_middle_is_refused_when_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    _store(path, count=500)
    with open(path, "r+b") as handle:
        handle.seek(path.stat().st_size // 2)
        handle.write(b"\xff" * 8192)
    with pytest.raises(StoreError, match="is damaged"):
        StateStore(EventLog(path))


def test_another_programs_database_is_not_a_store_and_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    with sqlite3.connect(path) as other:
        other.execute("CREATE TABLE photos (name TEXT)")
    other.close()
    for read_only in (False, True):
        assert _refusal(path, read_only=read_only) == f"{path} is not a waterspider store (an SQLite database without its tables)"
    with sqlite3.connect(path) as other:
        assert [name for (name,) in other.execute("SELECT name FROM sqlite_master")] == ["photos"]
    other.close()


def test_a_store_of_a_newer_schema_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    _store(path, count=1)
    with sqlite3.connect(path) as db:
        db.execute("UPDATE meta SET value=? WHERE key='schema_version'", (str(SCHEMA_VERSION + 4),))
        db.execute("DROP INDEX events_issue")  # say the newer schema has no such index
    db.close()
    for read_only in (False, True):
        assert _refusal(path, read_only=read_only) == (
            f"{path} was written by a newer waterspider (schema version {SCHEMA_VERSION + 4}, this one reads up to {SCHEMA_VERSION}): upgrade waterspider"
        )
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT name FROM sqlite_master WHERE name='events_issue'").fetchone() is None
    db.close()


def test_a_missing_store_cannot_be_opened_to_read_and_is_not_made(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    assert _refusal(path, read_only=True) == f"{path}: no store here (nothing has run with it yet)"
    assert not path.exists()


def _open_unprivileged(path: Path, *, read_only: bool = False) -> str:
    """Open the store in a child process that file permissions apply to; its StoreError line, or 'opened'.

    As root the child runs without the capabilities that override file permissions.
    """
    code = (
        "import sys; from waterspider_tui.store.event_log import EventLog, StoreError\n"
        "try:\n    EventLog(sys.argv[1], read_only=sys.argv[2] == 'ro').close(); print('opened')\n"
        "except StoreError as error:\n    print(error)\n"
    )
    argv = [sys.executable, "-c", code, str(path), "ro" if read_only else "rw"]
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("running as root without setpriv: file permissions do not apply")
        argv = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", *argv]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_a_read_only_store_file_cannot_be_written(tmp_path: Path) -> None:
    folder = tmp_path / "state"
    folder.mkdir()
    path = folder / "state.db"
    _store(path)
    folder.chmod(0o777)
    path.chmod(0o444)
    assert _open_unprivileged(path) == f"{path} cannot be written: read-only file: make it writable or choose another store path"
    assert _open_unprivileged(path, read_only=True) == "opened"


def test_a_store_in_a_read_only_folder_cannot_be_written(tmp_path: Path) -> None:
    folder = tmp_path / "state"
    folder.mkdir()
    path = folder / "state.db"
    _store(path)
    path.chmod(0o666)
    folder.chmod(0o555)
    expected = (
        f"{path} cannot be written: read-only folder {folder} (SQLite keeps state.db-wal and state.db-shm beside the store):"
        " make it writable or choose another store path"
    )
    assert _open_unprivileged(path) == expected
    assert _open_unprivileged(path, read_only=True).startswith(f"{path} cannot be read: ")


def test_a_new_store_in_a_read_only_folder_cannot_be_made(tmp_path: Path) -> None:
    folder = tmp_path / "state"
    folder.mkdir()
    folder.chmod(0o555)
    path = folder / "state.db"
    assert _open_unprivileged(path).startswith(f"{path} cannot be written: read-only folder {folder}")
    assert _open_unprivileged(folder / "deeper" / "state.db").startswith(f"{folder / 'deeper' / 'state.db'} cannot be created: ")
    assert list(folder.iterdir()) == []
