"""The footprint benchmark's baseline process: import the libraries the bot is built on, say so,
and wait for stdin to close. Its start time and RSS are what the libraries alone cost."""

from __future__ import annotations

import json
import os
import sys


def main() -> None:
    # What a running bot needs before any digest: the platforms, the database, migrations,
    # settings, the scheduler and metrics. (scikit-learn and matplotlib load with a digest.)
    import aiohttp  # noqa: F401
    import aiosqlite  # noqa: F401
    import alembic.command  # noqa: F401
    import apscheduler.schedulers.asyncio  # noqa: F401
    import discord  # noqa: F401
    import prometheus_client  # noqa: F401
    import pydantic  # noqa: F401
    import slack_bolt.async_app  # noqa: F401
    import slack_sdk.web.async_client  # noqa: F401
    import sqlalchemy.ext.asyncio  # noqa: F401

    print(json.dumps({"pid": os.getpid()}), flush=True)
    sys.stdin.read()


if __name__ == "__main__":
    main()
