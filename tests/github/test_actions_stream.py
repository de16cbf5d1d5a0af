"""The stream-json's way through a job log: echoed with a prefix, read back in pieces, continued by the artifact."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path
from types import SimpleNamespace

from waterspider_tui.adapters.executors.actions_stream import (
    STREAM_PREFIX, StreamLog, StreamTee, merge, step_failure, stream_lines, write_record,
)

STAMP = "2026-12-06T06:38:24.1234567Z "


def test_stream_lines_skip_the_bom_the_timestamps_and_everything_else() -> None:
    log = (f"\ufeff{STAMP}Run waterspider exec-issue\n{STAMP}{STREAM_PREFIX}{{\"type\": \"system\"}}\r\n"
           f"{STAMP}[tool] Read README.md\n{STAMP}  {STREAM_PREFIX}indented is not ours\n{STREAM_PREFIX}{{\"b\": 1}}\n").encode()
    assert stream_lines(log) == [b'{"type": "system"}\n', b'{"b": 1}\n']


def test_a_log_read_in_pieces_hands_on_only_complete_lines() -> None:
    whole = f"\ufeff{STAMP}{STREAM_PREFIX}{{\"n\": 1}}\n{STAMP}{STREAM_PREFIX}{{\"n\": 2}}\n".encode()
    reader = StreamLog()
    got: list[bytes] = []
    for start in range(0, len(whole), 7):  # cut anywhere, even inside the byte-order mark
        got += reader.feed(whole[start:start + 7])
    assert got == [b'{"n": 1}\n', b'{"n": 2}\n'] and reader.offset == len(whole)


def test_merge_continues_what_was_shown() -> None:
    assert merge(b"a\nb\n", b"a\nb\nc\n") == b"a\nb\nc\n"
    assert merge(b"a\nX\n", b"a\nb\nc\n") == b"a\nX\nc\n"  # the log's version stands; nothing is read twice
    assert merge(b"", b"a\n") == b"a\n"


def test_the_tee_writes_each_byte_once_and_echoes_whole_lines() -> None:
    class Source:
        name = "local"
        data = b'{"a": 1}\n{"b": 2}\n{"c"'

        async def read_output(self, session: object, offset: int, limit: int = 1 << 20) -> bytes:
            return self.data[offset: offset + limit]

    sink = io.BytesIO()
    echoed: list[str] = []
    tee = StreamTee(Source(), sink, echoed.append)
    assert tee.name == "local"  # everything else is the executor's own

    session = SimpleNamespace(session_id="s-1")

    async def read() -> None:
        assert await tee.read_output(session, 0, 5) == b'{"a":'
        await tee.read_output(session, 0, 5)  # read again: nothing written twice
        await tee.read_output(session, 5)

    asyncio.run(read())
    tee.finish()
    assert sink.getvalue() == Source.data + b"\n"  # the file ends its last line
    assert echoed == [f'{STREAM_PREFIX}{{"a": 1}}', f'{STREAM_PREFIX}{{"b": 2}}', f'{STREAM_PREFIX}{{"c"']


def test_the_tee_writes_rounds_one_after_another_each_from_its_first_byte() -> None:
    outputs = {"s-1": b'{"round": 1}\n{"cut"', "s-1.2": b'{"round": 2}\n'}

    class Source:
        async def read_output(self, session: SimpleNamespace, offset: int, limit: int = 1 << 20) -> bytes:
            return outputs[session.session_id][offset: offset + limit]

    sink = io.BytesIO()
    echoed: list[str] = []
    tee = StreamTee(Source(), sink, echoed.append)
    first, second = SimpleNamespace(session_id="s-1"), SimpleNamespace(session_id="s-1.2")

    async def read() -> None:
        await tee.read_output(first, 0)
        await tee.read_output(second, 0)
        await tee.read_output(second, 0)  # nothing twice
        await tee.read_output(first, 0)  # an earlier round read again adds nothing

    asyncio.run(read())
    tee.finish()
    assert sink.getvalue() == b'{"round": 1}\n{"cut"\n{"round": 2}\n'
    assert tee.spans == {"s-1": (0, 20), "s-1.2": (20, 33)}, "each round's part of the stream, its closing newline with it"
    assert echoed == [f'{STREAM_PREFIX}{{"round": 1}}', f'{STREAM_PREFIX}{{"cut"', f'{STREAM_PREFIX}{{"round": 2}}']


def test_the_record_names_the_step_that_failed(tmp_path: Path) -> None:
    path = tmp_path / "out" / "session.json"
    write_record(path, "failed", "push_failed", "push: git push origin failed",
                 [{"step": "commits", "ok": True}, {"step": "push", "ok": False}])
    record = json.loads(path.read_text())
    assert record["failed_step"] == "push"
    assert step_failure(record) == ("push_failed", "push: git push origin failed")
    write_record(path, "failed", "max_turns", "the agent ran out of turns", [])
    assert step_failure(json.loads(path.read_text())) == ("", "")  # the agent's own failure is its stream's to say
    assert step_failure(None) == ("", "")


def test_the_log_says_while_a_step_after_the_agent_runs() -> None:
    log = StreamLog()
    assert log.feed(f"{STAMP}{STREAM_PREFIX}{{\"a\": 1}}\n{STAMP}ws-step| commits started\n".encode()) == [b'{"a": 1}\n']
    assert log.in_step == "commits"
    log.feed(f"{STAMP}ws-step| commits ended\n{STAMP}ws-step| gate started\n{STAMP}waterspider: step gate: gate failed\n".encode())
    assert log.in_step == "gate"  # the tests may run a long time, the agent silent
    log.feed(f"{STAMP}ws-step| gate ended\n{STAMP}waterspider: round 2\n{STAMP}{STREAM_PREFIX}{{\"b\": 2}}\n".encode())
    assert log.in_step == ""
    log.feed(f"{STAMP}ws-step| gate st".encode())
    assert log.in_step == ""  # half a line says nothing yet
    log.feed(b"arted\n")
    assert log.in_step == "gate"
