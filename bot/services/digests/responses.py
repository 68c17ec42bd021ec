"""Members answer a posted digest's themes: "This matches what we see" (agree) or "We see it
differently" (differ, with what they see instead, who may read it, and whether to be named).

A theme's key is the stored group digest's id and the theme's position ("12.2"); a posted digest
is never rebuilt, so the key holds. One answer per member and theme: answering again (a
repeated click, a replayed submit, a change of mind) replaces it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import ChannelRef, Visibility
from bot.errors import UserError
from bot.services import groups
from bot.services.digests.stored import POSTED, latest_posted
from bot.services.digests.variants import GROUP
from bot.store.models import Digest, DigestResponse, Group
from bot.store.upsert import upsert

AGREE, DIFFER = "agree", "differ"
STANCES = (AGREE, DIFFER)
SHAREABLE = Visibility.GROUP.value
MAX_TEXT = 1000


@dataclass(frozen=True)
class ThemeRef:
    digest: Digest
    group: Group
    position: int
    label: str

    @property
    def key(self) -> str:
        return theme_key(self.digest.id, self.position)


def theme_key(digest_id: int, position: int) -> str:
    return f"{digest_id}.{position}"


def _parse(text: str) -> tuple[int | None, int]:
    """ "12.2" -> (12, 2); "2" -> (None, 2): theme 2 of the latest posted digest."""
    head, dot, tail = text.strip().partition(".")
    if dot and head.isdigit() and tail.isdigit():
        return int(head), int(tail)
    if not dot and head.isdigit():
        return None, int(head)
    raise UserError(
        f"'{text[:40]}' is not a theme. Use its number in the digest, e.g. `2`, or the key on "
        "its button, e.g. `12.2`."
    )


async def find_theme(session: AsyncSession, channel: ChannelRef, text: str) -> ThemeRef:
    """The posted theme `text` names, for a member of a workspace the digest's group lives in."""
    digest_id, position = _parse(text)
    digest: Digest | None
    group: Group | None
    if digest_id is None:
        group = await groups.require_group(session, channel)
        digest = await latest_posted(session, group.id)
        if digest is None:
            raise UserError("No digest has been posted here yet, so there is nothing to answer.")
    else:
        digest = await session.get(Digest, digest_id)
        group = await session.get(Group, digest.group_id) if digest is not None else None
        if digest is None or group is None or not _reaches(group, channel):
            raise UserError(f"There is no digest theme {text.strip()}.")
    if digest.variant != GROUP or digest.state != POSTED:
        raise UserError("That digest is not posted yet: themes can be answered once it is.")
    themes = digest.themes or []
    if not 1 <= position <= len(themes):
        count = f"themes 1 to {len(themes)}" if themes else "no themes"
        raise UserError(f"The {digest.week} digest has {count}; there is no theme {position}.")
    label = str(themes[position - 1].get("label", ""))
    return ThemeRef(digest, group, position, label)


def _reaches(group: Group, channel: ChannelRef) -> bool:
    """Whether someone in `channel`'s workspace can read the group's digest."""
    return any(
        c.platform == channel.platform and c.workspace == channel.workspace
        for c in groups.channels_of(group)
    )


async def answer(
    session: AsyncSession,
    ref: ThemeRef,
    member_id: int,
    stance: str,
    now: datetime,
    *,
    text: str = "",
    visibility: str = SHAREABLE,
    named: bool = False,
) -> bool:
    """Store (or replace) the member's answer to the theme. True when it changed anything."""
    previous = await mine(session, ref.digest.id, ref.position, member_id)
    if stance == AGREE:
        text, visibility, named = "", SHAREABLE, False
    values: dict[str, Any] = {
        "digest_id": ref.digest.id,
        "theme": ref.position,
        "member_id": member_id,
        "stance": stance,
        "text": text,
        "visibility": visibility,
        "named": named,
        "created_at": now,
        "updated_at": now,
    }
    same = previous is not None and (
        previous.stance,
        previous.text,
        previous.visibility,
        previous.named,
    ) == (stance, text, visibility, named)
    if same:
        return False
    await upsert(
        session,
        DigestResponse,
        values,
        ["digest_id", "theme", "member_id"],
        ["stance", "text", "visibility", "named", "updated_at"],
    )
    return True


async def mine(
    session: AsyncSession, digest_id: int, position: int, member_id: int
) -> DigestResponse | None:
    query = select(DigestResponse).where(
        DigestResponse.digest_id == digest_id,
        DigestResponse.theme == position,
        DigestResponse.member_id == member_id,
    )
    found = (await session.execute(query)).scalar_one_or_none()
    if found is not None:
        await session.refresh(found)
    return found


async def counts(session: AsyncSession, digest_ids: list[int]) -> dict[int, int]:
    """How many answers each digest has had (any visibility: a count, not content)."""
    if not digest_ids:
        return {}
    rows = await session.execute(
        select(DigestResponse.digest_id, func.count(DigestResponse.id))
        .where(DigestResponse.digest_id.in_(digest_ids))
        .group_by(DigestResponse.digest_id)
    )
    return {int(d): int(n) for d, n in rows.all()}


async def export_of(session: AsyncSession, member_id: int) -> list[dict[str, Any]]:
    """The member's answers to digest themes, for `export`."""
    rows = await session.execute(
        select(DigestResponse, Digest.week)
        .join(Digest, DigestResponse.digest_id == Digest.id)
        .where(DigestResponse.member_id == member_id)
        .order_by(DigestResponse.id)
    )
    return [
        {
            "digest_week": week,
            "theme": a.theme,
            "answer": a.stance,
            "text": a.text,
            "visibility": a.visibility,
            "named": a.named,
            "created_at": a.created_at.isoformat(),
            "updated_at": a.updated_at.isoformat(),
        }
        for a, week in rows.all()
    ]


async def texts_of(session: AsyncSession, member_id: int) -> list[str]:
    """What the member wrote in answers, so `forget-me` can take it out of stored digests."""
    found = await session.execute(
        select(DigestResponse.text).where(DigestResponse.member_id == member_id)
    )
    return [t for t in found.scalars() if t and t.strip()]


async def forget(session: AsyncSession, member_id: int) -> None:
    await session.execute(delete(DigestResponse).where(DigestResponse.member_id == member_id))
