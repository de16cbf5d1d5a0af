"""The local issue folder: front matter fields, file-name numbers, and one clear error per bad file."""

from __future__ import annotations

import asyncio
import os
from datetime import datetime, timezone
from pathlib import Path

import pytest

from waterspider_tui.adapters.local_issues import IssueFileError, LocalIssueSource, parse_issue_file
from waterspider_tui.adapters.source_base import PollResult


def poll(folder: Path, repo: str = "local") -> PollResult:
    return asyncio.run(LocalIssueSource(folder, repo).poll())


def write(folder: Path, name: str, text: str | bytes) -> Path:
    path = folder / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def utc(*parts: int) -> float:
    return datetime(*parts, tzinfo=timezone.utc).timestamp()


FULL = """\
---
number: 12
title: "  Fix the login crash  "
labels: [P1-High, "estimate:90m", bug]
milestone: v1.0
depends_on: [7, "#9", "owner/repo#5"]
estimate: 1h30m
created: 2026-11-20T09:00:00Z
state: open
assignees: [ada, grace]
---

The body. Depends on #3.

Second paragraph.
"""


def test_every_front_matter_field(tmp_path: Path) -> None:
    path = write(tmp_path, "099-whatever.md", FULL)
    issue = parse_issue_file(path, "o/r")
    assert issue.repo == "o/r"
    assert issue.number == 12, "front matter number wins over the file name"
    assert issue.key == "o/r#12"
    assert issue.title == "Fix the login crash"
    assert issue.labels == ("P1-High", "estimate:90m", "bug")
    assert issue.milestone == "v1.0"
    assert issue.depends_on == ("o/r#7", "o/r#9", "owner/repo#5")
    assert issue.estimate_min == 90.0
    assert issue.created == utc(2026, 11, 20, 9, 0)
    assert issue.closed is False
    assert issue.assignees == ("ada", "grace")
    assert issue.body == "The body. Depends on #3.\n\nSecond paragraph."
    assert issue.source_path == str(path)
    assert issue.url == path.resolve().as_uri()


def test_minimal_file_takes_the_number_from_the_file_name(tmp_path: Path) -> None:
    path = write(tmp_path, "012-login.md", "---\ntitle: Login\n---\nBody\n")
    os.utime(path, (1_700_000_000, 1_700_000_000))
    issue = parse_issue_file(path)
    assert (issue.repo, issue.number, issue.title, issue.body) == ("local", 12, "Login", "Body")
    assert (issue.labels, issue.milestone, issue.depends_on, issue.estimate_min, issue.assignees) == ((), None, (), None, ())
    assert issue.created == 1_700_000_000, "no 'created': the file's modification time"
    assert issue.closed is False
    assert parse_issue_file(write(tmp_path, "7.md", "---\ntitle: Seven\n---\n")).number == 7


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-20T09:00:00Z", utc(2026, 11, 20, 9)),
        ("2026-11-20T11:00:00+02:00", utc(2026, 11, 20, 9)),
        ('"2026-11-20T09:00:00Z"', utc(2026, 11, 20, 9)),
        ("2026-11-20 09:00:00", utc(2026, 11, 20, 9)),
        ("2026-11-20", utc(2026, 11, 20)),
    ],
)
def test_created_forms(tmp_path: Path, value: str, expected: float) -> None:
    path = write(tmp_path, "1.md", f"---\ntitle: t\ncreated: {value}\n---\n")
    assert parse_issue_file(path).created == expected


@pytest.mark.parametrize(("value", "minutes"), [("90m", 90), ("2h", 120), ("1h30m", 90), ("90", 90), ("1.5h", 90)])
def test_estimate_forms(tmp_path: Path, value: str, minutes: float) -> None:
    path = write(tmp_path, "1.md", f"---\ntitle: t\nestimate: {value}\n---\n")
    assert parse_issue_file(path).estimate_min == minutes


def test_single_values_are_lists_of_one(tmp_path: Path) -> None:
    path = write(tmp_path, "1.md", "---\ntitle: t\nlabels: P0\ndepends_on: 4\nassignees: ada\nmilestone: 2.0\n---\n")
    issue = parse_issue_file(path)
    assert (issue.labels, issue.depends_on, issue.assignees, issue.milestone) == (("P0",), ("local#4",), ("ada",), "2.0")


@pytest.mark.parametrize("state", ["closed", "Closed", "CLOSED"])
def test_closed_state(tmp_path: Path, state: str) -> None:
    assert parse_issue_file(write(tmp_path, "3.md", f"---\ntitle: t\nstate: {state}\n---\n")).closed is True


def test_crlf_line_endings_and_a_byte_order_mark(tmp_path: Path) -> None:
    path = write(tmp_path, "4.md", b"\xef\xbb\xbf---\r\ntitle: Windows\r\nlabels: [P2]\r\n---\r\nBody line\r\n")
    issue = parse_issue_file(path)
    assert (issue.number, issue.title, issue.labels, issue.body) == (4, "Windows", ("P2",), "Body line")


