"""A fake Bot Connector (the Teams REST service) on loopback, and a client that speaks only the
Bot Framework protocol to the bot's /api/messages.

Every activity the fake sends names it as its `serviceUrl`, so the real SDK's outbound calls come
here. It serves what the adapter uses:

- POST /v3/conversations: a personal chat (`isGroup: false`, one member) or a new channel post
  (`isGroup: true`, `channelData.channel.id`, the first `activity`), answering `{id, activityId}`;
  a channel post's thread is the conversation `{channel};messageid={root}`.
- POST /v3/conversations/{id}/activities and …/activities/{activityId}: send or reply.
- PUT /v3/conversations/{id}/activities/{activityId}: update a card.
- GET /v3/conversations/{id}/pagedmembers (pages; no continuationToken on the last),
  …/members, and GET /v3/teams/{id}/conversations.
- 429 with Retry-After for the next N sends to a person (`throttle`), and 403
  MessageWritesBlocked for people who blocked the bot (`blocked`).

Every request is recorded (`calls`) and every message posted (`posts`), so tests count what the
bot did, as the Slack and Discord fakes do."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

from tests.support.fake_slack import Bucket

TENANT = "tenant-1"
BOT_ID = "28:learning-cycles"
TEAM_CHANNEL = "19:general@thread.tacv2"
THREAD = ";messageid="


@dataclass
class Call:
    method: str
    path: str
    status: int
    body: Any = None


@dataclass
class Posted:
    conversation: str
    id: str
    activity: dict[str, Any]
    user: str | None = None  # the person, when the conversation is a personal chat
    updates: list[dict[str, Any]] = field(default_factory=list)

    @property
    def card(self) -> dict[str, Any]:
        """The latest Adaptive Card (after updates), or {}."""
        latest = self.updates[-1] if self.updates else self.activity
        for attachment in latest.get("attachments") or []:
            if attachment.get("contentType") == "application/vnd.microsoft.card.adaptive":
                return dict(attachment["content"])
        return {}

    @property
    def text(self) -> str:
        """Every TextBlock of the latest card, one a line (or the activity's text)."""
        blocks = [str(e.get("text", "")) for e in walk(self.card.get("body") or [])]
        shown = [b for b in blocks if b]
        latest = self.updates[-1] if self.updates else self.activity
        return "\n".join(shown) if shown else str(latest.get("text") or "")

    @property
    def activity_text(self) -> str:
        """The text of the card as first posted."""
        first = Posted(self.conversation, self.id, self.activity)
        return first.text

    @property
    def actions(self) -> list[dict[str, Any]]:
        return list(self.card.get("actions") or [])

    @property
    def inputs(self) -> list[dict[str, Any]]:
        return [e for e in walk(self.card.get("body") or []) if str(e["type"]).startswith("Input.")]

    @property
    def thread_root(self) -> str | None:
        """The root post's id when this is a reply in a channel thread."""
        _, _, root = self.conversation.partition(THREAD)
        return root or None


def walk(elements: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for element in elements:
        out.append(element)
        out.extend(walk(element.get("items") or []))
    return out


class FakeConnector:
    def __init__(self, *, page_size: int = 10, limit: tuple[float, int] | None = None) -> None:
        """`limit`: (rate a second, burst) for every write by the app in the tenant, answered
        429 with Retry-After past it: Teams' documented per-app, per-tenant limit."""
        self.page_size = page_size
        self._bucket = Bucket(*limit) if limit else None
        self.calls: list[Call] = []
        self.posts: list[Posted] = []
        self.rosters: dict[str, list[dict[str, Any]]] = {}
        self.names: dict[str, str] = {}
        self.chats: dict[str, str] = {}  # conversation id -> person
        self.cards_to: Counter[str] = Counter()  # person -> messages posted to them
        self.opened: Counter[str] = Counter()  # person -> personal chats opened
        self.throttle: dict[str, int] = {}  # person -> sends still to answer with 429
        self.retry_after = "0"
        self.throttle_roster = 0  # roster reads still to answer with 429
        self.blocked: set[str] = set()
        # After this many messages to people, hold the next ones until `release` (a send under
        # way when the bot stops); released ones fail with 503: Teams never posted them.
        self.hold_after: int | None = None
        self.held = 0
        self._release = asyncio.Event()
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.url = ""

    # --- set-up ------------------------------------------------------------------------------

    def add_team(self, channel: str, people: list[str], *, bots: tuple[str, ...] = ()) -> None:
        roster = [{"id": p, "name": self.names.get(p, p), "tenantId": TENANT} for p in people]
        roster += [{"id": b, "name": "Some Bot"} for b in bots]
        self.rosters[channel] = roster

    def name(self, user: str, display: str) -> None:
        self.names[user] = display

    async def start(self) -> FakeConnector:
        app = web.Application()
        app.router.add_post("/v3/conversations", self._create)
        app.router.add_post("/v3/conversations/{cid}/activities", self._send)
        app.router.add_post("/v3/conversations/{cid}/activities/{aid}", self._send)
        app.router.add_put("/v3/conversations/{cid}/activities/{aid}", self._update)
        app.router.add_get("/v3/conversations/{cid}/pagedmembers", self._paged)
        app.router.add_get("/v3/conversations/{cid}/pagedMembers", self._paged)
        app.router.add_get("/v3/conversations/{cid}/members", self._members)
        app.router.add_get("/v3/teams/{tid}/conversations", self._channels)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self._runner = runner
        self.url = f"http://127.0.0.1:{runner.addresses[0][1]}/"
        return self

    def release(self) -> None:
        self._release.set()

    async def stop(self) -> None:
        self._release.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # --- what the bot did --------------------------------------------------------------------

    def calls_to(self, method: str, suffix: str = "") -> list[Call]:
        return [c for c in self.calls if c.method == method and c.path.endswith(suffix)]

    def to_person(self, user: str) -> list[Posted]:
        return [p for p in self.posts if p.user == user]

    def in_channel(self, channel: str) -> list[Posted]:
        return [p for p in self.posts if p.conversation.split(THREAD)[0] == channel]

    def find(self, activity_id: str) -> Posted:
        return next(p for p in self.posts if p.id == activity_id)

    # --- handlers ----------------------------------------------------------------------------

    def _record(self, request: web.Request, status: int, body: Any = None) -> None:
        self.calls.append(Call(request.method, request.path, status, body))

    def _over_limit(self, request: web.Request) -> web.Response | None:
        wait = self._bucket.take() if self._bucket is not None else 0.0
        if not wait:
            return None
        self._record(request, 429)
        return web.json_response(
            {"error": {"code": "TooManyRequests"}},
            status=429,
            headers={"Retry-After": f"{wait:.3f}"},
        )

    def _refused(self, request: web.Request, user: str | None) -> web.Response | None:
        limited = self._over_limit(request)
        if limited is not None:
            return limited
        if user is None:
            return None
        if user in self.blocked:
            self._record(request, 403)
            body = {"error": {"code": "MessageWritesBlocked", "message": "Thread is blocked"}}
            return web.json_response(body, status=403)
        if self.throttle.get(user, 0) > 0:
            self.throttle[user] -= 1
            self._record(request, 429)
            return web.json_response(
                {"error": {"code": "TooManyRequests"}},
                status=429,
                headers={"Retry-After": self.retry_after},
            )
        return None

    async def _create(self, request: web.Request) -> web.Response:
        body = await request.json()
        limited = self._over_limit(request)
        if limited is not None:
            return limited
        if body.get("isGroup"):
            channel = ((body.get("channelData") or {}).get("channel") or {}).get("id")
            if channel not in self.rosters:
                self._record(request, 404, body)
                return web.json_response({"error": {"code": "NotFound"}}, status=404)
            root = f"{next(self._ids)}"
            conversation = f"{channel}{THREAD}{root}"
            self.posts.append(Posted(conversation, root, dict(body.get("activity") or {})))
            self._record(request, 201, body)
            return web.json_response({"id": conversation, "activityId": root}, status=201)
        [member] = body.get("members") or [{}]
        user = str(member.get("id") or "")
        if not user or (body.get("bot") or {}).get("id") != BOT_ID:
            self._record(request, 400, body)
            return web.json_response({"error": {"code": "BadArgument"}}, status=400)
        if user in self.blocked:
            self._record(request, 403)
            return web.json_response({"error": {"code": "MessageWritesBlocked"}}, status=403)
        conversation = f"a:chat-{user}"
        self.chats[conversation] = user
        self.opened[user] += 1
        self._record(request, 201, body)
        return web.json_response({"id": conversation}, status=201)

    async def _send(self, request: web.Request) -> web.Response:
        conversation = request.match_info["cid"]
        user = self.chats.get(conversation)
        if user is None and conversation.split(THREAD)[0] not in self.rosters:
            self._record(request, 404)
            return web.json_response({"error": {"code": "ConversationNotFound"}}, status=404)
        refused = self._refused(request, user)
        if refused is not None:
            return refused
        activity = await request.json()
        holding = user is not None and self.hold_after is not None
        if holding and len([p for p in self.posts if p.user]) >= (self.hold_after or 0):
            self.held += 1
            await self._release.wait()
            self._record(request, 503)
            return web.json_response({"error": {"code": "ServiceUnavailable"}}, status=503)
        posted = Posted(conversation, f"{next(self._ids)}", activity, user)
        self.posts.append(posted)
        if user:
            self.cards_to[user] += 1
        self._record(request, 201, activity)
        return web.json_response({"id": posted.id}, status=201)

    async def _update(self, request: web.Request) -> web.Response:
        activity = await request.json()
        found = [p for p in self.posts if p.id == request.match_info["aid"]]
        if not found:
            self._record(request, 404, activity)
            return web.json_response({"error": {"code": "NotFound"}}, status=404)
        found[0].updates.append(activity)
        self._record(request, 200, activity)
        return web.json_response({"id": found[0].id})

    def _roster(self, conversation: str) -> list[dict[str, Any]]:
        return self.rosters.get(conversation.split(THREAD)[0], [])

    async def _paged(self, request: web.Request) -> web.Response:
        if self.throttle_roster > 0:
            self.throttle_roster -= 1
            self._record(request, 429)
            return web.json_response({}, status=429, headers={"Retry-After": self.retry_after})
        roster = self._roster(request.match_info["cid"])
        size = int(request.query.get("pageSize") or self.page_size)
        size = min(size, self.page_size)
        start = int(request.query.get("continuationToken") or 0)
        page: dict[str, Any] = {"members": roster[start : start + size]}
        if start + size < len(roster):
            page["continuationToken"] = str(start + size)  # absent on the last page
        self._record(request, 200)
        return web.json_response(page)

    async def _members(self, request: web.Request) -> web.Response:
        self._record(request, 200)
        return web.json_response(self._roster(request.match_info["cid"]))

    async def _channels(self, request: web.Request) -> web.Response:
        self._record(request, 200)
        team = request.match_info["tid"]
        return web.json_response({"conversations": [{"id": team, "name": "General"}]})


class TeamsClient:
    """What Teams itself sends the bot: messages (with an @mention in a channel), and card
    submissions, each as an activity POSTed to /api/messages."""

    def __init__(self, fake: FakeConnector, bot_url: str, *, token: str | None = None) -> None:
        self.fake = fake
        self.bot_url = bot_url.rstrip("/") + "/api/messages"
        self.token = token
        self._ids = itertools.count(1)
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> TeamsClient:
        self._session = aiohttp.ClientSession()
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()

    def _activity(self, user: str, conversation: dict[str, Any], **extra: Any) -> dict[str, Any]:
        return {
            "type": "message",
            "id": f"in-{next(self._ids)}",
            "channelId": "msteams",
            "serviceUrl": self.fake.url,
            "from": {"id": user, "name": self.fake.names.get(user, user)},
            "recipient": {"id": BOT_ID, "name": "Learning Cycles"},
            "conversation": {"tenantId": TENANT, **conversation},
            "channelData": {"tenant": {"id": TENANT}},
            **extra,
        }

    def in_channel(self, user: str, text: str, channel: str = TEAM_CHANNEL) -> dict[str, Any]:
        """A message in a channel that @mentions the bot (Teams sends it as a new thread)."""
        mention = "<at>Learning Cycles</at>"
        activity = self._activity(
            user,
            {"id": f"{channel}{THREAD}m{next(self._ids)}", "conversationType": "channel"},
            text=f"{mention} {text}",
            entities=[
                {"type": "mention", "text": mention, "mentioned": {"id": BOT_ID, "name": "LC"}}
            ],
        )
        activity["channelData"]["channel"] = {"id": channel, "name": "General"}
        activity["channelData"]["team"] = {"id": channel}
        return activity

    def personal(self, user: str, text: str) -> dict[str, Any]:
        """A message in the personal chat (Teams made the chat when the app was installed)."""
        self.fake.chats[f"a:chat-{user}"] = user
        return self._activity(
            user, {"id": f"a:chat-{user}", "conversationType": "personal"}, text=text
        )

    def submit(self, user: str, card: Posted, value: dict[str, Any]) -> dict[str, Any]:
        """Action.Submit on `card`: a message with `value` and no text, replying to the card."""
        return self._activity(
            user,
            {"id": card.conversation, "conversationType": "personal"},
            value=value,
            replyToId=card.id,
        )

    async def invoke(self, activity: dict[str, Any]) -> tuple[int, Any]:
        """POST an invoke activity; its status and the invoke response's body."""
        assert self._session is not None
        async with self._session.post(self.bot_url, json=activity) as response:
            body = await response.json() if response.content_length else None
            return response.status, body

    async def post(self, activity: dict[str, Any], *, token: str | None = None) -> int:
        assert self._session is not None
        headers = {}
        if token or self.token:
            headers["Authorization"] = f"Bearer {token or self.token}"
        async with self._session.post(
            self.bot_url,
            data=json.dumps(activity),
            headers={"Content-Type": "application/json", **headers},
        ) as response:
            await response.read()
            return response.status
