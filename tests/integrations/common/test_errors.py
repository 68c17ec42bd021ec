from __future__ import annotations

import logging

import pytest

from bot.errors import DeliveryFailed, DeliveryRetry
from integrations.common.errors import by_status, log_failure, retry_after, unreachable


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


@pytest.mark.parametrize(
    ("status", "code", "after", "retry", "wait"),
    [
        (429, "rate_limited", "7", True, 7.0),
        (429, "rate_limited", None, True, None),  # no header: the outbox's backoff decides
        (412, "PreconditionFailed", None, True, None),  # Teams: the conversation is busy
        (502, "BadGateway", "2", True, 2.0),
        (504, "GatewayTimeout", "soon", True, None),
        (200, "fatal_error", None, True, None),  # a code the platform calls transient
        (403, "MessageWritesBlocked", None, False, None),
        (404, "channel_not_found", None, False, None),
    ],
)
def test_every_platform_classifies_a_refusal_the_same_way(
    status: int, code: str, after: str | None, retry: bool, wait: float | None
) -> None:
    error = by_status(
        status,
        code,
        after=after,
        transient={"fatal_error"},
        hints={"channel_not_found": "the channel was not found"},
    )
    assert isinstance(error, DeliveryRetry if retry else DeliveryFailed)
    if isinstance(error, DeliveryRetry):
        assert error.after == wait
    if code == "channel_not_found":
        assert str(error) == "channel_not_found: the channel was not found"


def test_no_answer_at_all_is_retried() -> None:
    assert isinstance(unreachable(ConnectionResetError()), DeliveryRetry)
