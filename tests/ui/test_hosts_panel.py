"""The Hosts panel: three Mac minis (one drained, one down) as snapshots, and space draining or restoring the highlighted host."""

from __future__ import annotations

from typing import Any, Callable

import pytest

from waterspider_tui.core import commands as cmd
from waterspider_tui.core.models import HostStatus
from waterspider_tui.ui.palette import Palette
from waterspider_tui.ui.widgets.hosts import HostRow, HostsPanel, host_parts
from waterspider_tui.ui.widgets.key_bar import KeyBar

from .hosts_scenario import three_hosts
from .pilots import make_app, notifications, settle, started

Compare = Callable[..., bool]


def _rows(app: Any) -> dict[str, HostRow]:
    return {row.host_name: row for row in app.screen.query(HostRow)}


def test_hosts_three_80x24(snap_compare: Compare) -> None:
    """80x24 after 5: each host on two lines, mini-2 down with the reason, mini-3 drained, sessions on each."""
    app, _ = make_app(three_hosts())
    assert snap_compare(app, terminal_size=(80, 24), press=["5"])


def test_hosts_three_wide(snap_compare: Compare) -> None:
    """200x60 after 5, the cursor on the drained mini-3: the key bar offers restore."""
    app, _ = make_app(three_hosts())
    assert snap_compare(app, terminal_size=(200, 60), press=["5", "down", "down"])


def test_hosts_three_one_line_each_when_the_panel_is_wide(snap_compare: Compare) -> None:
    """A panel 100 columns or wider (the single-panel view at 120x24) keeps each host on one line."""
    app, _ = make_app(three_hosts())
    assert snap_compare(app, terminal_size=(120, 24), press=["5"])


async def test_space_drains_the_highlighted_host_and_restores_a_drained_one() -> None:
    async with started(three_hosts(), size=(120, 36)) as (app, engine, pilot):
        await pilot.press("5")
        panel = app.screen.query_one(HostsPanel)
        assert app.focused is panel and panel.highlighted == "mini-1"
        assert "drain host" in app.screen.query_one(KeyBar).render().plain
        await pilot.press("space")
        await settle(pilot)
        assert engine.submitted == [cmd.DrainHost(host="mini-1")]
        assert "mini-1 drained: no new sessions there, its 2 running go on" in notifications(app)
        assert _rows(app)["mini-1"].has_class("-drained")

        await pilot.press("down", "down")
        assert panel.highlighted == "mini-3"
        assert "restore host" in app.screen.query_one(KeyBar).render().plain
        await pilot.press("space")
        await settle(pilot)
        assert engine.submitted[-1] == cmd.RestoreHost(host="mini-3")
        assert not _rows(app)["mini-3"].has_class("-drained")
        assert "mini-3" not in app.view.snapshot.draining

        await pilot.press("space")  # mini-3 takes sessions again, so space drains it once more
        await settle(pilot)
        assert engine.submitted[-1] == cmd.DrainHost(host="mini-3")
        assert _rows(app)["mini-3"].has_class("-drained")


def test_hosts_three_beside_the_queues(snap_compare: Compare) -> None:
    """120x36, every panel shown: the Hosts panel is narrow, one line a host with its state's symbol."""
    app, _ = make_app(three_hosts())
    assert snap_compare(app, terminal_size=(120, 36))


async def test_the_arrows_stop_at_the_first_and_last_host_and_the_down_host_is_marked() -> None:
    async with started(three_hosts(), size=(80, 24)) as (app, _, pilot):
        await pilot.press("5", "up")
        panel = app.screen.query_one(HostsPanel)
        assert panel.highlighted == "mini-1"
        await pilot.press("down", "down", "down")
        assert panel.highlighted == "mini-3"
        rows = _rows(app)
        assert [name for name, row in rows.items() if row.has_class("-highlight")] == ["mini-3"]
        assert rows["mini-2"].has_class("-down") and not rows["mini-2"].has_class("-drained")
        await pilot.press("k")
        assert panel.highlighted == "mini-2", "k moves up, as ↑"
        await pilot.press("j")
        assert panel.highlighted == "mini-3", "j moves down, as ↓"


