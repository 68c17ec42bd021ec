"""`make demo` runs in the suite: a week of a learning group ends in the weekly digest."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_demo_runs_the_week_and_prints_the_digest(tmp_path: Path) -> None:
    env = {**os.environ, "CYCLES_DATA_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "demo"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
        cwd=tmp_path,
    )
    out = done.stdout
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Traceback" not in out + done.stderr
    # The round reached every member once, and its summary was posted.
    assert out.count("── DM to ") >= 7
    # The digest: counts, themes with anonymous verbatim quotes, surprises.
    assert "Momentum" in out
    assert "What we are learning" in out
    assert "Surprises" in out
    # The private answer never reaches the channel or the digest.
    assert "my manager reads these answers" not in out.split("round close")[-1]
    # Members answer the digest's themes; the next week's digest opens with what they said,
    # the private answer left out.
    assert "digest respond 1 agree" in out
    second = out.split("facilitator> digest now")[-1]
    said = second.split("↳ What you said about last week")[1].split("↳")[0]
    assert "2 people said it matches what they see" in said
    assert "(Eilidh)" in said and "(a member)" in said
    assert "I am not sure any of this works for us." not in second
    assert "↳ From the facilitators" in second
