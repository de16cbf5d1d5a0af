"""examples/waterspider.toml has every section and every field (commented where off), so it stays the reference."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from pydantic import BaseModel

from waterspider_tui.adapters.executors.ssh_config import HostConfig
from waterspider_tui.adapters.pipeline.gate import GateOptions
from waterspider_tui.adapters.pipeline.pull_request import PullRequestOptions
from waterspider_tui.adapters.pipeline.push import PushOptions
from waterspider_tui.config import Settings

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "waterspider.toml"

_HEADER = re.compile(r"^#?\s*\[\[?([A-Za-z0-9_.]+)\]\]?\s*(#.*)?$")
_KEY = re.compile(r"^#?\s*([a-z_][a-z0-9_]*)\s*=")


def example_keys() -> dict[str, set[str]]:
    """Section -> the keys written in it, set or commented out (`# name = ...`)."""
    sections: dict[str, set[str]] = {"": set()}
    current = ""
    for line in EXAMPLE.read_text().splitlines():
        header = _HEADER.match(line.strip())
        if header:
            current = header.group(1)
            sections.setdefault(current, set())
            continue
        key = _KEY.match(line.strip())
        if key:
            sections[current].add(key.group(1))
    return sections


def expected_keys() -> dict[str, set[str]]:
    """Every section of the settings and its fields, as the file spells them."""
    expected: dict[str, set[str]] = {}

    def walk(model: type[BaseModel], prefix: str) -> None:
        own: set[str] = set()
        for name, field in model.model_fields.items():
            kind = field.annotation
            if isinstance(kind, type) and issubclass(kind, BaseModel):
                walk(kind, f"{prefix}.{name}" if prefix else name)
            else:
                own.add(name)
        expected[prefix] = own

    for name, field in Settings.model_fields.items():
        if name == "hosts":
            continue
        assert isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel), name
        walk(field.annotation, name)
    expected["hosts"] = set(HostConfig.model_fields)
    step_options = {"gate": GateOptions, "push": PushOptions, "pull_request": PullRequestOptions}
    expected["pipeline"] -= set(step_options)  # each has a table of its own
    for step, options in step_options.items():
        expected[f"pipeline.{step}"] = set(options.model_fields)
    return expected


def test_every_section_and_field_is_in_the_example() -> None:
    written = example_keys()
    missing = {
        section: sorted(fields - written.get(section, set()))
        for section, fields in expected_keys().items()
        if section not in written or fields - written[section]
    }
    assert missing == {}, f"add these to {EXAMPLE.name} (commented out if they are off by default)"


def test_the_example_names_no_field_that_does_not_exist() -> None:
    expected = expected_keys()
    unknown = {section: sorted(keys - expected.get(section, set())) for section, keys in example_keys().items() if section and keys - expected.get(section, set())}
    assert unknown == {}


def _uncommented(section: str) -> dict[str, object]:
    """The commented-out table `section`, its `# key = value` lines taken as they would be uncommented."""
    lines: list[str] = []
    current = ""
    for line in EXAMPLE.read_text().splitlines():
        header = _HEADER.match(line.strip())
        if header:
            current = header.group(1)
        elif current == section and _KEY.match(line.strip()):
            lines.append(line.strip().lstrip("#").strip())
    return tomllib.loads("\n".join(lines))


def test_the_commented_hosts_and_actions_tables_are_valid_when_uncommented() -> None:
    from waterspider_tui.config import ActionsSection

    host = HostConfig.model_validate(_uncommented("hosts"))
    assert (host.name, host.lost_after_s, host.orphan_stop_after_s) == ("mini-1", 900, 600)
    assert ActionsSection.model_validate(_uncommented("actions")).workflow == "agent-execute.yml"
