"""Hostile issue files: each gets an answer (refused with one line, or read cleanly), never a hang."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from waterspider_tui.adapters.local_issues import LocalIssueSource, parse_issue_file
from waterspider_tui.adapters.source_base import PollResult


def poll(source: LocalIssueSource) -> PollResult:
    return asyncio.run(source.poll())


def write(folder: Path, name: str, text: str, mtime: float | None = None) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def anchor_bomb(levels: int = 9) -> str:
    """About 500 bytes of YAML that expand to 9**9 strings ("billion laughs")."""
    items = ['  - &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    items += [f"  - &a{level} [{','.join([f'*a{level - 1}'] * 9)}]" for level in range(1, levels)]
    return "---\ntitle: Laughs\nlabels:\n" + "\n".join(items) + "\n---\nbody\n"


POLL_IN_A_CHILD = """
import asyncio, resource, sys, time
resource.setrlimit(resource.RLIMIT_AS, (1_500_000_000, 1_500_000_000))
from waterspider_tui.adapters.local_issues import LocalIssueSource
started = time.monotonic()
result = asyncio.run(LocalIssueSource(sys.argv[1]).poll())
print(round(time.monotonic() - started, 3))
print([issue.number for issue in result.issues])
for rejection in result.rejected:
    print(rejection.error)
