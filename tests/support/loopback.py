"""A platform over loopback for fault tests, in two halves.

`FakePlatform` runs in the test process: it lists channel members, takes posts and records every
one it accepted (so the record survives a bot process killed with SIGKILL), and, like Slack's
message metadata lookup, says whether a post with a given outbox key exists. It can hold the
answer to a post it has already accepted, to stop a bot exactly between "the platform took the
message" and "the row says sent".

`LoopbackAdapter` runs inside the bot process (tests/support/bot_process.py): the seam's four
calls over HTTP to the fake, `find_sent` for resumed sends, and an intake endpoint
(POST /command) that plays a member typing a command; its HTTP answer is the acknowledgement."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web

from bot.domain import Actor, ChannelRef, Form, MemberInfo, Message, Platform, Role
from bot.errors import DeliveryFailed, DeliveryRetry

if TYPE_CHECKING:
    from bot.app import App

WORKSPACE = "console"


def render(message: Message) -> str:
    parts = [message.text, *(f"{s.title}\n{s.text}" for s in message.sections)]
    return "\n\n".join(parts)


# --- the platform (test process) -----------------------------------------------------------


@dataclass
class Post:
    seq: int
    id: str
    key: str
    kind: str  # dm | channel
    target: str
    text: str
    at: str  # the test's label for "when" (e.g. the controllable clock's time)


@dataclass
class FakePlatform:
    members: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    posts: list[Post] = field(default_factory=list)
    hold_after: int | None = None  # accept, then never answer, every post after this many
    held: int = 0
    now: str = ""
    port: int = 0
    _release: asyncio.Event = field(default_factory=asyncio.Event)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def add_channel(self, channel: str, people: Sequence[tuple[str, str, str | None]]) -> None:
        self.members[channel] = [{"user": u, "name": n, "tz": tz} for u, n, tz in people]

    def posts_to(self, target: str) -> list[Post]:
        return [p for p in self.posts if p.target == target]

    def release(self) -> None:
        self.hold_after = None
        self._release.set()

    async def start(self) -> FakePlatform:
        app = web.Application()
        app.router.add_post("/post", self._post)
        app.router.add_get("/find", self._find)
        app.router.add_get("/members", self._members)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        self._runner = runner
        self.port = int(runner.addresses[0][1])
        return self

    async def close(self) -> None:
        self._release.set()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _post(self, request: web.Request) -> web.Response:
        body = await request.json()
        seq = len(self.posts) + 1
        post = Post(
            seq,
            f"m{next(self._ids)}",
            body["key"],
            body["kind"],
            body["target"],
            body["text"],
            self.now,
        )
        self.posts.append(post)  # accepted: from here on it is posted, answered or not
        if self.hold_after is not None and seq > self.hold_after:
            self.held += 1
            await self._release.wait()
            return web.json_response({"ok": False, "error": "held"}, status=503)
        return web.json_response({"ok": True, "id": post.id})

    async def _find(self, request: web.Request) -> web.Response:
        key = request.query["key"]
        found = next((p for p in self.posts if p.key == key), None)
        return web.json_response({"id": found.id if found else None})

    async def _members(self, request: web.Request) -> web.Response:
        return web.json_response(self.members.get(request.query["channel"], []))


# --- the adapter (bot process) -------------------------------------------------------------


class LoopbackAdapter:
    platform = Platform.CONSOLE

    def __init__(self, app: App, platform_url: str) -> None:
        self.app = app
        self.base = platform_url.rstrip("/")
        self.port = 0
        self._http: aiohttp.ClientSession | None = None
        self._runner: web.AppRunner | None = None
        self._accepting = False
        self._inflight = 0
        self._idle = asyncio.Event()
        self._idle.set()

    # --- the seam ---------------------------------------------------------------------------

    async def start(self) -> None:
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20))
        web_app = web.Application()
        web_app.router.add_post("/command", self._command)
        runner = web.AppRunner(web_app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        self._runner = runner
        self.port = int(runner.addresses[0][1])
        self._accepting = True

    async def stop(self) -> None:
        """Refuse new commands, let the acknowledged ones finish, then disconnect."""
        self._accepting = False
        await asyncio.wait_for(self._idle.wait(), 20)
        if self._runner is not None:
            await self._runner.cleanup()
        if self._http is not None:
            await self._http.close()

    async def send(self, to: ChannelRef, message: Message, *, key: str) -> str:
        body = {
            "key": key,
            "kind": "dm" if to.is_dm else "channel",
            "target": to.dm_user or to.channel,
            "text": render(message),
        }
        data = await self._call("POST", "/post", json=body)
        return str(data["id"])

    async def find_sent(self, to: ChannelRef, key: str) -> str | None:
        data = await self._call("GET", "/find", params={"key": key})
        return None if data["id"] is None else str(data["id"])

    async def channel_members(self, channel: ChannelRef) -> list[MemberInfo]:
        rows: Any = await self._call("GET", "/members", params={"channel": channel.channel})
        return [MemberInfo(r["user"], r["name"], r.get("tz")) for r in rows]

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        if self._http is None or self._http.closed:
            raise DeliveryRetry("the loopback adapter is stopped")
        try:
            async with self._http.request(method, self.base + path, **kwargs) as response:
                if response.status >= 500:
                    raise DeliveryRetry(f"platform error {response.status}")
                if response.status >= 400:
                    raise DeliveryFailed(f"platform refused: {response.status}")
                return await response.json()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise DeliveryRetry(f"connection: {type(exc).__name__}") from None

    # --- intake -----------------------------------------------------------------------------

    async def _command(self, request: web.Request) -> web.Response:
        if not self._accepting:
            return web.json_response({"error": "stopping"}, status=503)
        self._inflight += 1
        self._idle.clear()
        try:
            body = await request.json()
            user = str(body["user"])
            actor = Actor(
                Platform.CONSOLE,
                WORKSPACE,
                user,
                str(body.get("name") or user),
                body.get("tz"),
                Role[str(body.get("role", "member")).upper()],
            )
            if body.get("dm"):
                channel = ChannelRef(Platform.CONSOLE, WORKSPACE, user, dm_user=user)
            else:
                channel = ChannelRef(Platform.CONSOLE, WORKSPACE, str(body["channel"]))
            result = await self.app.dispatcher.handle(
                actor,
                channel,
                str(body["text"]),
                fields=body.get("fields"),
                source_key=body.get("source_key"),
            )
            if isinstance(result, Form):
                return web.json_response({"kind": "form", "text": result.title})
            return web.json_response({"kind": "reply", "text": render(result.message)})
        finally:
            self._inflight -= 1
            if self._inflight == 0:
                self._idle.set()