def test_poll_reads_the_folder_in_order_and_skips_readme_and_other_files(tmp_path: Path) -> None:
    write(tmp_path, "010-b.md", "---\ntitle: B\n---\n")
    write(tmp_path, "002-a.md", "---\ntitle: A\nstate: closed\n---\n")
    write(tmp_path, "README.md", "# How to write issues\n")
    write(tmp_path, "notes.txt", "---\ntitle: not an issue\n---\n")
    result = poll(tmp_path, "o/r")
    assert result.ok and result.rejected == []
    assert [(issue.key, issue.title, issue.closed) for issue in result.issues] == [("o/r#2", "A", True), ("o/r#10", "B", False)]


def test_missing_folder_is_a_failed_poll(tmp_path: Path) -> None:
    result = poll(tmp_path / "nope")
    assert result.ok is False
    assert result.message == f"issue folder {tmp_path / 'nope'} does not exist"
    assert result.issues == []


GOOD_FILES = {"001-good.md": "---\ntitle: Good one\n---\n", "002-good.md": "---\ntitle: Good two\ndepends_on: [1]\n---\n"}

BAD_FILES: list[tuple[str, str | bytes, str]] = [
    ("050-plain.md", "# Just a heading\n\nNo front matter here.\n", "no YAML front matter"),
    ("051-unclosed.md", "---\ntitle: never closed\n", "no YAML front matter"),
    ("052-yaml.md", "---\ntitle: ok\nlabels: [unclosed\n---\n", "front matter is not valid YAML at line 3"),
    ("053-yaml-indent.md", "---\ntitle: ok\n  bad: indent\n---\n", "front matter is not valid YAML at line 3"),
    ("054-list.md", "---\n- a\n- b\n---\n", "front matter must be a mapping"),
    ("055-no-title.md", "---\nlabels: [P1]\n---\nBody\n", "'title' is missing or empty"),
    ("056-empty-title.md", "---\ntitle: '  '\n---\n", "'title' is missing or empty"),
    ("057-estimate.md", "---\ntitle: t\nestimate: soon\n---\n", "'estimate' must look like 90m, 2h or 1h30m, got 'soon'"),
    ("058-created.md", "---\ntitle: t\ncreated: yesterday\n---\n", "'created' is not an ISO 8601 time: 'yesterday'"),
    ("059-created-date.md", "---\ntitle: t\ncreated: 2026-13-45\n---\n", "impossible value: month must be in 1..12"),
    ("060-created-number.md", "---\ntitle: t\ncreated: 12345\n---\n", "'created' is not an ISO 8601 time: 12345"),
    ("061-unknown.md", "---\ntitle: t\npriority: high\nowner: me\n---\n", "unknown front matter key(s) owner, priority"),
    ("062-deps.md", "---\ntitle: t\ndepends_on: [7, abc]\n---\n", "'depends_on' entry 'abc' is not an issue number or owner/repo#N"),
    ("063-deps-map.md", "---\ntitle: t\ndepends_on: {a: 1}\n---\n", "'depends_on' must be a list of strings"),
    ("064-labels.md", "---\ntitle: t\nlabels: [[nested]]\n---\n", "'labels' must be a list of strings"),
    ("065-latin1.md", b"---\ntitle: caf\xe9\n---\n", "not UTF-8 text"),
    ("066-state.md", "---\ntitle: t\nstate: done\n---\n", "'state' must be open or closed, got 'done'"),
    ("067-number.md", "---\ntitle: t\nnumber: -3\n---\n", "'number' must be a positive whole number, got -3"),
    ("068-number-text.md", "---\ntitle: t\nnumber: twelve\n---\n", "'number' must be a positive whole number"),
    ("no-digits.md", "---\ntitle: t\n---\n", "no 'number' in the front matter and the file name does not start with digits"),
]


@pytest.mark.parametrize(("name", "text", "problem"), BAD_FILES, ids=[case[0] for case in BAD_FILES])
def test_a_malformed_file_gives_one_clear_error_and_the_rest_is_read(tmp_path: Path, name: str, text: str | bytes, problem: str) -> None:
    for good_name, good_text in GOOD_FILES.items():
        write(tmp_path, good_name, good_text)
    bad = write(tmp_path, name, text)
    result = poll(tmp_path)
    assert result.ok
    assert [issue.number for issue in result.issues] == [1, 2]
    assert len(result.rejected) == 1
    rejection = result.rejected[0]
    assert rejection.path == str(bad)
    assert rejection.error.startswith(f"{name}: ")
    assert problem in rejection.error
    assert "\n" not in rejection.error
    with pytest.raises(IssueFileError):
        parse_issue_file(bad)


