"""Hostile text from issues: no escapes, controls, bidi overrides or lone surrogates get through."""

from __future__ import annotations

import json
import sqlite3

import pytest

from waterspider_tui.core.safe_text import body_text, one_line_text, without_surrogates


def test_an_escaped_surrogate_pair_becomes_its_character_and_a_lone_half_a_replacement() -> None:
    title = "rocket \ud83d\ude80"  # what PyYAML hands over for `"rocket \\ud83d\\ude80"`: two halves
    assert without_surrogates(title) == "rocket 🚀"
    assert without_surrogates(json.loads('"lone \\ud83d"')) == "lone \ufffd"
    assert without_surrogates("a\ud83d b \ude80 c\udcff") == "a\ufffd b \ufffd c\ufffd"
    assert without_surrogates("plain") == "plain"


@pytest.mark.parametrize("clean", [one_line_text, body_text])
def test_the_result_can_always_be_encoded_and_stored(clean) -> None:
    text = clean("x\ud83d\ude80 \ud800 \udfff end")
    text.encode("utf-8")  # raises on any lone surrogate left
    with sqlite3.connect(":memory:") as db:
        db.execute("create table t (v text)")
        db.execute("insert into t values (?)", (text,))
    assert json.loads(json.dumps(text, ensure_ascii=False)) == text


def test_terminal_escapes_go_whole_from_a_title() -> None:
    assert one_line_text("\x1b]0;pwned\x07Fix \x1b[2Jthe login\x1b[0m") == "Fix the login"
    assert one_line_text("a\x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\b") == "alinkb"
    assert one_line_text("\x9b31mred\x9dtitle\x9c!") == "red!"
    assert one_line_text("bell\x07 nul\x00 del\x7f c1\x85x") == "bell nul del c1 x"
    assert one_line_text("two\nlines\tand\r\u2028tabs") == "two lines and  tabs"
    assert one_line_text("admin\u202e\u2066txt.exe\u2069") == "admintxt.exe"
    assert one_line_text("émoji 👍🏽 and 中文 stay") == "émoji 👍🏽 and 中文 stay"
    assert one_line_text("\x1b") == "" and one_line_text("\x1b]unterminated") == ""


def test_a_body_keeps_its_lines_and_tabs_and_loses_the_rest() -> None:
    body = "first\r\n\tindented \x1b[31mred\x1b[0m\rover\x1b]0;pwned\x07\n\x00\x08\u202eend\u2029next"
    assert body_text(body) == "first\n\tindented redover\nend\nnext"
    assert body_text("```json\n{\"a\": 1}\n```") == "```json\n{\"a\": 1}\n```"