def test_a_row_says_up_drained_or_down_with_the_sessions_on_the_host() -> None:
    palette = Palette.from_variables({})
    busy = HostStatus(name="mini-1", slots_total=3, slots_used=3, load=3.9, mem_percent=74.0, probed_at=100.0, mem_pressure="warning")
    parts = host_parts(busy, 115.0, palette, sessions=("#601", "#602", "#603", "#604", "#605"))
    assert (parts.head.plain, parts.state.plain, parts.load.plain, parts.memory.plain) == ("● mini-1     3/3", "up", "load 3.9", "mem 74%")
    assert parts.tail.plain == "#601 #602 #603 #604 +1  15s ago"
    drained = host_parts(busy, 115.0, palette, drained=True)
    assert (drained.head.plain, drained.state.plain) == ("‖ mini-1     3/3", "drained")
    down = HostStatus(name="mini-2", slots_total=3, reachable=False, load=1.0, error="nothing listens on mini-2:22", probed_at=100.0)
    down_parts = host_parts(down, 115.0, palette, drained=True)
    assert (down_parts.head.plain[:2], down_parts.state.plain, down_parts.load.plain) == ("✘ ", "down", "load –")
    assert down_parts.tail.plain == "nothing listens on mini-2:22  15s ago", "down wins over drained, and says why"
    idle = host_parts(HostStatus(name="mini-3", slots_total=2, probed_at=100.0), 115.0, palette)
    assert idle.tail.plain == "no sessions  15s ago"


@pytest.mark.parametrize("size", [(80, 24), (120, 35)], ids=["one-panel", "beside-the-queues"])
async def test_every_configured_host_is_listed_from_the_first_frame_checking_until_its_probe_answers(size: tuple[int, int]) -> None:
    from waterspider_tui.core import events as ev

    from .pilots import screen_lines
    from .scenarios import NOW, just_started

    async with started(just_started(), size=size) as (app, engine, pilot):
        await pilot.press("5")
        rows = _rows(app)
        assert sorted(rows) == ["local", "mini-1", "mini-2"]
        assert [name for name, row in rows.items() if row.has_class("-checking")] == ["local", "mini-2"]
        assert not rows["mini-2"].has_class("-down"), "not probed yet is not down"
        assert rows["mini-2"].size.height == 1, "one line: there is no load or memory to show yet"
        shown = "\n".join(screen_lines(app))
        assert "5 Hosts 1/3 up" in shown
        checking_lines = [line for line in shown.splitlines() if "checking…" in line]
        assert any("local" in line for line in checking_lines) and any("mini-2" in line for line in checking_lines), shown

        engine.push(ev.HostProbed(ts=NOW, host=HostStatus(name="mini-2", slots_total=3, load=0.2, mem_percent=20.0, probed_at=NOW)))
        await settle(pilot)
        assert not _rows(app)["mini-2"].has_class("-checking")
        assert "5 Hosts 2/3 up" in "\n".join(screen_lines(app))

        engine.push(ev.HostDrained(ts=NOW, host="local", by="operator"))
        await settle(pilot)
        assert _rows(app)["local"].has_class("-drained") and not _rows(app)["local"].has_class("-checking"), "drained before its first probe shows as drained"


def test_a_host_not_probed_yet_says_checking() -> None:
    parts = host_parts(HostStatus(name="mini-2", slots_total=3), 115.0, Palette.from_variables({}), checking=True)
    assert (parts.head.plain, parts.state.plain, parts.load.plain, parts.memory.plain, parts.tail.plain) == ("◌ mini-2     –/3", "checking…", "", "", "")


def test_just_started_beside_the_queues(snap_compare: Compare) -> None:
    """120x35 seconds after a start: three configured hosts, two still checking."""
    from .scenarios import just_started

    app, _ = make_app(just_started())
    assert snap_compare(app, terminal_size=(120, 35))


def test_a_high_load_fits_its_column() -> None:
    from waterspider_tui.ui.widgets.hosts import load_text

    assert [load_text(value) for value in (0.0, 3.94, 46.25, 99.94, 99.96, 462.99)] == ["0.0", "3.9", "46.2", "99.9", "100", "463"]
    busy = host_parts(HostStatus(name="local", slots_total=5, load=462.99, probed_at=1.0), 2.0, Palette.from_variables({}))
    assert busy.load.plain == "load 463" and len(busy.load.plain) <= 9, "the load column is 9 wide"


def test_just_started_80x24(snap_compare: Compare) -> None:
    """80x24 after 5 seconds after a start: a checking host takes one line, a probed one two."""
    from .scenarios import just_started

    app, _ = make_app(just_started())
    assert snap_compare(app, terminal_size=(80, 24), press=["5"])