def test_duplicate_number_keeps_the_first_file_and_names_both(tmp_path: Path) -> None:
    write(tmp_path, "005-first.md", "---\ntitle: First\n---\n")
    second = write(tmp_path, "005-second.md", "---\ntitle: Second\n---\n")
    third = write(tmp_path, "900-third.md", "---\ntitle: Third\nnumber: 5\n---\n")
    write(tmp_path, "006-other.md", "---\ntitle: Other\n---\n")
    result = poll(tmp_path)
    assert [(issue.number, issue.title) for issue in result.issues] == [(5, "First"), (6, "Other")]
    assert [(r.path, r.error) for r in result.rejected] == [
        (str(second), "005-second.md: number 5 is already used by 005-first.md"),
        (str(third), "900-third.md: number 5 is already used by 005-first.md"),
    ]


def test_many_bad_files_each_get_their_own_error(tmp_path: Path) -> None:
    for good_name, good_text in GOOD_FILES.items():
        write(tmp_path, good_name, good_text)
    for name, text, _ in BAD_FILES:
        write(tmp_path, name, text)
    result = poll(tmp_path)
    assert [issue.number for issue in result.issues] == [1, 2]
    assert sorted(Path(r.path).name for r in result.rejected) == sorted(case[0] for case in BAD_FILES)
    for rejection in result.rejected:
        assert rejection.error.startswith(Path(rejection.path).name + ": ")


def test_an_unreadable_entry_is_skipped(tmp_path: Path) -> None:
    write(tmp_path, "001-good.md", GOOD_FILES["001-good.md"])
    (tmp_path / "002-folder.md").mkdir()
    result = poll(tmp_path)
    assert [issue.number for issue in result.issues] == [1]
    assert len(result.rejected) == 1 and result.rejected[0].error.startswith("002-folder.md: ")


def test_a_file_that_breaks_keeps_its_issue_and_is_never_read_as_closed(tmp_path: Path) -> None:
    from waterspider_tui.core import events as ev
    from waterspider_tui.core.state import Snapshot, apply
    from waterspider_tui.engine.collector import poll_events

    source = LocalIssueSource(tmp_path)
    write(tmp_path, "blocker.md", "---\nnumber: 7\ntitle: Blocker\n---\n")
    write(tmp_path, "dependant.md", "---\nnumber: 8\ntitle: Dependant\ndepends_on: [7]\n---\n")
    first = asyncio.run(source.poll())
    snapshot = Snapshot()
    for event in poll_events(snapshot, source.repos, first, 1.0):
        snapshot = apply(snapshot, event)
    write(tmp_path, "blocker.md", "---\nnumber: 7\ntitle: [broken\n---\n")
    broken = asyncio.run(source.poll())
    [rejection] = broken.rejected
    assert rejection.issue_key == "local#7", "the number the file held, though its name has none"
    events = poll_events(snapshot, source.repos, broken, 2.0)
    assert not [event for event in events if isinstance(event, ev.IssueGone)]
    assert [event.issue for event in events if isinstance(event, ev.IssueRejected)] == ["local#7"]
    assert not [event for event in events if isinstance(event, ev.IssueSeen)], "the engine keeps #7 as it was: its dependant is unchanged"


def test_an_issue_known_only_by_its_file_name_is_waited_for(tmp_path: Path) -> None:
    write(tmp_path, "001-blocker.md", "---\ntitle: [broken\n---\n")
    write(tmp_path, "002.md", "---\ntitle: Needs one\ndepends_on: [1]\n---\n")
    write(tmp_path, "003.md", "---\ntitle: Refers in its body\n---\nBlocked by #1.\n")
    write(tmp_path, "004.md", "---\ntitle: Unrelated\ndepends_on: [9]\n---\n")
    result = poll(tmp_path)
    assert [rejection.issue_key for rejection in result.rejected] == ["local#1"]
    waits = {issue.number: issue.external_open for issue in result.issues}
    assert waits == {2: ("local#1",), 3: ("local#1",), 4: ()}
    write(tmp_path, "001-blocker.md", "---\ntitle: Fixed\n---\n")
    assert all(issue.external_open == () for issue in poll(tmp_path).issues), "once read, it is an issue like any"


def test_after_a_restart_a_broken_file_of_an_issue_the_store_knows_changes_no_dependant(tmp_path: Path) -> None:
    blocker = write(tmp_path, "blocker.md", "---\nnumber: 7\ntitle: [broken\n---\n")
    write(tmp_path, "dependant.md", "---\nnumber: 8\ntitle: Dependant\ndepends_on: [7]\n---\n")
    result = asyncio.run(LocalIssueSource(tmp_path, holders={7: str(blocker)}).poll())
    assert [rejection.issue_key for rejection in result.rejected] == ["local#7"]
    assert [issue.external_open for issue in result.issues] == [()], "the store keeps #7; #8 waits on it there"
