"""Third-party libraries' routine INFO lines stay out of the log unless the bot runs at DEBUG."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from bot.logs import setup_logging

# The logger APScheduler 3 writes "Running job ..." and "... executed successfully" to.
JOB_LOGGER = "apscheduler.executors.default"


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root, scheduler = logging.getLogger(), logging.getLogger("apscheduler")
    handlers, level, scheduler_level = root.handlers[:], root.level, scheduler.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    scheduler.setLevel(scheduler_level)


def logged(level: str) -> str:
    setup_logging(level, "text")
    stream = io.StringIO()
    handler = logging.getLogger().handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(stream)
    job = logging.getLogger(JOB_LOGGER)
    job.info('Running job "tick" (scheduled at 2026-11-27 08:00:00+00:00)')
    job.warning('Run time of job "tick" was missed by 0:05:00')
    logging.getLogger("bot.scheduler").info("scheduler started")
    return stream.getvalue()


def test_scheduler_job_lines_are_quiet_at_info(restore_logging: None) -> None:
    out = logged("INFO")
    assert "Running job" not in out
    assert "was missed" in out  # warnings still show
    assert "scheduler started" in out  # and the bot's own INFO lines


def test_scheduler_job_lines_show_at_debug(restore_logging: None) -> None:
    assert "Running job" in logged("DEBUG")
