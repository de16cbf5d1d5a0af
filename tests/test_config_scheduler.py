"""The scheduler's tuning knobs in [scheduler]: read, checked, and handed to the core config."""

from __future__ import annotations

from pathlib import Path

import pytest

from waterspider_tui.config import ConfigError, load_settings
from waterspider_tui.core.scheduler import SchedulerConfig


def test_the_defaults_are_the_core_defaults() -> None:
    core = load_settings(None).scheduler.to_core()
    shipped = SchedulerConfig(capacity=core.capacity)
    knobs = ("critical_share", "pole_margin", "pole_margin_max", "learn_pole_margin", "pole_margin_samples", "pole_hold_share", "other_share")
    assert {name: getattr(core, name) for name in knobs} == {name: getattr(shipped, name) for name in knobs}


def test_the_knobs_from_the_file_reach_the_scheduler(tmp_path: Path) -> None:
    config = tmp_path / "waterspider.toml"
    config.write_text("[scheduler]\npole_margin = 1.3\npole_margin_max = 2.0\nlearn_pole_margin = false\n"
                      "pole_margin_samples = 40\npole_hold_share = 0.7\nother_share = 0.25\n")
    core = load_settings(config).scheduler.to_core()
    assert (core.pole_margin, core.pole_margin_max, core.learn_pole_margin, core.pole_margin_samples, core.pole_hold_share,
            core.other_share) == (1.3, 2.0, False, 40, 0.7, 0.25)


@pytest.mark.parametrize(("text", "field", "problem"), [
    ("pole_margin = 0.8", "scheduler.pole_margin", "0.8 is too small: it must be at least 1"),
    ("pole_margin = 2.0\npole_margin_max = 1.5", "scheduler.pole_margin_max", "must be at least pole_margin (2)"),
    ("pole_hold_share = 1.5", "scheduler.pole_hold_share", "1.5 is too large: it must be at most 1"),
    ("other_share = -0.1", "scheduler.other_share", "-0.1 is too small: it must be at least 0"),
    ("pole_margin_samples = 0", "scheduler.pole_margin_samples", "0 is too small: it must be at least 1"),
])
def test_a_knob_out_of_range_is_one_line_naming_it(tmp_path: Path, text: str, field: str, problem: str) -> None:
    config = tmp_path / "waterspider.toml"
    config.write_text(f"[scheduler]\n{text}\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    message = str(caught.value)
    assert message.startswith(f"bad setting {field} in {config}: ")
    assert problem in message and "\n" not in message
