"""The built wheel runs on its own: installed in a fresh virtual environment, `cycles demo` works
from an empty directory with no setting in the environment, and `cycles --version` reports the
installed distribution's version."""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import site
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# What the image copies to build the wheel: nothing else in the checkout may reach it.
SOURCES = ("pyproject.toml", "README.md", "LICENSE", "bot", "integrations")


def run(*cmd: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=150
    )
    assert done.returncode == 0, f"{cmd}: {done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    return done.stdout


def test_the_wheel_installs_and_runs_the_demo_outside_the_checkout(tmp_path: Path) -> None:
    # A clean copy: a build directory or egg-info left in the checkout would fill gaps in the
    # package data and hide them.
    source = tmp_path / "source"
    source.mkdir()
    for name in SOURCES:
        if (ROOT / name).is_dir():
            ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
            shutil.copytree(ROOT / name, source / name, ignore=ignore)
        else:
            shutil.copy2(ROOT / name, source / name)
    dist = tmp_path / "dist"
    # The backend from this venv (no download); the wheel alone, its dependencies come below.
    run(
        sys.executable,
        *("-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation"),
        *("--wheel-dir", dist, source),
        cwd=tmp_path,
    )
    (wheel,) = dist.glob("learning_cycles-*.whl")

    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=tmp_path)
    python = venv / "bin" / "python"
    purelib = run(
        python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))", cwd=tmp_path
    )
    # The dependencies already installed here, after the new venv's own packages. A .pth line
    # only appends the directory: the checkout's editable-install hook there is not run.
    (Path(purelib.strip()) / "deps.pth").write_text(site.getsitepackages()[0] + "\n")
    run(
        sys.executable,
        *("-m", "pip", "--python", python, "install", "--quiet", "--no-deps", wheel),
        cwd=tmp_path,
    )

    empty = tmp_path / "elsewhere"
    empty.mkdir()
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "TMPDIR": str(tmp_path)}
    env["LANG"] = "C.UTF-8"
    where = run(python, "-c", "import bot; print(bot.__file__)", cwd=empty, env=env)
    assert Path(where.strip()).is_relative_to(venv), where
    assert not Path(where.strip()).is_relative_to(ROOT)

    out = run(venv / "bin" / "cycles", "demo", cwd=empty, env=env)
    assert "Questions for next week" in out  # the digest at the demo's end
    assert "[attachment]" in out  # its chart
    assert list(empty.iterdir()) == []  # the demo keeps nothing where it was run

    version = run(venv / "bin" / "cycles", "--version", cwd=empty, env=env)
    assert version.strip() == f"cycles {importlib.metadata.version('learning-cycles')}"
