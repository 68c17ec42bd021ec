"""6. Steady load, open loop: commands arrive at a fixed rate, whatever the bot's pace.

`help`, `round status` and `checkin` at 100, 200, 400 and 800 a second, each for
`Scale.steady_seconds`, against the bot in Slack HTTP mode as `cycles run` serves it (the same
processes as the ack benchmark), and the same rates of `/cycles` against a bare slack-bolt app
that only acknowledges, in the same run. The measure is what a person waits for: from sending
the command until the answer is shown, which is when the acknowledgement came back if the answer
was in it, else when the first post to its response URL arrived (the fake notes the wall clock
time; client and fake run on the same machine). The bare app answers nothing: its figure is the
acknowledgement alone, the floor the harness and bolt set at that rate."""

from __future__ import annotations

import asyncio
import tempfile
import time
import uuid
from dataclasses import dataclass
from typing import cast

from bench.ack import SECRET, RemoteSlack, setup
from bench.procs import Worker, worker
from bench.slack_server import ADMIN, CHANNEL, SMALL_CHANNEL, people
from bench.suite import Outcome, Row, Scale, percentile, ratio
from tests.support.fake_slack import FakeSlack, SlackDriver

TARGET_MS = 100.0
COMMANDS = {
    "help": (CHANNEL, "help"),
    "round status": (SMALL_CHANNEL, "round status"),
    "checkin": (CHANNEL, 'checkin 1 happened="Steady visit {i}" surprise=40 confidence=60'),
}
# What each command must sustain with p99 under TARGET_MS (reads 400/s, check-ins 200/s).
TARGET_RATES = {"help": 400, "round status": 400, "checkin": 200}
DRAIN_SECONDS = 60.0


@dataclass
class Step:
    command: str
    rate: int
    waits: list[float]  # seconds, per request
    failures: int
    unanswered: int


async def open_loop(
    driver: SlackDriver,
    fake: Worker | None,
    users: list[str],
    channel: str,
    text: str,
    rate: int,
    seconds: float,
    base: str,
) -> tuple[list[float], int, int]:
    """Send `rate` commands a second for `seconds`, each at its own time; the waits until each
    answer was shown (for the bare app: its acknowledgement)."""
    count = max(1, int(rate * seconds))
    sent_at: dict[str, float] = {}
    shown: dict[str, float] = {}
    failures = 0

    async def one(i: int) -> None:
        nonlocal failures
        url = f"{base}/respond/{uuid.uuid4().hex[:12]}"
        user = users[i % len(users)]
        sent_at[url] = time.time()
        try:
            answer = await driver.slash(user, channel, text.format(i=i), response_url=url)
        except Exception:
            failures += 1
            return
        if answer.status != 200:
            failures += 1
        elif fake is None or answer.body:  # bare: the ack; the bot: an answer in the ack
            shown[url] = time.time()

    started = time.monotonic()
    tasks = []
    for i in range(count):
        delay = started + i / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.ensure_future(one(i)))
    await asyncio.gather(*tasks)
    if fake is not None:
        deadline = time.monotonic() + DRAIN_SECONDS
        while True:
            await fake.send({"cmd": "seen"})
            seen = (await fake.read())["seen"]
            missing = [u for u in sent_at if u not in shown and u not in seen]
            if not missing or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.1)
        for url in sent_at:
            if url not in shown and url in seen:
                shown[url] = float(seen[url])
    waits = [shown[u] - sent_at[u] for u in sent_at if u in shown]
    return waits, failures, len(sent_at) - len(waits) - failures


