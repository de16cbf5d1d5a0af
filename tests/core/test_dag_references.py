"""Dependency references parsed from issue bodies."""

from __future__ import annotations

import pytest

from waterspider_tui.core.dag import parse_references

REPO = "o/r"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("depends on #12", ("o/r#12",)),
        ("Blocked by #7.", ("o/r#7",)),
        ("Do this after #3 lands.", ("o/r#3",)),
        ("requires owner/repo#5", ("owner/repo#5",)),
        ("Needs #9", ("o/r#9",)),
        ("waits on #10", ("o/r#10",)),
        ("Waits for #11", ("o/r#11",)),
        ("Depends on: #13", ("o/r#13",)),
        ("dependent on #14", ("o/r#14",)),
        ("- [ ] #4", ("o/r#4",)),
        ("- [x] #6", ("o/r#6",)),
        ("* [X] other/repo#8", ("other/repo#8",)),
        ("  + [ ] #15 the login page", ("o/r#15",)),
        ("depends on https://github.com/owner/repo/issues/77", ("owner/repo#77",)),
        ("- [ ] https://github.example.com/a/b/issues/3", ("a/b#3",)),
    ],
)
def test_each_reference_form(body: str, expected: tuple[str, ...]) -> None:
    assert parse_references(body, REPO) == expected


@pytest.mark.parametrize(
    "body",
    ["DEPENDS ON #12", "Depends On #12", "dEpEnDs oN #12", "BLOCKED BY #12", "AFTER #12", "Requires #12"],
)
def test_keywords_are_case_insensitive(body: str) -> None:
    assert parse_references(body, REPO) == ("o/r#12",)


@pytest.mark.parametrize(
    "body",
    [
        "Depends on #1, #2 and #3",
        "depends on #1,#2,#3",
        "blocked by #1 & #2 + #3",
        "requires #1, #2, and #3",
        "depends on #1, #2, & #3",
    ],
)
def test_lists_after_one_keyword(body: str) -> None:
    assert parse_references(body, REPO) == ("o/r#1", "o/r#2", "o/r#3")


def test_mixed_list_of_repos_and_urls() -> None:
    body = "depends on #1, a/b#2 and https://github.com/c/d/issues/3"
    assert parse_references(body, REPO) == ("o/r#1", "a/b#2", "c/d#3")


def test_references_in_fenced_code_are_ignored() -> None:
    body = "\n".join([
        "Real: depends on #1",
        "```markdown",
        "depends on #2",
        "- [ ] #3",
        "```",
        "~~~",
        "blocked by #4",
        "~~~",
        "and after #5",
    ])
    assert parse_references(body, REPO) == ("o/r#1", "o/r#5")


def test_references_in_inline_code_and_quotes_are_ignored() -> None:
    body = "\n".join([
        "Write `depends on #2` in your issue to make it wait.",
        "> blocked by #3",
        "   > - [ ] #4",
        "blocked by #5",
    ])
    assert parse_references(body, REPO) == ("o/r#5",)


@pytest.mark.parametrize(
    "body",
    [
        "See #50 for context.",
        "Fixes #5",
        "Closes o/r#6",
        "text - [ ] #4 in the middle of a line",
        "depends on the fix in #12",
        "#12",
        "",
    ],
)
def test_mentions_that_are_not_dependencies(body: str) -> None:
    assert parse_references(body, REPO) == ()


def test_duplicates_are_kept_once_in_first_seen_order() -> None:
    body = "depends on #3 and #1\n- [ ] #3\nblocked by #1, #2"
    assert parse_references(body, REPO) == ("o/r#3", "o/r#1", "o/r#2")


def test_references_across_many_lines() -> None:
    body = "Intro.\n\nBlocked by #7\n\n## Tasks\n- [x] #8\n- [ ] #9\n\nAfter owner/repo#5."
    assert parse_references(body, REPO) == ("o/r#7", "o/r#8", "o/r#9", "owner/repo#5")
