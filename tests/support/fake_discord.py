"""A local fake of Discord: the REST API and the gateway, on loopback, for the real discord.py.

The gateway says HELLO, takes IDENTIFY, answers with READY and a GUILD_CREATE per server (with
its channels, roles and members), acknowledges heartbeats, answers member-chunk requests, and
dispatches INTERACTION_CREATE payloads that tests build with `slash`, `click`, `choose`,
`submit` and `autocomplete`. The REST side records every call (`calls`) and answers like
Discord: DM channels, messages (with `enforce_nonce` dedupe), threads, interaction callbacks and
follow-ups, command registration; `rate_limit` and `fail` make it answer 429 (with the real
X-RateLimit-* and Retry-After headers) or a Discord error code; `hold` keeps a request waiting."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

API = "/api/v10"
EPOCH = "2026-01-01T00:00:00.000000+00:00"
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
MANAGE_GUILD = 1 << 5
ADMINISTRATOR = 1 << 3
GUILD_MEMBERS = 1 << 1  # the privileged intent
MEMBER_PERMISSIONS = VIEW_CHANNEL | SEND_MESSAGES | (1 << 6) | (1 << 16) | (1 << 38)


@dataclass
class Call:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    status: int = 200


@dataclass
class Rule:
    """Answer the next `times` matching requests with `status` (and a body/headers)."""

    match: Callable[[str, str, Any], bool]
    times: int
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class FakeGuild:
    id: int
    name: str
    owner_id: int
    channels: list[dict[str, Any]] = field(default_factory=list)
    roles: list[dict[str, Any]] = field(default_factory=list)
    members: list[dict[str, Any]] = field(default_factory=list)

    def payload(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "name": self.name,
            "owner_id": str(self.owner_id),
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "features": [],
            "premium_tier": 0,
            "preferred_locale": "en-US",
            "nsfw_level": 0,
            "large": False,
            "unavailable": False,
            "member_count": len(self.members),
            "roles": self.roles,
            "channels": self.channels,
            "members": self.members,
            "threads": [],
            "emojis": [],
            "stickers": [],
            "voice_states": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
            "joined_at": EPOCH,
            "system_channel_id": None,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "vanity_url_code": None,
            "description": None,
            "banner": None,
            "application_id": None,
            "system_channel_flags": 0,
        }


def user(user_id: int, name: str, *, bot: bool = False) -> dict[str, Any]:
    return {
        "id": str(user_id),
        "username": name.lower(),
        "global_name": name,
        "discriminator": "0",
        "avatar": None,
        "bot": bot,
        "public_flags": 0,
    }


class FakeDiscord:
    def __init__(self, token: str = "test-token") -> None:
        self.token = token
        self._ids = itertools.count(1_300_000_000_000_000_000)
        self.app_id = self.next_id()
        self.bot = user(self.app_id, "Cycles", bot=True)
        self.guilds: dict[int, FakeGuild] = {}
        self.calls: list[Call] = []
        self.rules: list[Rule] = []
        self.holds: list[tuple[Callable[[str, str, Any], bool], asyncio.Event]] = []
        self.messages: dict[int, list[dict[str, Any]]] = {}  # channel id -> messages
        self.dm_channels: dict[int, int] = {}  # user id -> DM channel id
        self.threads: dict[int, int] = {}  # thread id -> parent channel id
        self.commands: dict[str, list[dict[str, Any]]] = {}  # scope -> registered commands
        self.callbacks: dict[int, dict[str, Any]] = {}  # interaction id -> callback body
        self.followups: dict[str, list[dict[str, Any]]] = {}  # token -> follow-up messages
        self.originals: dict[str, dict[str, Any]] = {}  # token -> the original response
        self.identifies: list[dict[str, Any]] = []
        # Whether the application may use the Server Members intent (a portal switch).
        self.members_intent_enabled = True
        # False: GUILD_CREATE leaves members out, as for a large server; chunks bring them.
        self.members_in_guild_create = True
        self.chunk_requests: list[dict[str, Any]] = []
        self.sockets: list[tuple[web.WebSocketResponse, int]] = []  # (socket, shard id)
        self._nonces: dict[tuple[int, str], dict[str, Any]] = {}
        self._seq = itertools.count(1)
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.port = 0

    # --- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/gateway", self._gateway)
        app.router.add_route("*", API + "/{tail:.*}", self._rest)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server: Any = site._server
        self.port = int(server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        for _, release in self.holds:
            release.set()
        for ws, _ in list(self.sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}{API}"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    def next_id(self) -> int:
        return next(self._ids)

    # --- world ---------------------------------------------------------------------------------

    def add_guild(
        self, name: str = "Learning", members: int = 0, guild_id: int | None = None
    ) -> FakeGuild:
        guild_id = guild_id or self.next_id()
        owner = self.next_id()
        guild = FakeGuild(guild_id, name, owner)
        guild.roles.append(self.role_payload(guild_id, "@everyone", MEMBER_PERMISSIONS, guild_id))
        self.add_member(guild, "Owner", user_id=owner)
        guild.members.append({**self.member_payload(self.bot)})
        for n in range(members):
            self.add_member(guild, f"Member{n + 1}")
        self.guilds[guild_id] = guild
        return guild

    def role_payload(
        self, guild_id: int, name: str, permissions: int, role_id: int | None = None
    ) -> dict[str, Any]:
        return {
            "id": str(role_id or self.next_id()),
            "name": name,
            "permissions": str(permissions),
            "position": 0 if name == "@everyone" else 1,
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "managed": False,
            "mentionable": False,
            "icon": None,
            "unicode_emoji": None,
            "flags": 0,
        }

    def add_role(self, guild: FakeGuild, name: str, permissions: int = 0) -> int:
        role = self.role_payload(guild.id, name, permissions)
        guild.roles.append(role)
        return int(role["id"])

    def member_payload(self, u: dict[str, Any], roles: list[int] | None = None) -> dict[str, Any]:
        return {
            "user": u,
            "nick": None,
            "avatar": None,
            "roles": [str(r) for r in roles or []],
            "joined_at": EPOCH,
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "pending": False,
            "flags": 0,
            "communication_disabled_until": None,
        }

    def add_member(
        self,
        guild: FakeGuild,
        name: str,
        *,
        user_id: int | None = None,
        roles: list[int] | None = None,
        bot: bool = False,
    ) -> int:
        uid = user_id or self.next_id()
        guild.members.append(self.member_payload(user(uid, name, bot=bot), roles))
        return uid

    def add_channel(
        self, guild: FakeGuild, name: str, overwrites: list[dict[str, Any]] | None = None
    ) -> int:
        channel_id = self.next_id()
        guild.channels.append(
            {
                "id": str(channel_id),
                "type": 0,
                "guild_id": str(guild.id),
                "name": name,
                "position": len(guild.channels),
                "permission_overwrites": overwrites or [],
                "nsfw": False,
                "parent_id": None,
                "topic": None,
                "last_message_id": None,
                "rate_limit_per_user": 0,
                "flags": 0,
            }
        )
        self.messages.setdefault(channel_id, [])
        return channel_id

    def humans(self, guild: FakeGuild) -> list[int]:
        return [int(m["user"]["id"]) for m in guild.members if not m["user"].get("bot")]

    def member(self, guild: FakeGuild, user_id: int) -> dict[str, Any]:
        return next(m for m in guild.members if int(m["user"]["id"]) == user_id)

    def channel(self, guild: FakeGuild, channel_id: int) -> dict[str, Any]:
        return next(c for c in guild.channels if int(c["id"]) == channel_id)

    # --- failures ------------------------------------------------------------------------------

    def rate_limit(
        self,
        match: Callable[[str, str, Any], bool],
        *,
        times: int = 1,
        retry_after: float = 0.05,
        is_global: bool = False,
    ) -> None:
        """429 the next `times` matching requests, with Discord's headers and body."""
        headers = {
            "Retry-After": str(max(1, round(retry_after))),
            "X-RateLimit-Limit": "5",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset-After": f"{retry_after:.3f}",
            "X-RateLimit-Bucket": "fakebucket",
            "X-RateLimit-Scope": "global" if is_global else "user",
            "Via": "1.1 google",
        }
        if is_global:
            headers["X-RateLimit-Global"] = "true"
        body = {"message": "You are being rate limited.", "retry_after": retry_after}
        body["global"] = is_global
        self.rules.append(Rule(match, times, 429, body, headers))

    def fail(
        self,
        match: Callable[[str, str, Any], bool],
        *,
        status: int,
        code: int,
        message: str,
        times: int = 1,
    ) -> None:
        self.rules.append(Rule(match, times, status, {"message": message, "code": code}))

    def hold(self, match: Callable[[str, str, Any], bool]) -> asyncio.Event:
        """Matching requests are recorded (and acted on) but answered only once the event is set."""
        release = asyncio.Event()
        self.holds.append((match, release))
        return release

    # --- what was sent -------------------------------------------------------------------------

    def dms(self, user_id: int) -> list[dict[str, Any]]:
        channel = self.dm_channels.get(user_id)
        return list(self.messages.get(channel, [])) if channel is not None else []

    def posts(self, channel_id: int) -> list[dict[str, Any]]:
        return list(self.messages.get(channel_id, []))

    def thread_of(self, message_id: int) -> list[dict[str, Any]]:
        return list(self.messages.get(message_id, []))

    def requests(self, method: str, fragment: str) -> list[Call]:
        return [c for c in self.calls if c.method == method and fragment in c.path]

    async def wait_for(self, predicate: Callable[[], bool], within: float = 10.0) -> None:
        async def until() -> None:
            async with self._changed:
                await self._changed.wait_for(predicate)

        await asyncio.wait_for(until(), within)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    def answers(self, interaction_id: int) -> list[dict[str, Any]]:
        """Everything the person saw in answer to an interaction: the callback's message (or
        the edited placeholder) and every follow-up."""
        token = f"token-{interaction_id}"
        out: list[dict[str, Any]] = []
        callback = self.callbacks.get(interaction_id)
        if token in self.originals:
            if not self.originals[token].get("deleted"):
                out.append(self.originals[token])
        elif callback is not None and callback.get("type") in (4, 7):
            out.append(callback.get("data") or {})
        out.extend(self.followups.get(token, []))
        return out

    def answer_text(self, interaction_id: int) -> str:
        parts = []
        for message in self.answers(interaction_id):
            parts.append(message.get("content") or "")
            for embed in message.get("embeds") or []:
                parts.append(f"{embed.get('title', '')}\n{embed.get('description', '')}")
        return "\n".join(p for p in parts if p)

    # --- interactions --------------------------------------------------------------------------

    def _base(
        self, kind: int, data: dict[str, Any], user_id: int, guild: FakeGuild | None, channel: int
    ) -> dict[str, Any]:
        interaction_id = self.next_id()
        payload: dict[str, Any] = {
            "id": str(interaction_id),
            "application_id": str(self.app_id),
            "type": kind,
            "data": data,
            "token": f"token-{interaction_id}",
            "version": 1,
            "locale": "en-GB",
            "app_permissions": str(MEMBER_PERMISSIONS),
            "attachment_size_limit": 10 * 1024 * 1024,
            "entitlements": [],
            "channel_id": str(channel),
        }
        if guild is not None:
            member = self.member(guild, user_id)
            payload |= {
                "guild_id": str(guild.id),
                "guild_locale": "en-GB",
                "context": 0,
                "authorizing_integration_owners": {"0": str(guild.id)},
                "channel": self.channel(guild, channel),
                "member": {**member, "permissions": str(self.permissions(guild, user_id))},
            }
        else:
            u = self._user(user_id)
            payload |= {
                "context": 1,
                "authorizing_integration_owners": {"0": "0"},
                "channel": {"id": str(channel), "type": 1, "recipients": [u]},
                "user": u,
            }
        return payload

    def _user(self, user_id: int) -> dict[str, Any]:
        for guild in self.guilds.values():
            for m in guild.members:
                if int(m["user"]["id"]) == user_id:
                    return dict(m["user"])
        return user(user_id, f"user{user_id}")

    def permissions(self, guild: FakeGuild, user_id: int) -> int:
        if user_id == guild.owner_id:
            return (1 << 41) - 1
        member = self.member(guild, user_id)
        value = int(guild.roles[0]["permissions"])
        for role in guild.roles[1:]:
            if role["id"] in member["roles"]:
                value |= int(role["permissions"])
        return value

    def _options(
        self, definition: dict[str, Any], path: list[str], values: dict[str, Any], focus: str
    ) -> list[dict[str, Any]]:
        """Nested options for `path` under the registered command, typed as registered."""
        if not path:
            known = {o["name"]: o for o in definition.get("options", [])}
            out = []
            for name, value in values.items():
                option = {"name": name, "type": known[name]["type"], "value": value}
                if name == focus:
                    option["focused"] = True
                out.append(option)
            return out
        sub = next(o for o in definition.get("options", []) if o["name"] == path[0])
        return [
            {
                "name": sub["name"],
                "type": sub["type"],
                "options": self._options(sub, path[1:], values, focus),
            }
        ]

    def command_data(
        self, path: list[str], values: dict[str, Any] | None = None, focus: str = ""
    ) -> dict[str, Any]:
        definition = next(c for cs in self.commands.values() for c in cs if c["name"] == "cycles")
        return {
            "id": str(definition["id"]),
            "name": "cycles",
            "type": 1,
            "options": self._options(definition, path, values or {}, focus),
        }

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        for ws, _ in list(self.sockets):
            if not ws.closed:
                await ws.send_json({"op": 0, "t": event, "s": next(self._seq), "d": data})

    async def _interact(self, payload: dict[str, Any]) -> int:
        await self.dispatch("INTERACTION_CREATE", payload)
        return int(payload["id"])

    async def slash(
        self,
        guild: FakeGuild,
        channel: int,
        user_id: int,
        path: str,
        values: dict[str, Any] | None = None,
    ) -> int:
        data = self.command_data(path.split(), values)
        return await self._interact(self._base(2, data, user_id, guild, channel))

    async def autocomplete(
        self, guild: FakeGuild, channel: int, user_id: int, path: str, option: str, typed: str
    ) -> int:
        data = self.command_data(path.split(), {option: typed}, focus=option)
        return await self._interact(self._base(4, data, user_id, guild, channel))

    async def click(
        self,
        custom_id: str,
        user_id: int,
        channel: int,
        guild: FakeGuild | None = None,
        message: dict[str, Any] | None = None,
        *,
        payload: dict[str, Any] | None = None,
    ) -> int:
        """A button press (or replay `payload`, an earlier interaction, as it was)."""
        if payload is None:
            data = {"custom_id": custom_id, "component_type": 2}
            payload = self._base(3, data, user_id, guild, channel)
            if message is not None:
                payload["message"] = message
        return await self._interact(payload)

    async def choose(
        self,
        custom_id: str,
        values: list[str],
        user_id: int,
        channel: int,
        guild: FakeGuild | None = None,
    ) -> int:
        data = {"custom_id": custom_id, "component_type": 3, "values": values}
        return await self._interact(self._base(3, data, user_id, guild, channel))

    async def submit(
        self,
        custom_id: str,
        values: dict[str, str],
        user_id: int,
        channel: int,
        guild: FakeGuild | None = None,
    ) -> int:
        rows = [
            {"type": 1, "components": [{"type": 4, "custom_id": cid, "value": value}]}
            for cid, value in values.items()
        ]
        data = {"custom_id": custom_id, "components": rows}
        return await self._interact(self._base(5, data, user_id, guild, channel))

    async def answered(self, interaction_id: int, count: int = 1, within: float = 10.0) -> None:
        """Wait until the interaction has a callback and `count` visible answers in all."""

        def done() -> bool:
            callback = self.callbacks.get(interaction_id)
            if callback is None:
                return False
            if callback["type"] in (6, 8, 9):  # deferred update, autocomplete, modal
                return True
            return len(self.answers(interaction_id)) >= count and (
                callback["type"] != 5
                or f"token-{interaction_id}" in self.originals
                or bool(self.followups.get(f"token-{interaction_id}"))
            )

        await self.wait_for(done, within)

    # --- gateway -------------------------------------------------------------------------------

    async def _gateway(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_json({"op": 10, "d": {"heartbeat_interval": 41250}})
        shard = 0
        entry: tuple[web.WebSocketResponse, int] | None = None
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                data = json.loads(msg.data)
                op = data.get("op")
                if op == 1:
                    await ws.send_json({"op": 11})
                elif op == 2:
                    self.identifies.append(data["d"])
                    intents = int(data["d"].get("intents", 0))
                    if intents & GUILD_MEMBERS and not self.members_intent_enabled:
                        await ws.close(code=4014, message=b"Disallowed intent(s).")
                        break
                    shard_info = data["d"].get("shard") or [0, 1]
                    shard = shard_info[0]
                    entry = (ws, shard)
                    self.sockets.append(entry)
                    await self._ready(ws, shard_info, intents)
                    await self._notify()
                elif op == 6:
                    entry = (ws, shard)
                    self.sockets.append(entry)
                    await ws.send_json({"op": 0, "t": "RESUMED", "s": next(self._seq), "d": {}})
                elif op == 8:
                    await self._chunk(ws, data["d"])
        finally:
            if entry in self.sockets:
                self.sockets.remove(entry)
        return ws

    def _shard_guilds(self, shard: list[int]) -> list[FakeGuild]:
        shard_id, count = shard
        return [g for g in self.guilds.values() if (g.id >> 22) % count == shard_id]

    async def _ready(self, ws: web.WebSocketResponse, shard: list[int], intents: int) -> None:
        guilds = self._shard_guilds(shard)
        ready = {
            "v": 10,
            "user": self.bot,
            "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
            "session_id": f"session-{self.next_id()}",
            "resume_gateway_url": self.gateway_url,
            "application": {"id": str(self.app_id), "flags": 0},
            "shard": shard,
        }
        await ws.send_json({"op": 0, "t": "READY", "s": next(self._seq), "d": ready})
        for guild in guilds:
            payload = guild.payload()
            # Without the intent Discord sends only the bot; a large server sends some and
            # leaves the rest to chunk requests.
            if not intents & GUILD_MEMBERS or not self.members_in_guild_create:
                payload["members"] = [
                    m for m in payload["members"] if m["user"]["id"] == self.bot["id"]
                ]
            await ws.send_json({"op": 0, "t": "GUILD_CREATE", "s": next(self._seq), "d": payload})

    async def _chunk(self, ws: web.WebSocketResponse, data: dict[str, Any]) -> None:
        self.chunk_requests.append(data)
        guild = self.guilds[int(data["guild_id"])]
        chunk = {
            "guild_id": str(guild.id),
            "members": guild.members,
            "chunk_index": 0,
            "chunk_count": 1,
            "nonce": data.get("nonce"),
        }
        await ws.send_json({"op": 0, "t": "GUILD_MEMBERS_CHUNK", "s": next(self._seq), "d": chunk})

    # --- REST ----------------------------------------------------------------------------------

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["tail"]
        body = await self._body(request)
        call = Call(request.method, path, dict(request.query), body)
        self.calls.append(call)
        try:
            if request.headers.get("Authorization") != f"Bot {self.token}" and not path.startswith(
                ("/interactions/", "/webhooks/")
            ):
                return self._json(call, {"message": "401: Unauthorized", "code": 0}, 401)
            for rule in self.rules:
                if rule.times > 0 and rule.match(request.method, path, body):
                    rule.times -= 1
                    return self._json(call, rule.body, rule.status, rule.headers)
            response = await self._handle(call)
            for match, release in self.holds:
                if match(request.method, path, body):
                    await self._notify()
                    await release.wait()
            return response
        finally:
            await self._notify()

    async def _body(self, request: web.Request) -> Any:
        if request.content_type == "multipart/form-data":
            reader = await request.multipart()
            payload: dict[str, Any] = {}
            files = []
            async for part in reader:
                if part.name == "payload_json":  # type: ignore[union-attr]
                    payload = json.loads(await part.text())  # type: ignore[union-attr]
                else:
                    await part.read()  # type: ignore[union-attr]
                    files.append(part.filename)  # type: ignore[union-attr]
            payload["_files"] = files
            return payload
        text = await request.text()
        return json.loads(text) if text else None

    def _json(
        self,
        call: Call,
        data: Any,
        status: int = 200,
        headers: dict[str, str] | None = None,
    ) -> web.Response:
        call.status = status
        if status == 204:
            return web.Response(status=204)
        # discord.py reads JSON only when the type is exactly application/json, as Discord sends.
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        return web.Response(body=json.dumps(data).encode(), status=status, headers=all_headers)

    def _message(
        self, channel_id: int, body: dict[str, Any], author: dict[str, Any]
    ) -> dict[str, Any]:
        message_id = self.next_id()
        return {
            "id": str(message_id),
            "channel_id": str(channel_id),
            "author": author,
            "content": body.get("content") or "",
            "timestamp": EPOCH,
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [
                {
                    "id": str(self.next_id()),
                    "filename": name,
                    "size": 1,
                    "url": f"https://cdn.invalid/{name}",
                    "proxy_url": f"https://cdn.invalid/{name}",
                    # The alt text discord.py sends in payload_json's attachment list.
                    "description": next(
                        (
                            a.get("description")
                            for a in body.get("attachments") or []
                            if a.get("filename") == name
                        ),
                        None,
                    ),
                }
                for name in body.get("_files", [])
            ],
            "embeds": body.get("embeds") or [],
            "components": body.get("components") or [],
            "pinned": False,
            "type": 0,
            "flags": body.get("flags", 0),
            "nonce": body.get("nonce"),
        }

    async def _handle(self, call: Call) -> web.Response:
        method, path, body = call.method, call.path, call.body
        parts = path.strip("/").split("/")
        if (method, path) == ("GET", "/gateway/bot"):
            limit = {"total": 1000, "remaining": 1000, "reset_after": 0, "max_concurrency": 1}
            return self._json(
                call, {"url": self.gateway_url, "shards": 1, "session_start_limit": limit}
            )
        if (method, path) == ("GET", "/users/@me"):
            return self._json(call, self.bot)
        if (method, path) == ("GET", "/oauth2/applications/@me"):
            return self._json(call, self._application())
        if method == "PUT" and parts[0] == "applications":
            scope = parts[3] if len(parts) > 3 else "global"
            registered = [{**c, "id": str(self.next_id()), "version": "1"} for c in body]
            registered = [{**c, "application_id": str(self.app_id)} for c in registered]
            self.commands[scope] = registered
            return self._json(call, registered)
        if (method, path) == ("POST", "/users/@me/channels"):
            recipient = int(body["recipient_id"])
            channel_id = self.dm_channels.setdefault(recipient, self.next_id())
            self.messages.setdefault(channel_id, [])
            return self._json(
                call, {"id": str(channel_id), "type": 1, "recipients": [self._user(recipient)]}
            )
        if method == "POST" and parts[0] == "channels" and parts[2:] == ["messages"]:
            return self._post_message(call, int(parts[1]), body)
        if method == "POST" and parts[0] == "channels" and parts[-1] == "threads":
            return self._start_thread(call, int(parts[1]), int(parts[3]), body)
        if method == "POST" and parts[0] == "interactions":
            return self._callback(call, int(parts[1]), parts[2], body)
        if parts[0] == "webhooks":
            return self._webhook(call, parts[2], parts[3:], body)
        return self._json(call, {"message": "404: Not Found", "code": 0}, 404)

    def _application(self) -> dict[str, Any]:
        return {
            "id": str(self.app_id),
            "name": "Cycles",
            "icon": None,
            "description": "",
            "rpc_origins": [],
            "bot_public": True,
            "bot_require_code_grant": False,
            "owner": user(self.next_id(), "Owner"),
            "summary": "",
            "verify_key": "0" * 64,
            "team": None,
            "flags": 0,
            "bot": self.bot,
        }

    def _post_message(self, call: Call, channel_id: int, body: dict[str, Any]) -> web.Response:
        if channel_id not in self.messages:
            return self._json(call, {"message": "Unknown Channel", "code": 10003}, 404)
        nonce = body.get("nonce")
        if nonce and body.get("enforce_nonce"):
            seen = self._nonces.get((channel_id, nonce))
            if seen is not None:  # Discord returns the message it already has
                return self._json(call, seen)
        message = self._message(channel_id, body, self.bot)
        self.messages[channel_id].append(message)
        if nonce:
            self._nonces[(channel_id, nonce)] = message
        headers = {
            "X-RateLimit-Limit": "50",
            "X-RateLimit-Remaining": "49",
            "X-RateLimit-Reset-After": "0.001",
            "X-RateLimit-Bucket": f"messages-{channel_id}",
        }
        return self._json(call, message, 200, headers)

    def _start_thread(
        self, call: Call, channel_id: int, message_id: int, body: dict[str, Any]
    ) -> web.Response:
        if message_id in self.threads:
            return self._json(
                call, {"message": "A thread has already been created", "code": 160004}, 400
            )
        self.threads[message_id] = channel_id
        self.messages.setdefault(message_id, [])
        guild_id = next(
            (g.id for g in self.guilds.values() for c in g.channels if int(c["id"]) == channel_id),
            0,
        )
        thread = {
            "id": str(message_id),
            "type": 11,
            "guild_id": str(guild_id),
            "parent_id": str(channel_id),
            "owner_id": str(self.app_id),
            "name": body["name"],
            "last_message_id": None,
            "rate_limit_per_user": 0,
            "message_count": 0,
            "member_count": 1,
            "flags": 0,
            "thread_metadata": {
                "archived": False,
                "auto_archive_duration": body.get("auto_archive_duration", 1440),
                "archive_timestamp": EPOCH,
                "locked": False,
            },
        }
        return self._json(call, thread, 201)

    def _callback(
        self, call: Call, interaction_id: int, token: str, body: dict[str, Any]
    ) -> web.Response:
        if interaction_id in self.callbacks:
            error = {"message": "Interaction has already been acknowledged.", "code": 40060}
            return self._json(call, error, 400)
        self.callbacks[interaction_id] = body
        kind = body["type"]
        data = body.get("data") or {}
        message = None
        if kind in (4, 5, 7):
            message = self._message(0, data, self.bot)
            self.originals.pop(token, None)
        interaction = {
            "id": str(interaction_id),
            "type": 2,
            "response_message_id": message["id"] if message else None,
            "response_message_loading": kind == 5,
            "response_message_ephemeral": bool((data.get("flags") or 0) & 64),
        }
        resource: dict[str, Any] = {"type": kind}
        if message is not None:
            resource["message"] = message
        return self._json(call, {"interaction": interaction, "resource": resource})

    def _webhook(
        self, call: Call, token: str, rest: list[str], body: dict[str, Any] | None
    ) -> web.Response:
        if call.method == "POST" and not rest:
            message = self._message(0, body or {}, self.bot)
            self.followups.setdefault(token, []).append(message)
            return self._json(call, message)
        if rest == ["messages", "@original"]:
            if call.method == "PATCH":
                message = self._message(0, body or {}, self.bot)
                self.originals[token] = message
                return self._json(call, message)
            if call.method == "DELETE":
                self.originals[token] = {"content": "", "deleted": True}
                return self._json(call, None, 204)
        return self._json(call, {"message": "Unknown Webhook", "code": 10015}, 404)