async def run(scale: Scale) -> Outcome:
    users = people(scale.ack_concurrency)
    outcome = Outcome("steady")
    steps: list[Step] = []
    bare_steps: dict[int, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="cycles-bench-steady-") as tmp:
        async with worker("bench.slack_server", str(len(users))) as fake:
            where = await fake.read()
            remote = RemoteSlack(where["url"], where["team"], users)
            api = f"{where['url']}/api/"
            async with (
                worker("bench.ack_server", "bot", api, SECRET, tmp) as bot,
                worker("bench.ack_server", "bare", api, SECRET, tmp) as bare,
            ):
                bot_url = f"http://127.0.0.1:{(await bot.read())['port']}"
                bare_url = f"http://127.0.0.1:{(await bare.read())['port']}"
                as_fake = cast(FakeSlack, remote)
                async with (
                    SlackDriver(as_fake, bot_url, SECRET) as to_bot,
                    SlackDriver(as_fake, bare_url, SECRET) as to_bare,
                ):
                    await setup(fake, to_bot)
                    started = await to_bot.slash(ADMIN, SMALL_CHANNEL, "round start for 2d")
                    if started.status != 200:
                        raise RuntimeError(f"round start was refused: {started.body[:200]}")
                    await asyncio.sleep(1.0)  # its two prompts go out
                    # People the bot knows: a first command from someone is a profile read
                    # from Slack and a member created, which the first timed step would pay.
                    for user in users:
                        await to_bot.slash(user, CHANNEL, "help")
                    for rate in scale.steady_rates:
                        bare_waits, _, _ = await open_loop(
                            to_bare,
                            None,
                            users,
                            CHANNEL,
                            "help",
                            rate,
                            scale.steady_seconds,
                            where["url"],
                        )
                        bare_steps[rate] = bare_waits
                        for name, (channel, text) in COMMANDS.items():
                            waits, failures, unanswered = await open_loop(
                                to_bot,
                                fake,
                                users,
                                channel,
                                text,
                                rate,
                                scale.steady_seconds,
                                where["url"],
                            )
                            steps.append(Step(name, rate, waits, failures, unanswered))
    outcome.rows = rows(steps, bare_steps)
    outcome.details = {
        "steps": [
            {
                "command": s.command,
                "rate": s.rate,
                "answered": len(s.waits),
                "failures": s.failures,
                "unanswered": s.unanswered,
                "p50_ms": round(1000 * percentile(s.waits, 50), 2),
                "p99_ms": round(1000 * percentile(s.waits, 99), 2),
            }
            for s in steps
        ],
        "bare": {
            str(rate): {
                "p50_ms": round(1000 * percentile(w, 50), 2),
                "p99_ms": round(1000 * percentile(w, 99), 2),
            }
            for rate, w in bare_steps.items()
        },
        "seconds_per_step": scale.steady_seconds,
    }
    return outcome


def p99_ms(step: Step) -> float:
    if step.failures or step.unanswered or not step.waits:
        return float("inf")
    return 1000 * percentile(step.waits, 99)


def rows(steps: list[Step], bare: dict[int, list[float]]) -> list[Row]:
    out: list[Row] = []
    label = "(bare bolt acks at that rate)"
    for step in steps:
        base50 = 1000 * percentile(bare[step.rate], 50)
        base99 = 1000 * percentile(bare[step.rate], 99)
        p50 = 1000 * percentile(step.waits, 50) if step.waits else float("nan")
        p99 = 1000 * percentile(step.waits, 99) if step.waits else float("nan")
        where = f"{step.command} at {step.rate}/s"
        lost = step.failures + step.unanswered
        note = f"{lost} not answered within {DRAIN_SECONDS:.0f} s" if lost else ""
        out.append(
            Row(
                "steady",
                f"{where}: p50 until answered",
                p50,
                "ms",
                base50,
                label,
                ratio(p50, base50),
            )
        )
        out.append(
            Row(
                "steady",
                f"{where}: p99 until answered",
                p99,
                "ms",
                base99,
                label,
                ratio(p99, base99),
                note=note,
            )
        )
    for command, wanted in TARGET_RATES.items():
        mine = [s for s in steps if s.command == command]
        ok = [s.rate for s in mine if p99_ms(s) <= TARGET_MS]
        best = float(max(ok)) if ok else 0.0
        out.append(
            Row(
                "steady",
                f"{command}: highest rate with p99 under {TARGET_MS:.0f} ms",
                best,
                "per s",
                target=f">= {wanted}/s",
                met=best >= wanted,
                note=f"of {', '.join(str(s.rate) for s in mine)}",
            )
        )
    return out
