from __future__ import annotations

import logging

import pytest

from integrations.common.errors import log_failure


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
