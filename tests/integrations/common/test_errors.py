from __future__ import annotations

import logging

import pytest

from integrations.common.errors import log_failure, retry_after


def test_a_failure_logs_its_reference_and_type_never_its_message(
    caplog: pytest.LogCaptureFixture,
) -> None:
    log = logging.getLogger("tests.errors")
    written = "what someone wrote: " + "secret plans"
    try:
        raise ValueError(written)
    except ValueError as exc:
        with caplog.at_level(logging.ERROR, logger="tests.errors"):
            ref = log_failure(log, "interaction", exc)
    assert len(ref) == 8 and int(ref, 16) >= 0
    [record] = caplog.records
    assert record.getMessage().startswith(f"interaction failed (ref {ref}): ValueError\n")
    assert "what someone wrote" not in caplog.text
    assert "test_errors.py" in caplog.text  # the frames, to find the place


@pytest.mark.parametrize(
    ("raw", "seconds"),
    [("7", 7.0), ("1.5", 1.5), (["3"], 3.0), ("-2", 0.0), (4, 4.0)],
)
def test_retry_after_is_seconds_to_wait(raw: object, seconds: float) -> None:
    assert retry_after(raw) == seconds


@pytest.mark.parametrize("raw", [None, "", "soon", "Wed, 21 Oct 2026 07:28:00 GMT", [], "nan"])
def test_a_retry_after_that_is_not_seconds_is_none(raw: object) -> None:
    assert retry_after(raw) is None
