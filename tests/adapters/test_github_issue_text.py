"""A GitHub issue's text is cleaned on the way in: escapes, controls and surrogate halves never get through."""

from __future__ import annotations

import json

from waterspider_tui.adapters.github.issue_mapping import issue_from_json

HOSTILE = r"""{
  "number": 12,
  "title": "\u001b]0;pwned\u0007Fix \u001b[2Jthe login \ud83d\ude80 \ud83d",
  "body": "Steps:\r\n\t1. \u001b[31mred\u001b[0m\n\u202eevil\u0000 \udead",
  "labels": [{"name": "P1\u001b[5m"}, "bug\u0007", {"color": "fff"}],
  "milestone": {"title": "v1\u009b2J"},
  "assignees": [{"login": "ada\u001b]8;;http://x\u0007"}],
  "created_at": "2026-11-20T09:00:00Z",
  "state": "open"
}"""


def test_title_labels_milestone_logins_and_body_arrive_clean() -> None:
    issue = issue_from_json(json.loads(HOSTILE), "o/r")
    assert issue.title == "Fix the login 🚀 \ufffd"
    assert issue.labels == ("P1", "bug")
    assert issue.milestone == "v1"
    assert issue.assignees == ("ada",)
    assert issue.body == "Steps:\n\t1. red\nevil \ufffd"
    for text in (issue.title, issue.body, *issue.labels, issue.milestone, *issue.assignees):
        text.encode("utf-8")  # no lone surrogate left to fail in SQLite, JSON or the terminal


def test_plain_text_is_unchanged() -> None:
    item = {"number": 3, "title": "Añadir 中文 support", "body": "Line one\n\n```\ncode\n```", "labels": [{"name": "P2-Medium"}]}
    issue = issue_from_json(item, "o/r")
    assert (issue.title, issue.body, issue.labels) == ("Añadir 中文 support", "Line one\n\n```\ncode\n```", ("P2-Medium",))