"""


def test_a_yaml_anchor_bomb_is_refused_at_once_and_the_rest_is_read(tmp_path: Path) -> None:
    write(tmp_path, "001-good.md", "---\ntitle: Good\n---\n")
    write(tmp_path, "002-bomb.md", anchor_bomb())
    write(tmp_path, "003-good.md", "---\ntitle: Also good\n---\n")
    # In a child with a memory cap: a regression must fail this test, not take the machine down.
    done = subprocess.run([sys.executable, "-c", POLL_IN_A_CHILD, str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    seconds, numbers, *errors = done.stdout.splitlines()
    assert float(seconds) < 2
    assert numbers == "[1, 3]"
    assert errors == ["002-bomb.md: front matter uses a YAML alias (*a0); issue files must spell every value out"]


def test_one_alias_is_refused_too(tmp_path: Path) -> None:
    write(tmp_path, "001-alias.md", "---\ntitle: &t Same\nmilestone: *t\n---\n")
    result = poll(LocalIssueSource(tmp_path))
    assert result.issues == []
    assert [rejection.error for rejection in result.rejected] == [
        "001-alias.md: front matter uses a YAML alias (*t); issue files must spell every value out"
    ]


def test_front_matter_over_64_kb_is_refused_and_a_big_body_is_not(tmp_path: Path) -> None:
    write(tmp_path, "001-huge-meta.md", "---\ntitle: t\nlabels: [" + ", ".join(["label"] * 20_000) + "]\n---\n")
    write(tmp_path, "002-big-body.md", "---\ntitle: Big body\n---\n" + "word " * 400_000)
    result = poll(LocalIssueSource(tmp_path))
    assert [issue.number for issue in result.issues] == [2]
    assert len(result.issues[0].body) == 2_000_000
    [rejection] = result.rejected
    assert rejection.error.startswith("001-huge-meta.md: front matter is ")
    assert rejection.error.endswith("KB; the most an issue file may have is 64 KB")


def test_deeply_nested_front_matter_is_refused_not_a_crash(tmp_path: Path) -> None:
    write(tmp_path, "001-deep.md", "---\ntitle: t\nlabels: " + "[" * 20_000 + "]" * 20_000 + "\n---\n")
    write(tmp_path, "002-good.md", "---\ntitle: Good\n---\n")
    result = poll(LocalIssueSource(tmp_path))
    assert [issue.number for issue in result.issues] == [2]
    assert [rejection.error for rejection in result.rejected] == ["001-deep.md: front matter is nested too deeply"]


def test_a_long_error_value_is_shortened(tmp_path: Path) -> None:
    write(tmp_path, "001-long.md", "---\ntitle: t\nstate: " + "x" * 5000 + "\n---\n")
    [rejection] = poll(LocalIssueSource(tmp_path)).rejected
    assert len(rejection.error) < 200 and "…" in rejection.error


def test_an_escaped_surrogate_pair_is_its_character_and_a_lone_half_is_replaced(tmp_path: Path) -> None:
    path = write(tmp_path, "001-rocket.md", '---\ntitle: "rocket \\ud83d\\ude80"\nlabels: ["half \\ud83d"]\n---\n')
    issue = parse_issue_file(path)
    assert issue.title == "rocket 🚀"
    assert issue.labels == ("half \ufffd",)


def test_terminal_escapes_and_controls_never_reach_the_issue(tmp_path: Path) -> None:
    path = write(
        tmp_path, "001-escapes.md",
        '---\ntitle: "\\e]0;pwned\\aFix \\e[2Jthe login"\nlabels: ["P1\\e[31m", "bug\\u202e"]\n'
        'milestone: "v1\\x9b2J"\nassignees: ["ada\\e]8;;http://x\\a"]\n---\n'
        "Body \x1b[31mred\x1b[0m\n\tkept\r\nline\x07\n",
    )  # fmt: skip
    issue = parse_issue_file(path)
    assert issue.title == "Fix the login"
    assert issue.labels == ("P1", "bug")
    assert issue.milestone == "v1"
    assert issue.assignees == ("ada",)
    assert issue.body == "Body red\n\tkept\nline"


def test_an_escape_in_a_file_name_stays_out_of_the_message(tmp_path: Path) -> None:
    write(tmp_path, "001-\x1b]0;pwned\x07.md", "---\nlabels: [x]\n---\n")
    [rejection] = poll(LocalIssueSource(tmp_path)).rejected
    assert "\x1b" not in rejection.error and "\x07" not in rejection.error and "\x1b" not in rejection.path
    assert rejection.error == "001-.md: 'title' is missing or empty"


def test_a_dependency_on_itself_is_dropped_with_a_warning(tmp_path: Path) -> None:
    write(tmp_path, "012-self.md", "---\ntitle: Self\ndepends_on: [12, 3]\n---\n")
    write(tmp_path, "013-body.md", "---\ntitle: Body\n---\nThis depends on #13.\n")
    write(tmp_path, "014-fine.md", "---\ntitle: Fine\ndepends_on: [12]\n---\nBlocked by #13.\n")
    result = poll(LocalIssueSource(tmp_path, "o/r"))
    assert [(issue.number, issue.depends_on) for issue in result.issues] == [(12, ("o/r#3",)), (13, ()), (14, ("o/r#12",))]
    assert result.rejected == []
    assert result.warnings == [
        "012-self.md: issue #12 depends on itself; that dependency is ignored",
        "013-body.md: issue #13 depends on itself; that dependency is ignored",
    ]


def test_a_new_file_cannot_take_the_number_of_an_existing_issue(tmp_path: Path) -> None:
    source = LocalIssueSource(tmp_path)
    original = write(tmp_path, "012-login.md", "---\ntitle: Fix login\n---\n")
    first = poll(source)
    assert [(issue.number, issue.source_path) for issue in first.issues] == [(12, str(original))]

    # Sorts first by name and is older by mtime: neither lets it take #12 from the file that held it.
    newcomer = write(tmp_path, "001-new.md", "---\nnumber: 12\ntitle: Something else\n---\n", mtime=time.time() - 3600)
    second = poll(source)
    assert [(issue.number, issue.title) for issue in second.issues] == [(12, "Fix login")]
    assert [(r.path, r.error) for r in second.rejected] == [(str(newcomer), "001-new.md: number 12 is already used by 012-login.md")]

    # The holder leaves the number: it passes to the file still claiming it.
    original.write_text("---\nnumber: 13\ntitle: Fix login\n---\n")
    third = poll(source)
    assert [(issue.number, issue.title) for issue in third.issues] == [(12, "Something else"), (13, "Fix login")]
    assert third.rejected == []


def test_while_the_holder_cannot_be_read_its_number_stays_reserved(tmp_path: Path) -> None:
    source = LocalIssueSource(tmp_path)
    original = write(tmp_path, "012-login.md", "---\ntitle: Fix login\n---\n")
    poll(source)
    original.write_text("---\ntitle: [half edited\n---\n")
    write(tmp_path, "500-new.md", "---\nnumber: 12\ntitle: Something else\n---\n")
    result = poll(source)
    assert result.issues == []
    assert sorted(r.error.split(":")[0] for r in result.rejected) == ["012-login.md", "500-new.md"]
    assert "500-new.md: number 12 is already used by 012-login.md" in [r.error for r in result.rejected]
    original.unlink()
    assert [issue.title for issue in poll(source).issues] == ["Something else"]


@pytest.mark.parametrize("older", ["b-first.md", "a-second.md"])
def test_on_the_first_poll_the_older_file_keeps_a_shared_number(tmp_path: Path, older: str) -> None:
    now = time.time()
    for name in ("a-second.md", "b-first.md"):
        write(tmp_path, name, f"---\nnumber: 7\ntitle: {name}\n---\n", mtime=now - 100 if name == older else now)
    result = poll(LocalIssueSource(tmp_path))
    assert [issue.title for issue in result.issues] == [older]
    same_time = tmp_path / "same"
    same_time.mkdir()
    for name in ("b.md", "a.md"):
        write(same_time, name, f"---\nnumber: 7\ntitle: {name}\n---\n", mtime=now)
    assert [issue.title for issue in poll(LocalIssueSource(same_time)).issues] == ["a.md"], "same mtime: by name"


def test_known_holders_can_be_handed_to_a_new_source(tmp_path: Path) -> None:
    """After a restart, the engine tells the source which file held each number before."""
    original = write(tmp_path, "012-login.md", "---\ntitle: Fix login\n---\n", mtime=time.time())
    write(tmp_path, "001-new.md", "---\nnumber: 12\ntitle: Something else\n---\n", mtime=time.time() - 3600)
    result = poll(LocalIssueSource(tmp_path, holders={12: str(original)}))
    assert [issue.title for issue in result.issues] == ["Fix login"]


def test_a_link_out_of_the_folder_is_refused_with_one_line_and_not_read(tmp_path: Path) -> None:
    folder = tmp_path / "issues"
    folder.mkdir()
    secret = tmp_path / "secret.md"
    secret.write_text("---\ntitle: Private key\n---\nBEGIN PRIVATE KEY\n")
    (folder / "001-out.md").symlink_to(secret)
    write(folder, "002-real.md", "---\ntitle: Real\n---\nbody\n")
    (folder / "003-alias.md").symlink_to(folder / "002-real.md")  # a link inside the folder reads as its target
    result = poll(LocalIssueSource(folder))
    assert [rejection.error for rejection in result.rejected] == [
        f"001-out.md: a symbolic link to {secret}, outside the issue folder: not read",
    ]
    assert [(issue.number, issue.title) for issue in result.issues] == [(2, "Real"), (3, "Real")]
    assert all("PRIVATE" not in issue.body for issue in result.issues)
