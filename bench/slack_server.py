"""A FakeSlack in a process of its own, for the acknowledgement benchmark: the answers the bot
posts to response URLs land here, not in the process that drives the load and times it.

    python -m bench.slack_server <users>

Prints {"url": …, "team": …} once listening. Each line on stdin asks for the answers so far
(printed as {"count": n, "saved": n, "other": first unexpected text or null}); it stops when
stdin closes."""

from __future__ import annotations

import asyncio
import json
import sys

from tests.support.fake_slack import FakeSlack

CHANNEL = "C1"
ADMIN = "U0000"


def people(count: int) -> list[str]:
    return [ADMIN, *(f"U{n:04d}" for n in range(1, max(count, 2)))]


async def main(count: int) -> None:
    fake = await FakeSlack(page_size=200).start()
    users = people(count)
    for user in users:
        fake.add_user(user, f"Person {user[1:]}", admin=user == ADMIN)
    fake.add_channel(CHANNEL, users)
    print(json.dumps({"url": fake.url, "team": fake.team}), flush=True)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while await reader.readline():
        texts = [str(r.get("text", "")) for r in fake.responses]
        saved = sum(1 for t in texts if t.startswith("Saved check-in"))
        other = next((t for t in texts if not t.startswith(("Saved check-in", "Experiment"))), None)
        print(json.dumps({"count": len(texts), "saved": saved, "other": other}), flush=True)
    await fake.stop()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
