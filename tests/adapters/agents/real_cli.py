"""Real agent CLIs in the tests: their tests skip where none runs, unless WATERSPIDER_REQUIRE_REAL_CLIS=1."""

from __future__ import annotations

import os

import pytest

REQUIRE_ENV = "WATERSPIDER_REQUIRE_REAL_CLIS"
REQUIRED = os.environ.get(REQUIRE_ENV) == "1"
"""Set by `.ci/run`. Read once, when the test modules are imported: tests/conftest.py clears
every WATERSPIDER_* variable around each test."""


def found_or_required(found: tuple[str | None, str]) -> tuple[str | None, str]:
    """A test module's (CLI to run, why none runs) as found; where the CLI is required and none runs, collection fails with why."""
    cli, why_not = found
    if cli is None and REQUIRED:
        pytest.fail(f"{why_not} ({REQUIRE_ENV}=1: the real-CLI tests must run, not skip)", pytrace=False)
    return found
