"""Slack users -> Actors and MemberInfos, with a small cache so a busy channel costs few calls.

Roles from Slack: workspace owners and admins are admins of the bot (so facilitators with nothing
configured); members of the user group in `slack.facilitator_usergroup` are facilitators. The
ids in `bot.facilitators` / `bot.leaders` are applied by the core (members.effective_role)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.domain import Actor, MemberInfo, Platform, Role
from bot.errors import UserError
from integrations.common.cache import BoundedCache
from integrations.slack.web import error_code

USER_TTL_SECONDS = 15 * 60
GROUP_TTL_SECONDS = 5 * 60
# Users remembered at once: a big workspace's least recently seen are looked up again.
USER_CACHE = 20_000
# Past this many unknown users, one users.list page (200 people, Tier 2) beats 200 users.info
# calls (Tier 4): a 1,000-member channel costs a handful of calls instead of a thousand.
BULK_THRESHOLD = 50
LOOKUP_CONCURRENCY = 8
PAGE_LIMIT = 200
SLACKBOT = "USLACKBOT"

User = dict[str, Any]


def display_name(user: User) -> str:
    profile = user.get("profile") or {}
    for value in (
        profile.get("display_name"),
        profile.get("real_name"),
        user.get("real_name"),
        user.get("name"),
    ):
        if value:
            return str(value)
    return str(user.get("id", "someone"))


def timezone_of(user: User) -> str | None:
    tz = user.get("tz") or (user.get("profile") or {}).get("tz")
    return str(tz) if tz else None


def is_person(user: User) -> bool:
    """A human with an active account: no bots, apps, Slackbot or deactivated users."""
    return not (
        user.get("id") == SLACKBOT
        or user.get("is_bot")
        or user.get("is_app_user")
        or user.get("deleted")
    )


def platform_role(user: User) -> Role:
    if user.get("is_owner") or user.get("is_primary_owner") or user.get("is_admin"):
        return Role.ADMIN
    return Role.MEMBER


def member_info(user: User) -> MemberInfo:
    return MemberInfo(str(user["id"]), display_name(user), timezone_of(user))


class Directory:
    """users.info / users.list / usergroups.users.list behind a time-limited cache."""

    def __init__(
        self,
        settings: Settings,
        client: Callable[[], AsyncWebClient],
        *,
        clock: Callable[[], float] = time.monotonic,
        capacity: int = USER_CACHE,
    ) -> None:
        self.settings = settings
        self._client = client
        self._clock = clock
        self._users: BoundedCache[str, User] = BoundedCache(
            capacity, ttl=USER_TTL_SECONDS, clock=clock
        )
        self._group: tuple[float, frozenset[str]] | None = None
        self._lock = asyncio.Lock()

    def _cached(self, user_id: str) -> User | None:
        return self._users.get(user_id)

    def remember(self, user: User) -> None:
        if user.get("id"):
            self._users.put(str(user["id"]), user)

    async def user(self, user_id: str) -> User | None:
        """The user's record (cached); None when Slack does not know them."""
        cached = self._cached(user_id)
        if cached is not None:
            return cached
        try:
            response = await self._client().users_info(user=user_id)
        except SlackApiError as exc:
            if exc.response.status_code == 200:  # user_not_found and the like
                return None
            raise
        user = dict(response["user"])
        self.remember(user)
        return user

    async def users(self, user_ids: Iterable[str]) -> dict[str, User]:
        """Records for many users: users.list pages for a big unknown set, else users.info."""
        wanted = list(dict.fromkeys(user_ids))
        found = {uid: u for uid in wanted if (u := self._cached(uid)) is not None}
        missing = [uid for uid in wanted if uid not in found]
        if len(missing) > BULK_THRESHOLD:
            found.update(await self._scan(set(missing)))
            missing = [uid for uid in missing if uid not in found]
        semaphore = asyncio.Semaphore(LOOKUP_CONCURRENCY)

        async def one(uid: str) -> None:
            async with semaphore:
                user = await self.user(uid)
            if user is not None:
                found[uid] = user

        await asyncio.gather(*(one(uid) for uid in missing))
        return found

    async def _scan(self, wanted: set[str]) -> dict[str, User]:
        """Page through users.list until every wanted user is seen (or the list ends)."""
        found: dict[str, User] = {}
        cursor = ""
        while True:
            response = await self._client().users_list(limit=PAGE_LIMIT, cursor=cursor or None)
            for raw in response.get("members") or []:
                user = dict(raw)
                self.remember(user)
                if user.get("id") in wanted:
                    found[str(user["id"])] = user
            cursor = ((response.get("response_metadata") or {}).get("next_cursor")) or ""
            if not cursor or len(found) == len(wanted):
                return found

    async def facilitator_group(self) -> frozenset[str]:
        """Members of the configured facilitator user group (cached; empty when not set)."""
        group = self.settings.slack.facilitator_usergroup.strip()
        if not group:
            return frozenset()
        async with self._lock:
            if self._group is not None and self._clock() - self._group[0] <= GROUP_TTL_SECONDS:
                return self._group[1]
            try:
                response = await self._client().usergroups_users_list(usergroup=group)
                ids = frozenset(str(u) for u in response.get("users") or [])
            except SlackApiError:
                # A wrong group id must not lock everyone out: fall back to the other sources.
                ids = frozenset()
            self._group = (self._clock(), ids)
            return ids

    async def actor(self, team_id: str, user_id: str, fallback_name: str = "") -> Actor:
        """The person behind a payload, with the role Slack gives them."""
        user = await self.user(user_id) or {"id": user_id, "name": fallback_name or user_id}
        role = platform_role(user)
        if role < Role.FACILITATOR and user_id in await self.facilitator_group():
            role = Role.FACILITATOR
        return Actor(
            Platform.SLACK,
            team_id,
            user_id,
            display_name(user),
            timezone_of(user),
            platform_role=role,
        )

    async def channel_members(self, channel: str) -> list[MemberInfo]:
        """Every human, active member of `channel`, in Slack's order."""
        ids: list[str] = []
        cursor = ""
        while True:
            try:
                response = await self._client().conversations_members(
                    channel=channel, limit=PAGE_LIMIT, cursor=cursor or None
                )
            except SlackApiError as exc:
                if error_code(exc) in ("channel_not_found", "not_in_channel"):
                    raise UserError(
                        "I can't see this channel's members. Invite the app first: "
                        "`/invite @Learning Cycles`."
                    ) from None
                raise
            ids.extend(str(m) for m in response.get("members") or [])
            cursor = ((response.get("response_metadata") or {}).get("next_cursor")) or ""
            if not cursor:
                break
        users = await self.users(ids)
        people = [users[uid] for uid in dict.fromkeys(ids) if uid in users]
        return [member_info(user) for user in people if is_person(user)]
