"""A local Slack for tests: the Web API (aiohttp on 127.0.0.1, a random port) that records every
call and answers like Slack does, the response_url and file-upload endpoints, a Socket Mode
WebSocket, and `SlackDriver`, which plays Slack's side towards the bot: it signs requests with
the real SignatureVerifier and sends slash commands, button clicks, modal submissions and
events to the bot's /slack/events.

Slack's behaviour modelled here: cursor pagination, `ok: false` errors, Block Kit limits
(50 blocks a message, 3,000 characters a section, 24 a modal title), trigger ids that expire
after 3 seconds, 429 with Retry-After, and (when `rate_limits` is on) Slack's rate tiers."""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web
from slack_sdk.signature import SignatureVerifier

# Slack's published tiers, per method and per workspace: (calls per minute).
TIER_1, TIER_2, TIER_3, TIER_4 = 1, 20, 50, 100
METHOD_TIERS = {
    "auth.test": TIER_4,
    "apps.connections.open": TIER_1 * 60,
    "conversations.members": TIER_4,
    "conversations.open": TIER_3,
    "users.conversations": TIER_3,
    "users.info": TIER_4,
    "users.list": TIER_2,
    "usergroups.users.list": TIER_2,
    "chat.postEphemeral": TIER_4,
    "chat.update": TIER_3,
    "views.open": TIER_4,
    "views.update": TIER_4,
    "views.publish": TIER_4,
    "files.getUploadURLExternal": TIER_4,
    "files.completeUploadExternal": TIER_4,
}
# chat.postMessage is "special": about one a second per channel with short bursts, and "several
# hundred a minute" per workspace.
POST_PER_CHANNEL = (1.0, 3)
POST_PER_WORKSPACE = (300 / 60, 50)
TRIGGER_SECONDS = 3.0


