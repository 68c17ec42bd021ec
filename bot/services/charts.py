"""The digest chart: one PNG with participation per week, the surprise distribution and
experiments by status. matplotlib is imported lazily, with the Agg backend and its object API
(no pyplot state), so rendering in a worker thread is safe."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.domain.plural import plural
from bot.files import write_atomic

STATUS_ORDER = ("running", "concluded", "abandoned")


@dataclass(frozen=True)
class ChartData:
    title: str
    weeks: Sequence[tuple[str, int]]  # (ISO week, people taking part), oldest first
    surprises: Sequence[int]  # the week's surprise values, 0..100
    statuses: Mapping[str, int]  # experiment status -> count


def render(data: ChartData, path: Path) -> Path:
    """Write the chart to `path` (parents created) and return it."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 3.4), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    left, middle, right = fig.subplots(1, 3)

    labels = [w.split("-W")[-1] for w, _ in data.weeks]
    left.bar(range(len(data.weeks)), [n for _, n in data.weeks], color="#3b7dd8")
    left.set_xticks(range(len(labels)), [f"W{label}" for label in labels], fontsize=8)
    left.set_title("People taking part, by week", fontsize=10)

    middle.hist(list(data.surprises), bins=list(range(0, 101, 10)), color="#e08a2c")
    middle.set_xlim(0, 100)
    middle.set_xlabel("as expected  →  surprising", fontsize=8)
    entries = plural(len(data.surprises), "entry", "entries")
    middle.set_title(f"Surprise this week ({entries})", fontsize=10)
    if not data.surprises:
        middle.text(
            0.5, 0.5, "no shared entries", ha="center", va="center", transform=middle.transAxes
        )

    names = [s for s in STATUS_ORDER if s in data.statuses] + sorted(
        s for s in data.statuses if s not in STATUS_ORDER
    )
    right.bar(names, [data.statuses[s] for s in names], color="#4aa564")
    right.set_title("Experiments by status", fontsize=10)
    if not names:
        right.text(
            0.5, 0.5, "no experiments yet", ha="center", va="center", transform=right.transAxes
        )

    for axes in (left, middle, right):
        axes.yaxis.get_major_locator().set_params(integer=True)
        axes.set_ylim(bottom=0, top=max(1.0, axes.get_ylim()[1]))
    fig.suptitle(data.title, fontsize=11)
    png = io.BytesIO()
    fig.savefig(png, format="png")
    return write_atomic(path, png.getvalue(), what="the digest chart")


async def render_async(data: ChartData, path: Path) -> Path:
    return await asyncio.to_thread(render, data, path)
