"""A FakeSlack in a process of its own, for the acknowledgement benchmark: the answers the bot
posts to response URLs land here, not in the process that drives the load and times it.

    python -m bench.slack_server <users>

Prints {"url": …, "team": …} once listening. Each line on stdin asks for the answers so far
(printed as {"count": n, "saved": n, "other": first unexpected text or null}), or, for the line
{"cmd": "seen"}, when each response URL was first posted to ({"seen": {url: unix time}}); it
stops when stdin closes."""

from __future__ import annotations

import asyncio
import json
import sys
import time

from aiohttp import web

from tests.support.fake_slack import FakeSlack

CHANNEL = "C1"
SMALL_CHANNEL = "C2"  # two people: a round there is posted at once
ADMIN = "U0000"


class TimedSlack(FakeSlack):
    """A FakeSlack that notes when each response URL was first posted to."""

    def __init__(self, page_size: int) -> None:
        super().__init__(page_size=page_size)
        self.seen: dict[str, float] = {}

    async def _respond(self, request: web.Request) -> web.Response:
        self.seen.setdefault(str(request.url), time.time())
        return await super()._respond(request)


def people(count: int) -> list[str]:
    return [ADMIN, *(f"U{n:04d}" for n in range(1, max(count, 2)))]


async def main(count: int) -> None:
    fake = TimedSlack(page_size=200)
    await fake.start()
    users = people(count)
    for user in users:
        fake.add_user(user, f"Person {user[1:]}", admin=user == ADMIN)
    fake.add_channel(CHANNEL, users)
    fake.add_channel(SMALL_CHANNEL, users[:2])
    print(json.dumps({"url": fake.url, "team": fake.team}), flush=True)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := await reader.readline():
        if b'"seen"' in line:
            print(json.dumps({"seen": fake.seen}), flush=True)
            continue
        texts = [str(r.get("text", "")) for r in fake.responses]
        saved = sum(1 for t in texts if t.startswith("Saved check-in"))
        other = next((t for t in texts if not t.startswith(("Saved check-in", "Experiment"))), None)
        print(json.dumps({"count": len(texts), "saved": saved, "other": other}), flush=True)
    await fake.stop()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