class Bucket:
    """A token bucket: `burst` calls at once, refilled at `rate` a second."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate, self.burst = rate, burst
        self.tokens = burst
        self.at = time.monotonic()

    def take(self) -> float:
        """0 when a call may go ahead now, else the seconds until it may."""
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    status: int = 200
    error: str | None = None


@dataclass
class Posted:
    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]]
    thread_ts: str | None = None
    user: str | None = None  # set for ephemeral posts
    metadata: dict[str, Any] | None = None  # chat.postMessage `metadata`

    def buttons(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for block in self.blocks:
            if block.get("type") == "actions":
                found.extend(e for e in block["elements"] if e.get("type") == "button")
            elif block.get("accessory", {}).get("type") == "button":
                found.append(block["accessory"])
        return found


@dataclass
class OpenedView:
    id: str
    trigger_id: str
    view: dict[str, Any]
    hash: str = field(default_factory=lambda: uuid.uuid4().hex[:10])


def _error(code: str) -> dict[str, Any]:
    return {"ok": False, "error": code}


class FakeSlack:
    def __init__(
        self,
        *,
        bot_token: str = "xoxb-test-token",
        app_token: str = "xapp-test-token",
        team: str = "T0001",
        bot_user: str = "UBOT",
        page_size: int = 100,
        rate_limits: bool = False,
        retry_after: int = 1,
    ) -> None:
        self.bot_token, self.app_token = bot_token, app_token
        self.team, self.bot_user = team, bot_user
        self.page_size = page_size
        self.rate_limits = rate_limits
        self.retry_after = retry_after
        self.users: dict[str, dict[str, Any]] = {}
        self.channels: dict[str, list[str]] = {}
        self.usergroups: dict[str, list[str]] = {}
        self.calls: list[Call] = []
        self.posts: list[Posted] = []
        self.updates: list[dict[str, Any]] = []
        self.views: list[OpenedView] = []
        self.published: list[dict[str, Any]] = []
        self.responses: list[dict[str, Any]] = []  # posts to response URLs
        self.uploads: dict[str, dict[str, Any]] = {}
        self.dm_of: dict[str, str] = {}
        # Fault injection.
        self.ratelimit_dms: dict[str, int] = {}  # user -> chat.postMessage 429s still to give
        self.fail_dms: dict[str, str] = {}  # user -> permanent error code for their DM
        self.respond_status = 200  # what every response URL answers
        self.respond_drops = 0  # this many response-URL posts lose their connection first
        self.hold_dms_after: int | None = None  # hold DM posts after this many went through
        self.outage: dict[str, int] = {}  # method -> HTTP 500s still to give
        self.unreadable: set[str] = set()  # channels whose history needs a missing scope
        self.held = 0
        self.post_released = False
        self._release = asyncio.Event()
        self._triggers: dict[str, tuple[str, float]] = {}
        self._buckets: dict[str, Bucket] = {}
        self._ts = itertools.count(1)
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self._sockets: list[web.WebSocketResponse] = []
        self._acks: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self.port = 0

    # --- setup ------------------------------------------------------------------------------

    def add_user(
        self,
        user_id: str,
        name: str,
        *,
        admin: bool = False,
        owner: bool = False,
        tz: str | None = "Europe/London",
        bot: bool = False,
        deleted: bool = False,
    ) -> dict[str, Any]:
        user = {
            "id": user_id,
            "team_id": self.team,
            "name": name.lower(),
            "real_name": name,
            "deleted": deleted,
            "is_bot": bot,
            "is_admin": admin,
            "is_owner": owner,
            "is_app_user": False,
            "tz": tz,
            "profile": {"display_name": name, "real_name": name},
        }
        self.users[user_id] = user
        return user

    def add_channel(self, channel_id: str, members: list[str]) -> None:
        self.channels[channel_id] = list(members)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    async def start(self) -> FakeSlack:
        app = web.Application(client_max_size=20 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/respond/{rid}", self._respond)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_get("/socket", self._socket)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(runner.addresses[0][1])
        self._runner = runner
        return self

    async def stop(self) -> None:
        self.release()
        for ws in self._sockets:
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    def release(self, *, post: bool = False) -> None:
        """Let held DM posts go: posted normally, or (by default) refused with a 503."""
        self.post_released = post
        self._release.set()

    # --- what tests read --------------------------------------------------------------------

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def dms_to(self, user_id: str) -> list[Posted]:
        channel = self.dm_of.get(user_id)
        return [p for p in self.posts if channel and p.channel == channel and not p.thread_ts]

    def dm_users(self) -> dict[str, int]:
        """user -> number of top-level DMs they received."""
        owners = {channel: user for user, channel in self.dm_of.items()}
        counts: dict[str, int] = {}
        for post in self.posts:
            if post.channel in owners and not post.thread_ts and post.user is None:
                user = owners[post.channel]
                counts[user] = counts.get(user, 0) + 1
        return counts

    def in_channel(self, channel: str) -> list[Posted]:
        return [p for p in self.posts if p.channel == channel and p.user is None]

    def new_trigger(self, user_id: str) -> str:
        trigger = f"{next(self._ids)}.{uuid.uuid4().hex[:12]}"
        self._triggers[trigger] = (user_id, time.monotonic())
        return trigger

    def response_url(self) -> str:
        return f"{self.url}/respond/{uuid.uuid4().hex[:12]}"

    # --- the Web API ------------------------------------------------------------------------

    async def _args(self, request: web.Request) -> dict[str, Any]:
        args: dict[str, Any] = dict(request.query)
        if request.method == "POST" and request.can_read_body:
            if request.content_type == "application/json":
                args.update(await request.json())
            else:
                args.update(dict(await request.post()))
        return args

    def _authorised(self, request: web.Request, args: dict[str, Any], method: str) -> bool:
        header = request.headers.get("Authorization", "")
        token = header.removeprefix("Bearer ").strip() or str(args.get("token", ""))
        wanted = self.app_token if method == "apps.connections.open" else self.bot_token
        return token == wanted

    def _limited(self, method: str, args: dict[str, Any]) -> float:
        if not self.rate_limits:
            return 0.0
        keys: list[tuple[str, float, float]] = []
        if method == "chat.postMessage":
            keys.append(("post:workspace", *POST_PER_WORKSPACE))
            keys.append((f"post:{args.get('channel')}", *POST_PER_CHANNEL))
        elif method in METHOD_TIERS:
            per_minute = METHOD_TIERS[method]
            keys.append((method, per_minute / 60, per_minute))
        wait = 0.0
        for key, rate, burst in keys:
            bucket = self._buckets.setdefault(key, Bucket(rate, burst))
            wait = max(wait, bucket.take())
        return wait

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = await self._args(request)
        call = Call(method, {k: v for k, v in args.items() if k != "token"})
        self.calls.append(call)
        if not self._authorised(request, args, method):
            call.error = "invalid_auth"
            return web.json_response(_error("invalid_auth"))
        wait = self._limited(method, args)
        if wait > 0:
            return self._too_many(call, wait)
        if self.outage.get(method, 0) > 0:
            self.outage[method] -= 1
            call.status, call.error = 500, "internal_error"
            return web.Response(status=500, text="upstream trouble")
        handler = getattr(self, "_m_" + method.replace(".", "_"), None)
        if handler is None:
            call.error = "unknown_method"
            return web.json_response(_error("unknown_method"))
        result = await handler(args, call)
        if isinstance(result, web.Response):
            return result
        if not result.get("ok", True):
            call.error = result.get("error")
        return web.json_response({"ok": True, **result} if "ok" not in result else result)

    def _too_many(self, call: Call, wait: float) -> web.Response:
        call.status, call.error = 429, "ratelimited"
        seconds = max(1, math.ceil(wait))
        return web.json_response(
            {"ok": False, "error": "ratelimited"},
            status=429,
            headers={"Retry-After": str(seconds)},
        )

    def _page(self, items: list[Any], args: dict[str, Any]) -> tuple[list[Any], str]:
        limit = min(int(args.get("limit") or self.page_size), self.page_size)
        start = int(args.get("cursor") or 0)
        chunk = items[start : start + limit]
        after = start + limit
        return chunk, (str(after) if after < len(items) else "")

    async def _m_auth_test(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        return {
            "url": "https://fake.slack.test/",
            "team": "Fake",
            "user": "learning-cycles",
            "team_id": self.team,
            "user_id": self.bot_user,
            "bot_id": "BBOT",
        }

    async def _m_apps_connections_open(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        return {"url": f"ws://127.0.0.1:{self.port}/socket"}

    async def _m_conversations_members(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        channel = str(args.get("channel", ""))
        if channel not in self.channels:
            return _error("channel_not_found")
        members, cursor = self._page(self.channels[channel], args)
        return {"members": members, "response_metadata": {"next_cursor": cursor}}

    async def _m_users_info(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        user = self.users.get(str(args.get("user", "")))
        return {"user": user} if user else _error("user_not_found")

    async def _m_users_list(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        members, cursor = self._page(list(self.users.values()), args)
        return {"members": members, "response_metadata": {"next_cursor": cursor}}

    async def _m_usergroups_users_list(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        group = str(args.get("usergroup", ""))
        if group not in self.usergroups:
            return _error("no_such_subteam")
        return {"users": self.usergroups[group]}

    async def _m_conversations_open(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        user_id = str(args.get("users", ""))
        user = self.users.get(user_id)
        if user is None:
            return _error("user_not_found")
        if user["is_bot"]:
            return _error("cannot_dm_bot")
        if user["deleted"]:
            return _error("user_disabled")
        channel = self.dm_of.setdefault(user_id, f"D{user_id}")
        return {"channel": {"id": channel}}

    async def _m_users_conversations(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        if "im" not in str(args.get("types", "")):
            return {"channels": [], "response_metadata": {"next_cursor": ""}}
        ims = [{"id": d, "is_im": True, "user": u} for u, d in self.dm_of.items()]
        channels, cursor = self._page(ims, args)
        return {"channels": channels, "response_metadata": {"next_cursor": cursor}}

    def _check_blocks(self, blocks: Any, limit: int = 50) -> str | None:
        if isinstance(blocks, str):
            blocks = json.loads(blocks)
        if blocks is None:
            return None
        if len(blocks) > limit:
            return "invalid_blocks"
        for block in blocks:
            text = (block.get("text") or {}).get("text", "")
            if block.get("type") == "section" and len(text) > 3000:
                return "invalid_blocks"
            if block.get("type") == "actions" and len(block.get("elements", [])) > 25:
                return "invalid_blocks"
        return None

    def _owner(self, channel: str) -> str | None:
        # DM channels are "D" + the user id (see conversations.open).
        user = channel[1:] if channel.startswith("D") else ""
        return user if self.dm_of.get(user) == channel else None

    def _known_channel(self, channel: str) -> bool:
        return channel in self.channels or self._owner(channel) is not None

    async def _m_chat_postMessage(self, args: dict[str, Any], call: Call) -> Any:
        channel = str(args.get("channel", ""))
        if not self._known_channel(channel):
            return _error("channel_not_found")
        if (problem := self._check_blocks(args.get("blocks"))) is not None:
            return _error(problem)
        owner = self._owner(channel)
        thread_ts = args.get("thread_ts") or None
        if owner is not None and not thread_ts:
            if owner in self.fail_dms:
                return _error(self.fail_dms[owner])
            if self.ratelimit_dms.get(owner, 0) > 0:
                self.ratelimit_dms[owner] -= 1
                return self._too_many(call, self.retry_after)
            sent = sum(self.dm_users().values())
            if self.hold_dms_after is not None and sent >= self.hold_dms_after:
                self.held += 1
                await self._release.wait()
                if not self.post_released:
                    call.status, call.error = 503, "held"
                    return web.json_response(
                        {"ok": False, "error": "service_unavailable"}, status=503
                    )
        return {"channel": channel, "ts": self._post(channel, args, thread_ts)}

    def _post(self, channel: str, args: dict[str, Any], thread_ts: str | None) -> str:
        n = next(self._ts)
        ts = f"{1700000000 + n}.{n:06d}"
        blocks = args.get("blocks") or []
        if isinstance(blocks, str):
            blocks = json.loads(blocks)
        metadata = args.get("metadata")
        if isinstance(metadata, str):
            metadata = json.loads(metadata)
        text = str(args.get("text", ""))
        self.posts.append(Posted(channel, ts, text, blocks, thread_ts, metadata=metadata))
        return ts

    async def _m_conversations_history(self, args: dict[str, Any], call: Call) -> Any:
        """Newest first; metadata only with include_all_metadata, as Slack does."""
        channel = str(args.get("channel", ""))
        if not self._known_channel(channel):
            return _error("channel_not_found")
        if channel in self.unreadable:
            return _error("missing_scope")
        limit = int(args.get("limit") or 100)
        with_metadata = str(args.get("include_all_metadata", "")).lower() in ("1", "true")
        found = [p for p in self.posts if p.channel == channel and p.user is None][::-1]
        messages = []
        for post in found[:limit]:
            message: dict[str, Any] = {"type": "message", "ts": post.ts, "text": post.text}
            if post.thread_ts:
                message["thread_ts"] = post.thread_ts
            if with_metadata and post.metadata:
                message["metadata"] = post.metadata
            messages.append(message)
        return {"messages": messages, "has_more": len(found) > limit}

    async def _m_chat_postEphemeral(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        channel = str(args.get("channel", ""))
        if not self._known_channel(channel):
            return _error("channel_not_found")
        blocks = args.get("blocks") or []
        if isinstance(blocks, str):
            blocks = json.loads(blocks)
        post = Posted(channel, "", str(args.get("text", "")), blocks, user=str(args.get("user")))
        self.posts.append(post)
        return {"message_ts": f"{1700000000 + next(self._ts)}.000000"}

    async def _m_chat_update(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        channel, ts = str(args.get("channel", "")), str(args.get("ts", ""))
        for post in self.posts:
            if post.channel == channel and post.ts == ts:
                blocks = args.get("blocks") or []
                post.blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
                post.text = str(args.get("text", post.text))
                self.updates.append(args)
                return {"channel": channel, "ts": ts}
        return _error("message_not_found")

    def _check_view(self, view: Any) -> tuple[dict[str, Any] | None, str | None]:
        if isinstance(view, str):
            view = json.loads(view)
        if len((view.get("title") or {}).get("text", "")) > 24:
            return None, "invalid_arguments"
        if self._check_blocks(view.get("blocks"), limit=100) is not None:
            return None, "invalid_arguments"
        return view, None

    async def _m_views_open(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        trigger = str(args.get("trigger_id", ""))
        issued = self._triggers.pop(trigger, None)
        if issued is None or time.monotonic() - issued[1] > TRIGGER_SECONDS:
            return _error("expired_trigger_id")
        view, problem = self._check_view(args.get("view"))
        if view is None:
            return _error(problem or "invalid_arguments")
        opened = OpenedView(f"V{next(self._ids):05d}", trigger, view)
        self.views.append(opened)
        return {"view": {**view, "id": opened.id, "hash": opened.hash}}

    async def _m_views_publish(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        view, problem = self._check_view(args.get("view"))
        if view is None:
            return _error(problem or "invalid_arguments")
        self.published.append({"user_id": args.get("user_id"), "view": view})
        return {"view": {**view, "id": f"V{next(self._ids):05d}"}}

    async def _m_files_getUploadURLExternal(
        self, args: dict[str, Any], call: Call
    ) -> dict[str, Any]:
        file_id = f"F{next(self._ids):05d}"
        self.uploads[file_id] = {
            "filename": args.get("filename"),
            "length": args.get("length"),
            "alt_txt": args.get("alt_txt"),
        }
        return {"upload_url": f"{self.url}/upload/{file_id}", "file_id": file_id}

    async def _m_files_completeUploadExternal(
        self, args: dict[str, Any], call: Call
    ) -> dict[str, Any]:
        files = args.get("files")
        files = json.loads(files) if isinstance(files, str) else files or []
        done = []
        for item in files:
            upload = self.uploads.get(item["id"])
            if upload is None or "bytes" not in upload:
                return _error("file_not_found")
            upload.update(channel=args.get("channel_id"), thread_ts=args.get("thread_ts"))
            done.append({"id": item["id"], "title": item.get("title")})
        return {"files": done}

    async def _upload(self, request: web.Request) -> web.Response:
        file_id = request.match_info["file_id"]
        if file_id not in self.uploads:
            return web.Response(status=404)
        self.uploads[file_id]["bytes"] = len(await request.read())
        return web.Response(text="OK - " + file_id)

    async def _respond(self, request: web.Request) -> web.Response:
        body = await request.json()
        if self.respond_drops > 0:  # the connection drops before any answer
            self.respond_drops -= 1
            assert request.transport is not None
            request.transport.close()
            return web.Response()
        if self.respond_status != 200:  # an expired or refused response URL
            return web.Response(status=self.respond_status, text="expired_url")
        self.responses.append({"url": str(request.url), **body})
        return web.Response(text="ok")

    # --- Socket Mode ------------------------------------------------------------------------

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.append(ws)
        await ws.send_json({"type": "hello", "num_connections": 1, "debug_info": {}})
        async for msg in ws:
            if msg.type == aiohttp.WSMsgType.TEXT:
                data = json.loads(msg.data)
                future = self._acks.pop(str(data.get("envelope_id")), None)
                if future is not None and not future.done():
                    future.set_result(data)
        return ws

    async def connected(self, within: float = 5.0) -> None:
        deadline = time.monotonic() + within
        while not [ws for ws in self._sockets if not ws.closed]:
            if time.monotonic() > deadline:
                raise AssertionError("the bot did not connect to the Socket Mode endpoint")
            await asyncio.sleep(0.02)

    async def envelope(
        self, kind: str, payload: dict[str, Any], *, within: float = 5.0
    ) -> dict[str, Any]:
        """Send one Socket Mode envelope; returns the bot's acknowledgement."""
        await self.connected()
        ws = [ws for ws in self._sockets if not ws.closed][-1]
        envelope_id = uuid.uuid4().hex
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._acks[envelope_id] = future
        await ws.send_json(
            {
                "envelope_id": envelope_id,
                "type": kind,
                "payload": payload,
                "accepts_response_payload": kind != "events_api",
                "retry_attempt": 0,
                "retry_reason": "",
            }
        )
        return await asyncio.wait_for(future, within)


