"""`role add|remove <user> facilitator|leader` (admins) and `whoami`."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.commands.registry import Args, CommandSpec, Result
from bot.config import Settings
from bot.domain import Actor, ChannelRef, Message, Platform, Reply, Role
from bot.domain.params import Param
from bot.errors import NotFound, UserError
from bot.services import members, outbox
from bot.services.context import Invocation
from bot.store.models import Member

ASSIGNABLE = {"facilitator": Role.FACILITATOR, "leader": Role.LEADER}
USAGE = "role add|remove <user> facilitator|leader"


def role_sources(member: Member, actor: Actor, settings: Settings) -> list[tuple[Role, str]]:
    """Every place a role comes from, the way `members.effective_role` combines them."""
    sources = [(Role[member.role.upper()], "`role add` by an admin")]
    if actor.platform_role > Role.MEMBER:
        sources.append((actor.platform_role, f"your {actor.platform.value} permissions"))
    ids = {actor.key, actor.user_id}
    if ids & set(settings.bot.facilitators):
        sources.append((Role.FACILITATOR, "the facilitators list in bot.toml"))
    if ids & set(settings.bot.leaders):
        sources.append((Role.LEADER, "the leaders list in bot.toml"))
    return sources


def _parse(args: Args) -> tuple[str, Role]:
    if len(args.positional) < 2:
        raise UserError(f"Usage: `{USAGE}`.")
    *who, role_word = args.positional
    role = ASSIGNABLE.get(role_word.lower())
    if role is None:
        raise UserError(f"The role must be facilitator or leader, not '{role_word[:40]}'.")
    return " ".join(who), role


async def _target(inv: Invocation, session: AsyncSession, ref: str) -> Member:
    me = await session.get(Member, inv.member_id)
    if me is None:
        raise NotFound("Your profile is gone; run the command again.")
    return await members.find_member(session, me.workspace_id, ref)


def _dm(member: Member) -> ChannelRef:
    ws = member.workspace
    return ChannelRef(Platform(ws.platform), ws.external_id, member.user_id, dm_user=member.user_id)


async def role_add(inv: Invocation, args: Args) -> Result:
    ref, role = _parse(args)
    async with inv.deps.db.begin() as session:
        target = await _target(inv, session, ref)
        current = Role[target.role.upper()]
        if current == role:
            return Reply.text(f"{target.display_name} is already a {role.label}.")
        if current > role:
            raise UserError(
                f"{target.display_name} is a {current.label}, which includes everything a "
                f"{role.label} may do. `role remove` first to change it."
            )
        await members.set_role(session, target, role)
        now = inv.deps.clock()
        await outbox.enqueue(
            session,
            key=f"role:{target.id}:{role.label}:{now.isoformat()}",
            to=_dm(target),
            message=Message(
                f"{inv.actor.display_name} made you a {role.label} in Learning Cycles. "
                "`help` shows what you can do now."
            ),
            member_id=target.id,
        )
        name = target.display_name
    inv.deps.notify_outbox()
    return Reply.text(f"{name} is now a {role.label}.")


async def role_remove(inv: Invocation, args: Args) -> Result:
    ref, role = _parse(args)
    async with inv.deps.db.begin() as session:
        target = await _target(inv, session, ref)
        if target.role != role.label:
            raise UserError(
                f"{target.display_name} was not made a {role.label} with `role add` "
                f"(their stored role is {target.role}). Roles from the platform or bot.toml "
                "are changed there."
            )
        await members.set_role(session, target, Role.MEMBER)
        name = target.display_name
    return Reply.text(
        f"{name} is no longer a {role.label} (unless the platform or bot.toml makes them one)."
    )


async def whoami(inv: Invocation, args: Args) -> Result:
    async with inv.deps.db.begin() as session:
        member = await session.get(Member, inv.member_id)
        if member is None:
            raise NotFound("Your profile is gone; run the command again.")
        sources = role_sources(member, inv.actor, inv.deps.settings)
    how = [text for role, text in sources if role == inv.role and role > Role.MEMBER]
    because = f"; it comes from {' and '.join(how)}" if how else " (everyone starts as one)"
    return Reply.text(
        f"You are {inv.actor.display_name} ({inv.actor.key}); your role is "
        f"{inv.role.label}{because}."
    )


async def role_usage(inv: Invocation, args: Args) -> Result:
    return Reply.text(f"Usage: `{USAGE}` (admins), and `whoami` for your own role.")


# Who, then which role: a person picker and a choice on platforms that have them.
ROLE_PARAMS = (
    Param("user", "user", "Who", required=True, example="@ada"),
    Param(
        "role",
        "choice",
        "The role",
        required=True,
        options=("facilitator", "leader"),
        example="facilitator",
    ),
)


SPECS = (
    CommandSpec(("role",), "role", "The role commands.", role_usage, min_role=Role.ADMIN),
    CommandSpec(
        ("role", "add"),
        "role add <user> facilitator|leader",
        "Make someone a facilitator or a leader.",
        role_add,
        params=ROLE_PARAMS,
        min_role=Role.ADMIN,
    ),
    CommandSpec(
        ("role", "remove"),
        "role remove <user> facilitator|leader",
        "Take a role given with `role add` away again.",
        role_remove,
        params=ROLE_PARAMS,
        min_role=Role.ADMIN,
    ),
    CommandSpec(("whoami",), "whoami", "Your role, and where it comes from.", whoami),
)
