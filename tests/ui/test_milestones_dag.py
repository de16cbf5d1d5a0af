"""The DAG screen's milestones section and its `m` key, on a scripted run with two milestones."""

from __future__ import annotations

from waterspider_tui.ui.screens.dag import DagScreen
from waterspider_tui.ui.widgets.dag_view import DagView
from waterspider_tui.ui.widgets.milestone_panel import MilestonePanel

from .milestone_scenario import failed_in_the_middle, milestones
from .pilots import started
from .scenarios import REPO, key


def _panel_lines(screen: DagScreen) -> list[str]:
    return screen.query_one(MilestonePanel).picture.plain.splitlines()


def _nodes(screen: DagScreen) -> set[str]:
    picture = screen.query_one(DagView).picture
    assert picture is not None
    return set(picture.places)


async def test_the_dag_screen_shows_each_milestones_progress_and_m_walks_through_them() -> None:
    async with started(milestones(), size=(160, 40)) as (app, _, pilot):
        await pilot.press("d")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, DagScreen) and screen.query_one(MilestonePanel).display
        v1, v2 = _panel_lines(screen)
        assert "v1.0" in v1 and "2/5 done" in v1 and "1 running" in v1 and "1 blocked" in v1 and "1 failed" in v1 and "blocked by #804" in v1
        assert "v2.0" in v2 and "2/2 done" in v2 and "conflict: #812 with #811 in src/theme.py" in v2
        assert key(801) not in _nodes(screen) and key(820) in _nodes(screen), "all open work first"
        assert any(binding.binding.action == "next_milestone" for binding in screen.active_bindings.values())

        await pilot.press("m")
        await pilot.pause()
        assert screen.milestone == (REPO, "v1.0")
        assert _nodes(screen) == {key(number) for number in (801, 802, 803, 804, 805)}, "every issue of v1.0, done ones too"
        assert _panel_lines(screen)[0].startswith("▸ v1.0")

        await pilot.press("m")
        await pilot.pause()
        assert screen.milestone == (REPO, "v2.0") and _nodes(screen) == {key(811), key(812)}

        await pilot.press("m")
        await pilot.pause()
        assert screen.milestone is None and key(820) in _nodes(screen)


async def test_without_milestones_the_section_and_its_key_stay_hidden() -> None:
    async with started("mid_run", size=(160, 40)) as (app, _, pilot):
        await pilot.press("d")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, DagScreen) and not screen.query_one(MilestonePanel).display
        assert not any(binding.binding.action == "next_milestone" for binding in screen.active_bindings.values())
        before = _nodes(screen)
        await pilot.press("m")
        await pilot.pause()
        assert screen.milestone is None and _nodes(screen) == before


async def test_a_failed_issue_of_a_milestone_keeps_its_dependency_and_depth() -> None:
    async with started(failed_in_the_middle(), size=(160, 40)) as (app, _, pilot):
        await pilot.press("d")
        await pilot.pause()
        await pilot.press("m")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, DagScreen) and screen.milestone == (REPO, "v3.0")
        picture = screen.query_one(DagView).picture
        assert picture is not None
        lines = picture.text.plain.splitlines()
        (x1, _), (x2, y2), (x3, y3) = (picture.places[key(number)] for number in (901, 902, 903))
        assert x1 < x2 < x3, "the failed #902 sits between what it depends on and what waits on it"
        assert lines[y2 + 1][x2 + 2:].startswith("← #901"), lines
        assert lines[y3 + 1][x3 + 2:].startswith("← #902"), lines
