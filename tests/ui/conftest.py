"""UI test set-up: times render in UTC so the fixed clock gives the same screen everywhere."""

from __future__ import annotations

import time
from typing import Iterator

import pytest


@pytest.fixture(autouse=True)
def _utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()