@dataclass
class Sent:
    status: int
    body: str
    seconds: float

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


class SlackDriver:
    """Slack's side of the conversation with the bot's /slack/events endpoint."""

    def __init__(self, fake: FakeSlack, bot_url: str, signing_secret: str) -> None:
        self.fake = fake
        self.url = bot_url.rstrip("/") + "/slack/events"
        self.signing_secret = signing_secret
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> SlackDriver:
        self._session = aiohttp.ClientSession()
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()

    def sign(self, body: str, timestamp: int | None = None) -> dict[str, str]:
        ts = str(int(time.time()) if timestamp is None else timestamp)
        signature = SignatureVerifier(self.signing_secret).generate_signature(
            timestamp=ts, body=body
        )
        return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature or ""}

    async def post(
        self,
        body: str,
        content_type: str,
        *,
        headers: dict[str, str] | None = None,
        timestamp: int | None = None,
    ) -> Sent:
        assert self._session is not None, "use `async with SlackDriver(...)`"
        signed = self.sign(body, timestamp)
        all_headers = {"Content-Type": content_type, **signed, **(headers or {})}
        started = time.monotonic()
        async with self._session.post(self.url, data=body, headers=all_headers) as response:
            text = await response.text()
            return Sent(response.status, text, time.monotonic() - started)

    async def slash(self, user: str, channel: str, text: str, **extra: str) -> Sent:
        form = {
            "token": "legacy",
            "team_id": self.fake.team,
            "team_domain": "fake",
            "channel_id": channel,
            "channel_name": "directmessage" if channel.startswith("D") else channel.lower(),
            "user_id": user,
            "user_name": self.fake.users.get(user, {}).get("name", user),
            "command": "/cycles",
            "text": text,
            "api_app_id": "A0001",
            "response_url": self.fake.response_url(),
            "trigger_id": self.fake.new_trigger(user),
            **extra,
        }
        sent = await self.post(urllib.parse.urlencode(form), "application/x-www-form-urlencoded")
        self.shown_from_ack(sent, form["response_url"])
        return sent

    def shown_from_ack(self, sent: Sent, response_url: str) -> None:
        """An acknowledgement with a message in its body: Slack shows it as it shows a post to
        the response URL, so it is recorded with those (its url says where it came from)."""
        if sent.status != 200 or not sent.body.startswith("{"):
            return
        body = sent.json()
        if isinstance(body, dict) and ("text" in body or "blocks" in body):
            self.fake.responses.append({"url": "ack", "response_url": response_url, **body})

    async def interactive(self, payload: dict[str, Any]) -> Sent:
        body = urllib.parse.urlencode({"payload": json.dumps(payload)})
        return await self.post(body, "application/x-www-form-urlencoded")

    def click_payload(self, user: str, post: Posted, index: int = 0) -> dict[str, Any]:
        button = post.buttons()[index]
        return {
            "type": "block_actions",
            "team": {"id": self.fake.team, "domain": "fake"},
            "user": {"id": user, "team_id": self.fake.team, "name": user.lower()},
            "api_app_id": "A0001",
            "trigger_id": self.fake.new_trigger(user),
            "response_url": self.fake.response_url(),
            "container": {"type": "message", "message_ts": post.ts, "channel_id": post.channel},
            "channel": {"id": post.channel, "name": "directmessage"},
            "message": {"ts": post.ts, "text": post.text, "blocks": post.blocks},
            "actions": [
                {
                    "type": "button",
                    "action_id": button["action_id"],
                    "block_id": "b1",
                    "value": button["value"],
                    "text": button["text"],
                    "action_ts": str(time.time()),
                }
            ],
        }

    async def click(self, user: str, post: Posted, index: int = 0) -> Sent:
        return await self.interactive(self.click_payload(user, post, index))

    async def submit(self, user: str, opened: OpenedView, values: dict[str, str]) -> Sent:
        """Fill the modal's inputs (others keep their initial values) and submit it."""
        state: dict[str, dict[str, Any]] = {}
        for block in opened.view["blocks"]:
            if block.get("type") != "input":
                continue
            element = block["element"]
            name = block["block_id"]
            if element["type"] == "static_select":
                chosen = values.get(name)
                option = element.get("initial_option")
                if chosen is not None:
                    option = next(o for o in element["options"] if o["value"] == chosen)
                state[name] = {"value": {"type": "static_select", "selected_option": option}}
            else:
                value = values.get(name, element.get("initial_value"))
                state[name] = {"value": {"type": element["type"], "value": value or None}}
        view = {
            **opened.view,
            "id": opened.id,
            "hash": opened.hash,
            "team_id": self.fake.team,
            "state": {"values": state},
        }
        payload = {
            "type": "view_submission",
            "team": {"id": self.fake.team, "domain": "fake"},
            "user": {"id": user, "team_id": self.fake.team, "name": user.lower()},
            "api_app_id": "A0001",
            "trigger_id": self.fake.new_trigger(user),
            "view": view,
        }
        return await self.interactive(payload)

    async def event(
        self,
        event: dict[str, Any],
        event_id: str,
        *,
        retry: int | None = None,
        timestamp: int | None = None,
    ) -> Sent:
        body = json.dumps(
            {
                "token": "legacy",
                "team_id": self.fake.team,
                "api_app_id": "A0001",
                "event": event,
                "type": "event_callback",
                "event_id": event_id,
                "event_time": int(time.time()),
                "authorizations": [
                    {"team_id": self.fake.team, "user_id": self.fake.bot_user, "is_bot": True}
                ],
            }
        )
        headers = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
        return await self.post(
            body, "application/json", headers=headers if retry else None, timestamp=timestamp
        )
