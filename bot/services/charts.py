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
SURPRISING = 60  # as in the digest's surprises section


@dataclass(frozen=True)
class ChartData:
    title: str
    weeks: Sequence[tuple[str, int]]  # (ISO week, people taking part), oldest first
    surprises: Sequence[int]  # the week's surprise values, 0..100
    statuses: Mapping[str, int]  # experiment status -> count


# Sizes that stay legible when a chat client shows the image at preview size (about a third
# of its width): the old 8-point ticks vanished there.
TICK_SIZE = 13
LABEL_SIZE = 14
TITLE_SIZE = 15


def render(data: ChartData, path: Path) -> Path:
    """Write the chart to `path` (parents created) and return it."""
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(13, 4.6), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    left, middle, right = fig.subplots(1, 3)

    labels = [w.split("-W")[-1] for w, _ in data.weeks]
    left.bar(range(len(data.weeks)), [n for _, n in data.weeks], color="#3b7dd8")
    left.set_xticks(range(len(labels)), [f"W{label}" for label in labels])
    left.set_title("People taking part", fontsize=TITLE_SIZE)
    left.set_xlabel("week", fontsize=LABEL_SIZE)
    left.set_ylabel("people", fontsize=LABEL_SIZE)

    # An array: a list of 90,000 values costs matplotlib a second.
    values = np.asarray(data.surprises, dtype=float)
    middle.hist(values, bins=list(range(0, 101, 10)), color="#e08a2c", edgecolor="white")
    middle.set_xlim(0, 100)
    middle.set_xlabel("surprise: 0 as expected, 100 surprising", fontsize=LABEL_SIZE)
    middle.set_ylabel("answers and check-ins", fontsize=LABEL_SIZE)
    middle.set_title("Surprise this week", fontsize=TITLE_SIZE)
    if not data.surprises:
        middle.text(
            0.5,
            0.5,
            "nothing shared",
            ha="center",
            va="center",
            transform=middle.transAxes,
            fontsize=LABEL_SIZE,
        )

    names = _statuses(data)
    right.bar(names, [data.statuses[s] for s in names], color="#4aa564")
    right.set_title("Experiments by status", fontsize=TITLE_SIZE)
    right.set_xlabel("status", fontsize=LABEL_SIZE)
    right.set_ylabel("experiments", fontsize=LABEL_SIZE)
    if not names:
        right.text(
            0.5,
            0.5,
            "no experiments yet",
            ha="center",
            va="center",
            transform=right.transAxes,
            fontsize=LABEL_SIZE,
        )

    for axes in (left, middle, right):
        axes.tick_params(labelsize=TICK_SIZE)
        axes.yaxis.get_major_locator().set_params(integer=True)
        axes.set_ylim(bottom=0, top=max(1.0, axes.get_ylim()[1]))
    fig.suptitle(data.title, fontsize=TITLE_SIZE + 1)
    png = io.BytesIO()
    fig.savefig(png, format="png")
    return write_atomic(path, png.getvalue(), what="the digest chart")


def _statuses(data: ChartData) -> list[str]:
    return [s for s in STATUS_ORDER if s in data.statuses] + sorted(
        s for s in data.statuses if s not in STATUS_ORDER
    )


def alt_text(data: ChartData) -> str:
    """What the chart shows, in words: for screen readers and for a preview that did not load."""
    weeks = ", ".join(
        f"{w.split('-W')[-1] and 'W' + w.split('-W')[-1]}: {n}" for w, n in data.weeks
    )
    people = f"People taking part by week ({weeks})." if data.weeks else ""
    if data.surprises:
        values = sorted(data.surprises)
        middle = values[len(values) // 2]
        high = sum(1 for v in values if v >= SURPRISING)
        counted = plural(len(values), "answer or check-in", "answers and check-ins")
        surprise = (
            f"Surprise this week over {counted}: median {middle} of 100, "
            f"{high} at {SURPRISING} or above."
        )
    else:
        surprise = "Nothing shared this week was rated for surprise."
    names = _statuses(data)
    status = (
        "Experiments by status: " + ", ".join(f"{data.statuses[s]} {s}" for s in names) + "."
        if names
        else "No experiments yet."
    )
    return " ".join(p for p in (f"Chart: {data.title}.", people, surprise, status) if p)


async def render_async(data: ChartData, path: Path) -> Path:
    return await asyncio.to_thread(render, data, path)
