"""The domain model (see DESIGN.md). Every table a platform can write twice has a natural unique
key, so a repeated write is a no-op."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.store.base import Base, utcnow

SHORT = 200
LONG = 4000


class Workspace(Base):
    """A Slack team, a Discord guild, or the console."""

    __tablename__ = "workspaces"
    __table_args__ = (UniqueConstraint("platform", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(SHORT), default="")


class Member(Base):
    __tablename__ = "members"
    __table_args__ = (UniqueConstraint("workspace_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str] = mapped_column(String(SHORT))
    timezone: Mapped[str | None] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16), default="member")  # granted with `role add`
    # What the platform said at the member's last command (workspace admin, Manage Server,
    # configured roles), so scheduled work knows facilitators and leaders too.
    platform_role: Mapped[str] = mapped_column(String(16), default="member")
    away_until: Mapped[date | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    workspace: Mapped[Workspace] = relationship(lazy="joined")


class Group(Base):
    """A learning group, bound to one or more channels, possibly on different platforms."""

    __tablename__ = "groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(SHORT))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    digest_schedule: Mapped[str | None] = mapped_column(String(64))
    round_schedule: Mapped[str | None] = mapped_column(String(64))
    round_schedule_template: Mapped[str | None] = mapped_column(String(64))
    # Hours before a round's close at which those who have not answered are reminded, e.g.
    # [48, 4]; None: the configured `rounds.remind_before_hours`.
    round_reminders: Mapped[list[int] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    channels: Mapped[list[GroupChannel]] = relationship(
        back_populates="group", lazy="selectin", cascade="all, delete-orphan"
    )


class GroupChannel(Base):
    __tablename__ = "group_channels"
    __table_args__ = (UniqueConstraint("platform", "workspace", "channel"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), index=True)
    platform: Mapped[str] = mapped_column(String(16))
    workspace: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(64))

    group: Mapped[Group] = relationship(back_populates="channels")


class Cycle(Base):
    """A learning cycle at one system scale, optionally inside a parent cycle."""

    __tablename__ = "cycles"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(SHORT))
    question: Mapped[str] = mapped_column(Text)
    scale: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("cycles.id", ondelete="SET NULL"), index=True
    )
    created_by: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Experiment(Base):
    __tablename__ = "experiments"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), index=True)
    cycle_id: Mapped[int | None] = mapped_column(
        ForeignKey("cycles.id", ondelete="SET NULL"), index=True
    )
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    adopted_from_id: Mapped[int | None] = mapped_column(
        ForeignKey("experiments.id", ondelete="SET NULL"), index=True
    )
    title: Mapped[str] = mapped_column(String(SHORT))
    hypothesis: Mapped[str] = mapped_column(Text)
    try_: Mapped[str] = mapped_column("try", Text)
    expect: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="running")
    learned: Mapped[str | None] = mapped_column(Text)
    verdict: Mapped[str | None] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    concluded_at: Mapped[datetime | None]


class CheckIn(Base):
    __tablename__ = "checkins"

    id: Mapped[int] = mapped_column(primary_key=True)
    experiment_id: Mapped[int] = mapped_column(
        ForeignKey("experiments.id", ondelete="CASCADE"), index=True
    )
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    happened: Mapped[str] = mapped_column(Text)
    learned: Mapped[str] = mapped_column(Text, default="")
    next: Mapped[str] = mapped_column(Text, default="")
    surprise: Mapped[int] = mapped_column(default=50)
    confidence: Mapped[int] = mapped_column(default=50)
    visibility: Mapped[str] = mapped_column(String(16), default="group")
    named: Mapped[bool] = mapped_column(default=False)
    # The platform's interaction id: a replayed submit finds this and changes nothing.
    source_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class RoundTemplate(Base):
    """Loaded from prompts/rounds/*.toml at start."""

    __tablename__ = "round_templates"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(String(SHORT))
    intro: Mapped[str] = mapped_column(Text)
    prompts: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    default_duration_hours: Mapped[int]


class GroupTemplate(Base):
    """A round template a group's facilitators wrote in chat. It overrides a shipped template
    with the same key, for that group only; a round copies it when it starts."""

    __tablename__ = "group_templates"
    __table_args__ = (UniqueConstraint("group_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(64))
    # The whole template as `RoundTemplateSpec` reads it (title, intro, prompts, durations...).
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Round(Base):
    __tablename__ = "rounds"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), index=True)
    template_key: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(SHORT))
    intro: Mapped[str] = mapped_column(Text)
    # A snapshot taken at the start: [{key, text, kind?, options?, low?, high?}]. Editing the
    # template later changes nothing here.
    prompts: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    default_visibility: Mapped[str | None] = mapped_column(String(16))
    platform: Mapped[str] = mapped_column(String(16))
    workspace: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(64))
    opened_by: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    closes_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    state: Mapped[str] = mapped_column(String(16), default="open", index=True)
    summary: Mapped[str | None] = mapped_column(Text)
    # A scheduled round is unique per (group, slot), so two schedulers cannot open it twice.
    schedule_slot: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (UniqueConstraint("group_id", "schedule_slot"),)


class RoundRecipient(Base):
    """The audience of a round, fixed when it opens."""

    __tablename__ = "round_recipients"
    __table_args__ = (UniqueConstraint("round_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)


class Response(Base):
    """One answer to one prompt of a round; editable until the round closes."""

    __tablename__ = "responses"
    __table_args__ = (UniqueConstraint("round_id", "member_id", "prompt_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    prompt_key: Mapped[str] = mapped_column(String(64))
    # text: written words; choice: one of the question's options; dyad: a number 0-100.
    # Only text answers are themes and quotes; the others are counted.
    kind: Mapped[str] = mapped_column(String(16), default="text", server_default="text")
    text: Mapped[str] = mapped_column(Text)
    surprise: Mapped[int | None]
    visibility: Mapped[str] = mapped_column(String(16), default="group")
    named: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Delivery(Base):
    """Outbox row: one message to one recipient. Written before it is sent; `key` makes a repeat
    a no-op, so a restart resumes instead of re-sending."""

    __tablename__ = "deliveries"
    __table_args__ = (Index("ix_deliveries_due", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    platform: Mapped[str] = mapped_column(String(16))
    workspace: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(64))
    target_kind: Mapped[str] = mapped_column(String(16))  # dm | channel
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(16), default="pending")  # pending|sent|failed
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(String(SHORT))
    platform_message_id: Mapped[str | None] = mapped_column(String(128))
    round_id: Mapped[int | None] = mapped_column(
        ForeignKey("rounds.id", ondelete="CASCADE"), index=True
    )
    member_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]


class Digest(Base):
    __tablename__ = "digests"
    __table_args__ = (UniqueConstraint("group_id", "week", "variant"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), index=True)
    week: Mapped[str] = mapped_column(String(10))  # ISO week, e.g. 2026-W48
    variant: Mapped[str] = mapped_column(String(16), default="group")  # group | leader
    text: Mapped[str] = mapped_column(Text)
    content: Mapped[dict[str, Any]] = mapped_column(JSON)  # the rendered Message
    entry_ids: Mapped[list[str]] = mapped_column(JSON)
    chart_path: Mapped[str | None] = mapped_column(String(500))
    summariser: Mapped[str] = mapped_column(String(32), default="offline")
    state: Mapped[str] = mapped_column(String(16), default="draft")  # draft | posted
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    posted_at: Mapped[datetime | None]
    # The themes as posted (label, the label before any rename, quote entry ids), in order: a
    # theme's position is its key for answers (DigestResponse.theme) and for later weeks.
    themes: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    # What facilitators changed before posting, in order (see services/digests/curation.py).
    edits: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)


class DigestResponse(Base):
    """A member's answer to one theme of a posted digest: "matches what we see" (agree) or "we see
    it differently" (differ, with what they see instead). One per member and theme: answering
    again replaces it."""

    __tablename__ = "digest_responses"
    __table_args__ = (UniqueConstraint("digest_id", "theme", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    digest_id: Mapped[int] = mapped_column(ForeignKey("digests.id", ondelete="CASCADE"), index=True)
    theme: Mapped[int]  # 1-based position of the theme in the digest
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    stance: Mapped[str] = mapped_column(String(16))  # agree | differ
    text: Mapped[str] = mapped_column(Text, default="")
    visibility: Mapped[str] = mapped_column(String(16), default="group")
    named: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Alarm(Base):
    """A governance alarm. At most one open alarm per (rule, subject)."""

    __tablename__ = "alarms"
    __table_args__ = (
        Index(
            "uq_alarms_open_rule_subject",
            "group_id",
            "rule",
            "subject",
            unique=True,
            sqlite_where=text("state != 'resolved'"),
            postgresql_where=text("state != 'resolved'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), index=True)
    rule: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default="raised")
    raised_at: Mapped[datetime] = mapped_column(default=utcnow)
    acked_by: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    acked_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]


class ExportRecord(Base):
    """One group export by a facilitator: who, when, which range and how many entries. The
    export's content is not kept."""

    __tablename__ = "export_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    format: Mapped[str] = mapped_column(String(8))
    date_from: Mapped[date | None]
    date_to: Mapped[date | None]
    entries: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ProcessedEvent(Base):
    """Platform event and interaction ids already handled: a retry or replay is a no-op."""

    __tablename__ = "processed_events"
    __table_args__ = (UniqueConstraint("platform", "event_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    event_id: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AppState(Base):
    """Small key/value facts the bot keeps about itself (e.g. the Discord command-tree hash)."""

    __tablename__ = "app_state"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
