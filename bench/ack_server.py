"""A Slack HTTP-mode server in its own process, for the acknowledgement benchmark:

    python -m bench.ack_server bot  <api_url> <signing_secret> <data_dir> [<database_url>]
    python -m bench.ack_server bare <api_url> <signing_secret> <data_dir>

`bot` is the bot built through the composition root (bot.app.build_app) with its SlackAdapter in
HTTP mode; `bare` is a slack-bolt AsyncApp whose only listener acknowledges /cycles, served by
bolt's own aiohttp app. Both print {"port": …} once they listen, and stop when stdin closes."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

from bench.procs import memory


async def serve_bot(
    api_url: str, secret: str, data_dir: Path, database_url: str = ""
) -> tuple[int, Any]:
    """The bot as `cycles run` runs it (bot.app.serve), with its SlackAdapter in HTTP mode."""
    from bot.app import build_app, serve
    from bot.config import load_settings
    from integrations.slack.adapter import SlackAdapter

    env = {
        "CYCLES_CONFIG": "none",
        "CYCLES_DATA_DIR": str(data_dir),
        "SLACK_BOT_TOKEN": "xoxb-test-token",
        "SLACK_SIGNING_SECRET": secret,
        "SLACK_API_URL": api_url,
        "CYCLES_SLACK__MODE": "http",
        "CYCLES_SLACK__HTTP_HOST": "127.0.0.1",
        "CYCLES_SLACK__HTTP_PORT": "0",
        "CYCLES_OPS__HOST": "127.0.0.1",
        "CYCLES_OPS__PORT": "0",
        "CYCLES_BOT__LOG_LEVEL": "WARNING",
    }
    if database_url:  # else SQLite, in data_dir
        env["CYCLES_DATABASE_URL"] = database_url
    if shared := os.environ.get("CYCLES_BENCH_SHARED_PORT"):  # one of several replicas
        env |= {"CYCLES_BOT__SHARE_PORTS": "true", "CYCLES_SLACK__HTTP_PORT": shared}
    settings = load_settings(path=None, env=env)
    app = await build_app(settings)
    adapter = SlackAdapter(app.port)
    app.add_adapter(adapter)
    ready = asyncio.Event()
    serving = asyncio.create_task(serve(app, on_ready=lambda _ops: ready.set()))
    await asyncio.wait({serving, asyncio.create_task(ready.wait())}, return_when="FIRST_COMPLETED")
    if serving.done():
        serving.result()  # it failed to start: raise why
    assert adapter.http is not None

    async def stop() -> None:
        os.kill(os.getpid(), signal.SIGTERM)  # as an orchestrator stops it
        await serving

    return adapter.http.port, stop


async def serve_bare(api_url: str, secret: str) -> tuple[int, Any]:
    from aiohttp import web
    from slack_bolt.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    bolt = AsyncApp(
        signing_secret=secret,
        client=AsyncWebClient(token="xoxb-test-token", base_url=api_url),
    )

    @bolt.command("/cycles")
    async def only_ack(ack: Any) -> None:
        await ack()

    runner = web.AppRunner(bolt.web_app(path="/slack/events"), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port = int(runner.addresses[0][1])
    return port, runner.cleanup


async def main(kind: str, api_url: str, secret: str, data_dir: Path, database_url: str) -> None:
    profiler = None
    if os.environ.get("CYCLES_BENCH_PROFILE"):  # where to write a pyinstrument profile
        from pyinstrument import Profiler

        profiler = Profiler(async_mode="disabled", interval=0.001)
        profiler.start()
    if kind == "bot":
        port, stop = await serve_bot(api_url, secret, data_dir, database_url)
    else:
        port, stop = await serve_bare(api_url, secret)
    print(json.dumps({"port": port, "pid": os.getpid()}), flush=True)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := await reader.readline():
        if b"memory" in line:
            print(json.dumps(memory(os.getpid())), flush=True)
    await stop()
    if profiler is not None:
        profiler.stop()
        with open(os.environ["CYCLES_BENCH_PROFILE"], "w", encoding="utf-8") as out:  # noqa: ASYNC230
            out.write(profiler.output_text(unicode=False, show_all=False))
            if os.environ.get("CYCLES_BENCH_PROFILE_FLAT"):
                from pyinstrument.renderers import ConsoleRenderer

                flat = ConsoleRenderer(unicode=False, flat=True, show_all=True)
                out.write(profiler.output(flat))


if __name__ == "__main__":
    database = sys.argv[5] if len(sys.argv) > 5 else ""
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], Path(sys.argv[4]), database))
