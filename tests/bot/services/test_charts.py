from __future__ import annotations

import struct
from pathlib import Path

from bot.services import charts

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


async def test_renders_a_png_with_all_three_panels(tmp_path: Path) -> None:
    data = charts.ChartData(
        "Frontline · 2026-W48",
        [(f"2026-W{n}", n - 40) for n in range(41, 49)],
        [5, 40, 70, 71, 99],
        {"running": 3, "concluded": 2, "abandoned": 1},
    )
    path = await charts.render_async(data, tmp_path / "charts" / "d.png")
    assert path == tmp_path / "charts" / "d.png"
    # Large enough that 13-point ticks and axis labels stay legible at chat-preview size.
    assert png_size(path) == (1300, 460)


def test_empty_data_still_renders(tmp_path: Path) -> None:
    path = charts.render(charts.ChartData("Empty", [], [], {}), tmp_path / "e.png")
    assert png_size(path) == (1300, 460)


def test_alt_text_says_what_the_chart_shows() -> None:
    data = charts.ChartData(
        "Frontline · 2026-W48",
        [("2026-W47", 4), ("2026-W48", 6)],
        [5, 40, 70, 71, 99],
        {"running": 3, "concluded": 2},
    )
    assert charts.alt_text(data) == (
        "Chart: Frontline · 2026-W48. People taking part by week (W47: 4, W48: 6). "
        "Surprise this week over 5 answers and check-ins: median 70 of 100, 3 at 60 or above. "
        "Experiments by status: 3 running, 2 concluded."
    )
    empty = charts.ChartData("Frontline · 2026-W48", [], [], {})
    assert charts.alt_text(empty) == (
        "Chart: Frontline · 2026-W48. Nothing shared this week was rated for surprise. "
        "No experiments yet."
    )
