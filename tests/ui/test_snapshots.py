"""What the operator sees, as SVG snapshots; the clock is frozen and no host name renders."""

from __future__ import annotations

from typing import Any, Callable

from textual.pilot import Pilot

from waterspider_tui.ui.app import WaterspiderApp

from .pilots import make_app, run_before_selecting
from .scenarios import key

Compare = Callable[..., bool]


def app_for(scenario: str, **kwargs: Any) -> WaterspiderApp:
    app, _ = make_app(scenario, **kwargs)
    return app


def test_empty(snap_compare: Compare) -> None:
    """Before the first poll: zeros, and a note saying what it waits for."""
    assert snap_compare(app_for("empty"), terminal_size=(120, 36))


def test_empty_narrow_ready(snap_compare: Compare) -> None:
    """80x24 after 2 before the first poll: the note alone, no column headers under it."""
    assert snap_compare(app_for("empty"), terminal_size=(80, 24), press=["2"])


def test_mid_run_wide(snap_compare: Compare) -> None:
    """200x60: every panel; running with phases and an idle session, ready with marks, blocked with reasons."""
    assert snap_compare(app_for("mid_run"), terminal_size=(200, 60))


def test_mid_run_medium(snap_compare: Compare) -> None:
    """120x36: every panel, shorter titles, the header's middle form."""
    assert snap_compare(app_for("mid_run"), terminal_size=(120, 36))


def test_narrow_running(snap_compare: Compare) -> None:
    """80x24 in tmux: the header, one panel, the panel tabs, the footer."""
    assert snap_compare(app_for("mid_run"), terminal_size=(80, 24))


def test_narrow_blocked(snap_compare: Compare) -> None:
    """80x24 after 3: the blocked panel with its reasons."""
    assert snap_compare(app_for("mid_run"), terminal_size=(80, 24), press=["3"])


def test_failure(snap_compare: Compare) -> None:
    """Usage limit paused dispatch, failures with error classes, a rejected file, a host down."""
    assert snap_compare(app_for("failure"), terminal_size=(160, 40))


def test_cycle(snap_compare: Compare) -> None:
    """Issues waiting on each other show the cycle in the blocked panel."""
    assert snap_compare(app_for("cycle"), terminal_size=(120, 36))


def test_cycle_dag(snap_compare: Compare) -> None:
    """The DAG with a chain, its critical path and two cycles."""
    assert snap_compare(app_for("cycle"), terminal_size=(120, 36), press=["d"])


def test_dag(snap_compare: Compare) -> None:
    """The DAG of a mid-run backlog, focused on #455."""
    assert snap_compare(app_for("mid_run"), terminal_size=(200, 60), run_before=run_before_selecting(key(455)), press=["d"])


def test_milestones_dag(snap_compare: Compare) -> None:
    """The DAG by milestone: every milestone's progress and integration above, v1.0's issues (done ones too) below."""
    from .milestone_scenario import milestones

    assert snap_compare(app_for(milestones()), terminal_size=(160, 40), press=["d", "m"])


def test_host_down(snap_compare: Compare) -> None:
    """mini-2 unreachable: its row in the error colour with the reason."""
    assert snap_compare(app_for("host_down"), terminal_size=(200, 60))


def test_detail_ready(snap_compare: Compare) -> None:
    """Enter on a ready issue: the score and its parts, both ways of dependencies."""
    assert snap_compare(app_for("mid_run"), terminal_size=(120, 36), run_before=run_before_selecting(key(448)), press=["enter"])


def test_detail_failed(snap_compare: Compare) -> None:
    """Enter on a failed issue: its attempts with outcome, error, cost and log path, and the workspace."""
    assert snap_compare(app_for("mid_run"), terminal_size=(120, 36), run_before=run_before_selecting(key(441)), press=["enter"])


def test_help(snap_compare: Compare) -> None:
    assert snap_compare(app_for("mid_run"), terminal_size=(120, 36), press=["question_mark"])


def test_quit_question(snap_compare: Compare) -> None:
    assert snap_compare(app_for("mid_run"), terminal_size=(120, 36), press=["q"])


def test_light_theme(snap_compare: Compare) -> None:
    assert snap_compare(app_for("mid_run", theme="waterspider-light"), terminal_size=(120, 36))


def test_all_done(snap_compare: Compare) -> None:
    """Twenty of twenty succeeded: the header says all done, not dispatching."""
    assert snap_compare(app_for("all_done"), terminal_size=(120, 36))


def test_github_down(snap_compare: Compare) -> None:
    """Polls failing for five minutes: the header gives the failure, the retry and the last good poll's age."""
    assert snap_compare(app_for("github_down"), terminal_size=(120, 36))


def test_narrow_filter(snap_compare: Compare) -> None:
    """80x24 while filtering: the box is a line under the header, which stays."""
    assert snap_compare(app_for("mid_run"), terminal_size=(80, 24), press=["slash", *"web"])


def test_log_pager(snap_compare: Compare) -> None:
    """A failed issue's log full screen, jumped to its first error."""
    assert snap_compare(app_for("mid_run"), terminal_size=(100, 30), run_before=run_before_selecting(key(441)), press=["l", "e"])


def test_log_pager_narrow(snap_compare: Compare) -> None:
    """The pager in a tmux pane, searching."""
    assert snap_compare(app_for("mid_run"), terminal_size=(80, 24), run_before=run_before_selecting(key(441)), press=["l", "slash", *"pytest", "enter"])


def test_diff_pager(snap_compare: Compare) -> None:
    """D on a finished issue: its branch against the base, the files changed first, jumped to the first file."""
    assert snap_compare(app_for("mid_run"), terminal_size=(100, 30), run_before=run_before_selecting(key(440)), press=["D", "n"])


def test_diff_pager_narrow(snap_compare: Compare) -> None:
    """The diff pager in a tmux pane."""
    assert snap_compare(app_for("mid_run"), terminal_size=(80, 24), run_before=run_before_selecting(key(440)), press=["D"])


def test_results_summary(snap_compare: Compare) -> None:
    """R: totals, failure classes with advice, the slowest and costliest issues, per host (the report's figures)."""
    assert snap_compare(app_for("mid_run"), terminal_size=(120, 36), press=["R"])


def test_results_summary_narrow(snap_compare: Compare) -> None:
    """The results screen at 80x24."""
    assert snap_compare(app_for("mid_run"), terminal_size=(80, 24), press=["R"])


def test_problems(snap_compare: Compare) -> None:
    """w on a bad night: the rejected issue file and the warnings, newest first."""
    assert snap_compare(app_for("failure"), terminal_size=(120, 36), press=["w"])


def test_cancel_question(snap_compare: Compare) -> None:
    """x on a running issue asks first, at 80x24."""
    assert snap_compare(app_for("mid_run"), terminal_size=(80, 24), run_before=run_before_selecting(key(443)), press=["x"])


def test_results_before_any_session(snap_compare: Compare) -> None:
    """R before anything finished: every heading with the same empty line under it."""
    assert snap_compare(app_for("empty"), terminal_size=(80, 24), press=["R"])


def test_help_narrow(snap_compare: Compare) -> None:
    """? at 80x24: no column of ids; each id follows its description."""
    assert snap_compare(app_for("mid_run"), terminal_size=(80, 24), press=["question_mark"])
