"""Credentials and what a failed Bot Connector call means for the outbox."""

from __future__ import annotations

import aiohttp
import pytest
from multidict import CIMultiDict, CIMultiDictProxy
from pydantic import SecretStr
from yarl import URL

from bot.config import TeamsSettings
from bot.errors import ConfigError, DeliveryFailed, DeliveryRetry
from integrations.teams.connector import auth_configuration, classify


def refused(status: int, **headers: str) -> aiohttp.ClientResponseError:
    info = aiohttp.RequestInfo(URL("http://127.0.0.1/v3"), "POST", CIMultiDictProxy(CIMultiDict()))
    return aiohttp.ClientResponseError(
        info, (), status=status, headers=CIMultiDictProxy(CIMultiDict(headers))
    )


def test_throttling_and_gateway_errors_are_retried_after_retry_after_with_jitter() -> None:
    error = classify(refused(429, **{"Retry-After": "7"}))
    assert isinstance(error, DeliveryRetry)
    assert error.after is not None and 7 <= error.after <= 7.5
    for status in (412, 502, 504):
        again = classify(refused(status))
        assert isinstance(again, DeliveryRetry) and again.after is not None
    # Without a Retry-After: exponential, jittered, capped.
    waits = [classify(refused(503), failures=n).after or 0 for n in (1, 2, 3, 4, 20)]
    assert 1 <= waits[0] <= 2 and 2 <= waits[1] <= 4 and 4 <= waits[2] <= 8
    assert 150 <= waits[4] <= 300
    assert isinstance(classify(aiohttp.ClientConnectionError()), DeliveryRetry)


def test_a_blocked_bot_marks_the_member_unreachable() -> None:
    error = classify(refused(403))
    assert isinstance(error, DeliveryFailed)
    assert "unreachable" in str(error)
    assert isinstance(classify(refused(400)), DeliveryFailed)


def test_credentials_or_anonymous_mode_and_never_neither() -> None:
    with pytest.raises(ConfigError, match="TEAMS_APP_PASSWORD"):
        auth_configuration(TeamsSettings(app_id="app-1"))
    anonymous = auth_configuration(TeamsSettings(allow_anonymous=True))
    assert anonymous.ANONYMOUS_ALLOWED and not anonymous.CLIENT_ID
    real = auth_configuration(TeamsSettings(app_id="app-1", app_password=SecretStr("s")))
    assert real.CLIENT_ID == "app-1" and not real.ANONYMOUS_ALLOWED
