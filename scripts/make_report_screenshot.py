"""Regenerate screenshots/report.png: the HTML report of the test fixture's night, in headless Chromium.

Run from anywhere: `python scripts/make_report_screenshot.py` (needs Debian's `chromium`). The
events come from tests/reporting/report_fixture.py, the same ones the report tests check.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

from tests.reporting.browser import screenshot  # noqa: E402  (the repository root is on the path now)
from tests.reporting.report_fixture import NIGHT_START, night_events  # noqa: E402
from waterspider_tui.reporting.report_html import to_html  # noqa: E402
from waterspider_tui.reporting.results import collect  # noqa: E402

OUT = ROOT / "screenshots" / "report.png"


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        page = Path(folder) / "report.html"
        page.write_text(to_html(collect(night_events()), generated_at=NIGHT_START + 12 * 3600), encoding="utf-8")
        screenshot(page, OUT, Path(folder) / "profile", size=(1200, 1600))
    print(OUT.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
