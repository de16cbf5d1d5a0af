"""An issue file's title that YAML read as something other than text is named as such, not as missing."""

from __future__ import annotations

from pathlib import Path

import pytest

from waterspider_tui.adapters.local_issues import IssueFileError, parse_issue_file


@pytest.mark.parametrize(("value", "shown"), [("true", "true"), ("no", "false"), ("[a, b]", "['a', 'b']"), ("{a: 1}", "{'a': 1}")])
def test_a_title_that_is_not_text_says_so_and_how_to_quote_it(tmp_path: Path, value: str, shown: str) -> None:
    path = tmp_path / "001.md"
    path.write_text(f"---\ntitle: {value}\n---\nbody\n", encoding="utf-8")
    with pytest.raises(IssueFileError) as raised:
        parse_issue_file(path)
    message = str(raised.value)
    assert "missing" not in message
    assert message.startswith(f"'title' must be text, got {shown}") and "quote" in message


@pytest.mark.parametrize(("value", "title"), [("2024", "2024"), ("3.5", "3.5"), ("'true'", "true")])
def test_a_number_or_quoted_word_is_a_title(tmp_path: Path, value: str, title: str) -> None:
    path = tmp_path / "001.md"
    path.write_text(f"---\ntitle: {value}\n---\nbody\n", encoding="utf-8")
    assert parse_issue_file(path).title == title
