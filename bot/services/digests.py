"""The weekly sensemaking digest, per group and ISO week, and its leader variant.

Only shareable entries (visibility `group`) are read, summarised or quoted; quotes are verbatim
and carry a label that holds for this digest only ("Member B") unless the author chose `named`.
Every section lists the ids of its sources, and the digest row keeps every entry it used. A
digest is stored once per (group, week, variant): building again updates the draft, and
publishing is one outbox row per bound channel, so publishing twice posts once. If the
configured summariser fails, the offline one takes over: a digest is never lost."""

from __future__ import annotations

import logging
import re
import zoneinfo
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.domain import ChannelRef, Message, Platform, Section
from bot.domain.plural import plural as _plural
from bot.errors import UserError
from bot.services import alarms, charts, groups, members, outbox
from bot.services.context import Deps
from bot.services.entries import (
    ConnectedCycle,
    GroupEntry,
    connected_cycles,
    group_entries,
    relabel,
)
from bot.store.models import (
    Alarm,
    CheckIn,
    Digest,
    Experiment,
    Group,
    Member,
    Response,
    Round,
)
from bot.store.upsert import insert_ignore
from bot.summarise import Entry, Quote, Summary, Theme
from bot.summarise.offline import OfflineSummariser, sentences

log = logging.getLogger(__name__)

GROUP, LEADER = "group", "leader"
VARIANTS = (GROUP, LEADER)
DRAFT, POSTED = "draft", "posted"
HISTORY_WEEKS = 8
TOP_SURPRISES = 3
# An entry counts as surprising from here (the slider's midpoint is 50).
SURPRISING = 60
LEADER_THEMES = 3
MAX_QUESTIONS = 4
EXCERPT = 220

_WEEK = re.compile(r"^(\d{4})-?W(\d{1,2})$", re.IGNORECASE)


# --- weeks -------------------------------------------------------------------------------------


def iso_week(moment: datetime, timezone: str) -> str:
    year, week, _ = moment.astimezone(zoneinfo.ZoneInfo(timezone)).isocalendar()
    return f"{year}-W{week:02d}"


def parse_week(text: str) -> str:
    match = _WEEK.match(text.strip())
    if match:
        year, week = int(match.group(1)), int(match.group(2))
        try:
            date.fromisocalendar(year, week, 1)
        except ValueError:
            pass
        else:
            return f"{year}-W{week:02d}"
    raise UserError(f"'{text}' is not a week. Use an ISO week such as 2026-W48.")


def week_bounds(week: str, timezone: str) -> tuple[datetime, datetime]:
    """[start, end) of the ISO week in the group's timezone, as UTC instants."""
    year, number = (int(part) for part in parse_week(week).split("-W"))
    monday = date.fromisocalendar(year, number, 1)
    zone = zoneinfo.ZoneInfo(timezone)
    start = datetime.combine(monday, time(), zone)
    end = datetime.combine(monday + timedelta(days=7), time(), zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def weeks_before(week: str, count: int) -> list[str]:
    """`count` weeks ending with `week`, oldest first."""
    year, number = (int(part) for part in week.split("-W"))
    monday = date.fromisocalendar(year, number, 1)
    out = []
    for back in range(count - 1, -1, -1):
        y, w, _ = (monday - timedelta(weeks=back)).isocalendar()
        out.append(f"{y}-W{w:02d}")
    return out


# --- gathering ---------------------------------------------------------------------------------


@dataclass
class Replication:
    copy: Experiment
    original: Experiment
    copy_group: str
    original_group: str


@dataclass
class WeekData:
    group: Group
    week: str
    start: datetime
    end: datetime
    entries: list[GroupEntry]
    experiments: list[Experiment]
    checkins_total: int
    rounds: list[Round]
    participation: dict[int, tuple[int, int]]
    replications: list[Replication]
    confidence: dict[int, tuple[float, int]]  # experiment id -> (mean confidence, check-ins)
    connected: list[ConnectedCycle]
    alarms: list[Alarm]
    history: list[tuple[str, int]]
    prompts: dict[tuple[int, str], str] = field(default_factory=dict)

    def started(self) -> list[Experiment]:
        return [e for e in self.experiments if self.start <= e.started_at < self.end]

    def running(self) -> list[Experiment]:
        return [e for e in self.experiments if e.status == "running" and e.started_at < self.end]

    def concluded(self) -> list[Experiment]:
        return [
            e
            for e in self.experiments
            if e.status == "concluded"
            and e.concluded_at is not None
            and self.start <= e.concluded_at < self.end
        ]

    def rate(self) -> tuple[int, int]:
        asked = sum(self.participation.get(r.id, (0, 0))[0] for r in self.rounds)
        answered = sum(self.participation.get(r.id, (0, 0))[1] for r in self.rounds)
        return asked, answered


async def gather(session: AsyncSession, group: Group, week: str) -> WeekData:
    start, end = week_bounds(week, group.timezone)
    entries, links = labelled(
        await group_entries(session, group.id, start, end),
        await connected_cycles(session, group.id, start, end),
    )
    experiments = list(
        (
            await session.execute(
                select(Experiment).where(Experiment.group_id == group.id).order_by(Experiment.id)
            )
        ).scalars()
    )
    # A count, not content: every check-in counts, whoever may read it.
    checkins_total = (
        await session.execute(
            select(func.count(CheckIn.id))
            .join(Experiment, CheckIn.experiment_id == Experiment.id)
            .where(
                Experiment.group_id == group.id,
                CheckIn.created_at >= start,
                CheckIn.created_at < end,
            )
        )
    ).scalar_one()
    rounds = list(
        (
            await session.execute(
                select(Round)
                .where(
                    Round.group_id == group.id,
                    Round.opened_at < end,
                    (Round.closed_at.is_(None)) | (Round.closed_at >= start),
                )
                .order_by(Round.id)
            )
        ).scalars()
    )
    participation = await alarms.round_participation(session, [r.id for r in rounds])
    replications = await _replications(session, group, experiments, start, end)
    involved = {e.id for e in experiments} | {
        x.id for r in replications for x in (r.copy, r.original)
    }
    return WeekData(
        group=group,
        week=week,
        start=start,
        end=end,
        entries=entries,
        experiments=experiments,
        checkins_total=int(checkins_total),
        rounds=rounds,
        participation=participation,
        replications=replications,
        confidence=await _confidence(session, involved),
        connected=links,
        alarms=await alarms.alarms_for_digest(session, group.id, start, end),
        history=await _history(session, group, week),
        prompts=await _prompts(session, entries),
    )


def labelled(
    entries: list[GroupEntry], links: list[ConnectedCycle]
) -> tuple[list[GroupEntry], list[ConnectedCycle]]:
    """One set of anonymous labels for the whole digest, connected cycles included."""
    found = relabel([*entries, *(e for link in links for e in link.entries)])
    own, rest = found[: len(entries)], found[len(entries) :]
    out = []
    for link in links:
        out.append(replace(link, entries=rest[: len(link.entries)]))
        rest = rest[len(link.entries) :]
    return own, out


async def _replications(
    session: AsyncSession,
    group: Group,
    experiments: list[Experiment],
    start: datetime,
    end: datetime,
) -> list[Replication]:
    """Experiments this group adopted, and this group's experiments others adopted, that ran
    this week (running, or concluded during it)."""

    def active(e: Experiment) -> bool:
        if e.status == "running":
            return e.started_at < end
        return e.concluded_at is not None and start <= e.concluded_at < end

    ours = {e.id for e in experiments}
    copies = [e for e in experiments if e.adopted_from_id is not None]
    if ours:
        copies += list(
            (
                await session.execute(
                    select(Experiment)
                    .where(Experiment.adopted_from_id.in_(ours), Experiment.group_id != group.id)
                    .order_by(Experiment.id)
                )
            ).scalars()
        )
    out = []
    names: dict[int, str] = {group.id: group.name}
    for copy in copies:
        original = await session.get(Experiment, copy.adopted_from_id)
        if original is None or not (active(copy) or active(original)):
            continue
        for gid in (copy.group_id, original.group_id):
            if gid not in names:
                other = await session.get(Group, gid)
                names[gid] = other.name if other is not None else f"group {gid}"
        out.append(Replication(copy, original, names[copy.group_id], names[original.group_id]))
    return out


async def _confidence(
    session: AsyncSession, experiment_ids: set[int]
) -> dict[int, tuple[float, int]]:
    """Mean confidence of each experiment's shareable check-ins, over its whole life."""
    if not experiment_ids:
        return {}
    rows = await session.execute(
        select(CheckIn.experiment_id, func.avg(CheckIn.confidence), func.count(CheckIn.id))
        .where(CheckIn.experiment_id.in_(experiment_ids), CheckIn.visibility == "group")
        .group_by(CheckIn.experiment_id)
    )
    return {int(eid): (float(avg), int(n)) for eid, avg, n in rows.all()}


async def _history(session: AsyncSession, group: Group, week: str) -> list[tuple[str, int]]:
    """People taking part (a check-in or an answer, whoever may read it), week by week."""
    weeks = weeks_before(week, HISTORY_WEEKS)
    start = week_bounds(weeks[0], group.timezone)[0]
    end = week_bounds(week, group.timezone)[1]
    checkins = await session.execute(
        select(CheckIn.member_id, CheckIn.created_at)
        .join(Experiment, CheckIn.experiment_id == Experiment.id)
        .where(
            Experiment.group_id == group.id,
            CheckIn.created_at >= start,
            CheckIn.created_at < end,
        )
    )
    responses = await session.execute(
        select(Response.member_id, Response.created_at)
        .join(Round, Response.round_id == Round.id)
        .where(Round.group_id == group.id, Response.created_at >= start, Response.created_at < end)
    )
    people: dict[str, set[int]] = {w: set() for w in weeks}
    for member_id, created in [*checkins.all(), *responses.all()]:
        bucket = people.get(iso_week(created, group.timezone))
        if bucket is not None:
            bucket.add(member_id)
    return [(w, len(people[w])) for w in weeks]


async def _prompts(session: AsyncSession, entries: list[GroupEntry]) -> dict[tuple[int, str], str]:
    """(round id, prompt key) -> the prompt's text, for the answers shown as surprises."""
    round_ids = {e.round_id for e in entries if e.round_id is not None}
    out: dict[tuple[int, str], str] = {}
    for round_id in sorted(round_ids):
        round_ = await session.get(Round, round_id)
        for prompt in round_.prompts if round_ is not None else ():
            out[(round_id, str(prompt.get("key")))] = str(prompt.get("text", ""))
    return out


# --- summarising -------------------------------------------------------------------------------


async def summarise(deps: Deps, entries: Sequence[GroupEntry], *, max_themes: int) -> Summary:
    """Themes from the configured summariser; on any failure, from the offline one. Whatever
    comes back is checked against the entries it was given (see `verified`)."""
    plain: list[Entry] = [e.entry for e in entries]
    max_quotes = deps.settings.digest.max_quotes_per_theme
    try:
        summary = await deps.summariser.summarise(
            plain, max_themes=max_themes, max_quotes=max_quotes
        )
    except Exception as exc:
        if isinstance(deps.summariser, OfflineSummariser):
            raise
        # The type only: a message may quote entry text, which never reaches a log.
        log.warning(
            "summariser %s failed (%s); using the offline one",
            deps.summariser.name,
            type(exc).__name__,
        )
        fallback = await OfflineSummariser().summarise(
            plain, max_themes=max_themes, max_quotes=max_quotes
        )
        summary = Summary(fallback.themes, fallback.questions, "offline (fallback)")
    return verified(summary, entries)


def verified(summary: Summary, entries: Sequence[GroupEntry]) -> Summary:
    """Keep only what the entries support: source ids among them, quotes that are verbatim
    substrings of the cited entry, and the author that entry carries (label or name)."""
    by_id = {e.id: e.entry for e in entries}
    themes = []
    for theme in summary.themes:
        ids = tuple(dict.fromkeys(i for i in theme.entry_ids if i in by_id))
        quotes = tuple(
            Quote(q.entry_id, q.text.strip(), by_id[q.entry_id].author)
            for q in theme.quotes
            if q.entry_id in by_id and q.text.strip() and q.text.strip() in by_id[q.entry_id].text
        )
        if not ids and not quotes:
            continue
        ids = ids or tuple(dict.fromkeys(q.entry_id for q in quotes))
        themes.append(Theme(theme.label, theme.summary, quotes, ids))
    return Summary(tuple(themes), summary.questions, summary.summariser)


# --- rendering ---------------------------------------------------------------------------------


def excerpt(text: str, limit: int = EXCERPT) -> str:
    """The first sentence in quotation marks, cut at a word when long; always the author's own
    words (an elision is marked with …)."""
    parts = sentences(text)
    first = parts[0] if parts else text.strip()
    if len(first) <= limit:
        return f"“{first}”"
    return f"“{first[:limit].rsplit(' ', 1)[0]}…”"


def _sentence_end(text: str) -> str:
    text = text.strip()
    return text if not text or text[-1] in ".!?…" else f"{text}."


def _ref(e: Experiment) -> str:
    return f"#{e.id} “{e.title}”"


def _lean(conf: tuple[float, int] | None) -> str | None:
    """Which way the check-ins' confidence slider leans: weaker, unchanged or stronger."""
    if conf is None:
        return None
    mean = conf[0]
    return "stronger" if mean >= 55 else "weaker" if mean <= 45 else "unchanged"


def _sources(*groups: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(s for g in groups for s in g))


def momentum(data: WeekData, *, short: bool = False) -> Section:
    started, running, concluded = data.started(), data.running(), data.concluded()
    shared = sum(1 for e in data.entries if e.kind == "checkin")
    asked, answered = data.rate()
    if short:
        parts = [
            f"{_plural(len(running), 'experiment')} running",
            f"{len(concluded)} concluded",
            f"{len(started)} started",
            _plural(data.checkins_total, "check-in"),
        ]
        if asked:
            parts.append(f"{answered / asked:.0%} answered the reflection round")
        text = "; ".join(parts) + "."
    else:
        lines = [
            f"• Experiments: {len(started)} started, {len(running)} running, "
            f"{len(concluded)} concluded this week.",
            f"• Check-ins: {data.checkins_total} ({shared} shared with the group).",
        ]
        if asked:
            lines.append(
                f"• Reflection rounds: {answered} of "
                f"{_plural(asked, 'person', 'people')} asked answered "
                f"({answered / asked:.0%}) across {_plural(len(data.rounds), 'round')}."
            )
        else:
            lines.append("• Reflection rounds: none this week.")
        text = "\n".join(lines)
    ids = [f"experiment:{e.id}" for e in (*started, *running, *concluded)]
    ids += [f"round:{r.id}" for r in data.rounds]
    return Section("Momentum", text, _sources(ids))


def learning(summary: Summary, *, leader: bool = False) -> Section:
    themes = summary.themes[:LEADER_THEMES] if leader else summary.themes
    title = "Insight" if leader else "What we are learning"
    if not themes:
        return Section(title, "No shared check-ins or answers this week to learn from.")
    blocks = []
    for theme in themes:
        quotes = theme.quotes[:1] if leader else theme.quotes
        lines = [f"*{theme.label}*" if leader else f"*{theme.label}*: {theme.summary}"]
        lines += [f"  > “{q.text}” ({q.author})" for q in quotes]
        blocks.append("\n".join(lines))
    ids = _sources(*[t.entry_ids for t in themes], [q.entry_id for t in themes for q in t.quotes])
    return Section(title, "\n\n".join(blocks), ids)


def surprises(data: WeekData) -> Section:
    candidates = sorted(
        (e for e in data.entries if e.surprise is not None and e.surprise >= SURPRISING),
        key=lambda e: (-(e.surprise or 0), e.created_at, e.id),
    )
    # Many voices first: one entry per person, then more from the same people if room is left.
    seen: set[int] = set()
    firsts = []
    for e in candidates:
        if e.member_id not in seen:
            seen.add(e.member_id)
            firsts.append(e)
    chosen = {e.id for e in firsts}
    ranked = (firsts + [e for e in candidates if e.id not in chosen])[:TOP_SURPRISES]
    if not ranked:
        return Section(
            "Surprises and dissonance", "Nothing shared this week was marked surprising."
        )
    by_id = {e.id: e for e in data.experiments}
    lines = []
    ids: list[str] = []
    for item in ranked:
        line = f"• {item.surprise}/100: {excerpt(item.entry.text)} ({item.entry.author})"
        ids.append(item.id)
        experiment = by_id.get(item.experiment_id or -1)
        if experiment is not None:
            line += f". It challenges {_ref(experiment)}: {_sentence_end(experiment.hypothesis)}"
            ids.append(f"experiment:{experiment.id}")
        elif item.round_id is not None and item.prompt_key is not None:
            prompt = data.prompts.get((item.round_id, item.prompt_key))
            if prompt:
                line += f", answering “{prompt}”"
        lines.append(line)
    return Section("Surprises and dissonance", "\n".join(lines), _sources(ids))


def assumptions(data: WeekData, *, short: bool = False) -> Section:
    concluded = data.concluded()
    if not concluded:
        return Section("Assumptions tested", "No experiment concluded this week.")
    lines = []
    for e in concluded:
        verdict = e.verdict or "no verdict"
        conf = data.confidence.get(e.id)
        evidence = (
            f" ({_plural(conf[1], 'shared check-in')}, mean confidence {conf[0]:.0f})"
            if conf and not short
            else ""
        )
        learned = (e.learned or "").strip()
        if short and len(learned) > EXCERPT:
            learned = learned[:EXCERPT].rsplit(" ", 1)[0] + "…"
        line = f"• {_ref(e)}: hypothesis {verdict}{evidence}."
        if not short:
            line += f" We assumed: {_sentence_end(e.hypothesis)}"
        if learned:
            line += f" Learned: {learned}"
        lines.append(line)
    return Section(
        "Assumptions tested", "\n".join(lines), _sources([f"experiment:{e.id}" for e in concluded])
    )


def _result(e: Experiment, conf: tuple[float, int] | None) -> tuple[str, str | None]:
    """(words, direction) for one side of a replication."""
    if e.status == "concluded" and e.verdict:
        return f"concluded {e.verdict}", e.verdict
    lean = _lean(conf)
    if lean is None or conf is None:
        return f"{e.status}, no shared check-ins yet", None
    return f"{e.status}, check-ins lean {lean} (mean confidence {conf[0]:.0f})", lean


def replications(data: WeekData) -> Section:
    if not data.replications:
        return Section("Replications", "No adopted experiment ran this week.")
    lines = []
    ids: list[str] = []
    for r in data.replications:
        here, here_way = _result(r.copy, data.confidence.get(r.copy.id))
        there, there_way = _result(r.original, data.confidence.get(r.original.id))
        if here_way is None or there_way is None:
            verdict = "too early to compare"
        elif here_way == there_way:
            verdict = "replicated" if r.copy.verdict and r.original.verdict else "same way so far"
        else:
            verdict = (
                "did not replicate"
                if r.copy.verdict and r.original.verdict
                else ("pointing different ways so far")
            )
        lines.append(
            f"• {_ref(r.copy)} in {r.copy_group}, adopted from {_ref(r.original)} in "
            f"{r.original_group}: {here}; the original {there}. {verdict.capitalize()}."
        )
        ids += [f"experiment:{r.copy.id}", f"experiment:{r.original.id}"]
    return Section("Replications", "\n".join(lines), _sources(ids))


def connected(data: WeekData) -> Section:
    if not data.connected:
        return Section("Connected cycles", "No cycles connect below this group's cycles.")
    lines = []
    ids: list[str] = []
    for link in data.connected:
        c = link.cycle
        statuses = Counter(e.status for e in link.experiments)
        status_text = ", ".join(f"{n} {s}" for s, n in sorted(statuses.items())) or "none"
        verdicts = [
            f"{_ref(e)} {e.verdict}"
            for e in link.experiments
            if e.status == "concluded"
            and e.verdict
            and e.concluded_at is not None
            and data.start <= e.concluded_at < data.end
        ]
        line = (
            f"• Cycle #{c.id} “{c.name}” ({c.scale}, "
            f"under #{link.parent.id} “{link.parent.name}”): "
            f"{_plural(len(link.experiments), 'experiment')} ({status_text}); "
            f"{_plural(len(link.entries), 'shared check-in')} this week."
        )
        if verdicts:
            line += f" Concluded: {'; '.join(verdicts)}."
        ids.append(f"cycle:{c.id}")
        ids += [f"experiment:{e.id}" for e in link.experiments]
        if link.entries:
            best = max(link.entries, key=lambda e: (e.surprise or 0, e.created_at, e.id))
            line += f" Highlight: {excerpt(best.entry.text)} ({best.entry.author})"
            ids.append(best.id)
        lines.append(line)
    return Section("Connected cycles", "\n".join(lines), _sources(ids))


def alarm_section(data: WeekData) -> Section:
    if not data.alarms:
        return Section("Governance alarms", "No alarms raised or open.")
    lines = [f"• {alarms.describe(a, data.group.timezone)}" for a in data.alarms]
    return Section(
        "Governance alarms", "\n".join(lines), _sources([f"alarm:{a.id}" for a in data.alarms])
    )


def questions(data: WeekData, summary: Summary) -> Section:
    asked = list(summary.questions)
    for e in data.concluded():
        if e.verdict in ("weaker", "stronger"):
            asked.append(f"{_ref(e)} came out {e.verdict}: what do we try next because of it?")
    if not asked:
        asked.append("What did we try this week that we have not written down yet?")
    lines = [f"• {q}" for q in dict.fromkeys(asked)][:MAX_QUESTIONS]
    return Section("Questions for next week", "\n".join(lines))


def headline(data: WeekData, summary: Summary, variant: str) -> str:
    asked, answered = data.rate()
    facts = [
        f"{_plural(len(data.running()), 'experiment')} running",
        f"{len(data.concluded())} concluded",
        _plural(data.checkins_total, "check-in"),
    ]
    if asked:
        facts.append(f"{answered / asked:.0%} answered the round")
    kind = "Leader digest" if variant == LEADER else "Weekly digest"
    line = f"{kind} · {data.group.name} · {data.week}: {', '.join(facts)}."
    labels = [t.label for t in summary.themes[: LEADER_THEMES if variant == LEADER else 5]]
    if labels:
        line += f" Themes: {'; '.join(labels)}."
    return line


def sections_for(data: WeekData, summary: Summary, variant: str) -> tuple[Section, ...]:
    if variant == LEADER:
        return (
            momentum(data, short=True),
            assumptions(data, short=True),
            learning(summary, leader=True),
        )
    return (
        momentum(data),
        learning(summary),
        surprises(data),
        assumptions(data),
        replications(data),
        connected(data),
        alarm_section(data),
        questions(data, summary),
    )


def plain_text(message: Message) -> str:
    parts = [message.text] + [f"{s.title}\n{s.text}" for s in message.sections]
    return "\n\n".join(parts)


# --- building and storing ----------------------------------------------------------------------


async def find_digest(
    session: AsyncSession, group_id: int, week: str, variant: str
) -> Digest | None:
    query = select(Digest).where(
        Digest.group_id == group_id, Digest.week == week, Digest.variant == variant
    )
    return (await session.execute(query)).scalar_one_or_none()


async def build_digests(
    deps: Deps, session: AsyncSession, group: Group, week: str, variants: Sequence[str]
) -> dict[str, Digest]:
    """Build (or rebuild the drafts of) the week's digests from one gathering and one summary.
    A digest already posted is returned as it was posted."""
    for variant in variants:
        if variant not in VARIANTS:
            raise UserError(f"variant must be one of: {', '.join(VARIANTS)}.")
    out: dict[str, Digest] = {}
    todo = []
    for variant in variants:
        existing = await find_digest(session, group.id, week, variant)
        if existing is not None and existing.state == POSTED:
            out[variant] = existing
        else:
            todo.append(variant)
    if not todo:
        return out
    data = await gather(session, group, week)
    summary = await summarise(deps, data.entries, max_themes=deps.settings.digest.max_themes)
    chart = await _chart(deps.settings, data) if deps.settings.digest.charts else None
    entry_ids = sorted(
        {e.id for e in data.entries} | {e.id for link in data.connected for e in link.entries},
        key=_id_order,
    )
    for variant in todo:
        message = Message(
            headline(data, summary, variant),
            sections_for(data, summary, variant),
            attachments=(str(chart),) if chart else (),
        )
        out[variant] = await _store(
            session, group, week, variant, message, entry_ids, chart, summary.summariser
        )
    return out


async def build_digest(
    deps: Deps, session: AsyncSession, group: Group, week: str, variant: str
) -> Digest:
    return (await build_digests(deps, session, group, week, (variant,)))[variant]


def _id_order(entry_id: str) -> tuple[str, int]:
    kind, _, number = entry_id.partition(":")
    return kind, int(number) if number.isdigit() else 0


async def _chart(settings: Settings, data: WeekData) -> str:
    path = settings.bot.data_dir / "charts" / f"digest-{data.group.id}-{data.week}.png"
    chart = charts.ChartData(
        f"{data.group.name} · {data.week}",
        data.history,
        [e.surprise for e in data.entries if e.surprise is not None],
        dict(Counter(e.status for e in data.experiments if e.started_at < data.end)),
    )
    return str(await charts.render_async(chart, path))


async def _store(
    session: AsyncSession,
    group: Group,
    week: str,
    variant: str,
    message: Message,
    entry_ids: list[str],
    chart: str | None,
    summariser: str,
) -> Digest:
    values = {
        "text": plain_text(message),
        "content": message.to_json(),
        "entry_ids": entry_ids,
        "chart_path": chart,
        "summariser": summariser,
    }
    await insert_ignore(
        session,
        Digest,
        {"group_id": group.id, "week": week, "variant": variant, "state": DRAFT, **values},
        ["group_id", "week", "variant"],
    )
    digest = await find_digest(session, group.id, week, variant)
    assert digest is not None
    if digest.state != POSTED:  # a concurrent publisher may have posted it meanwhile
        for key, value in values.items():
            setattr(digest, key, value)
    return digest


# --- publishing --------------------------------------------------------------------------------


async def publish(session: AsyncSession, group: Group, digest: Digest, now: datetime) -> int:
    """One outbox row per channel bound to the group; the digest is marked posted. Returns how
    many rows were newly queued (0 when it was already published)."""
    message = Message.from_json(digest.content)
    queued = 0
    for channel in groups.channels_of(group):
        key = (
            f"digest:{group.id}:{digest.week}:{digest.variant}:{channel.platform}:{channel.channel}"
        )
        queued += await outbox.enqueue(session, key=key, to=channel, message=message)
    _mark_posted(digest, now)
    return queued


async def leaders(session: AsyncSession, settings: Settings, group: Group) -> list[Member]:
    """Leaders of the group's workspaces, and configured leader ids."""
    return await members.holding_role(session, group, ("leader",), settings.bot.leaders)


async def send_to_leaders(
    session: AsyncSession, settings: Settings, group: Group, digest: Digest, now: datetime
) -> int:
    """The leader digest, as a DM to each leader."""
    message = Message.from_json(digest.content)
    queued = 0
    for member in await leaders(session, settings, group):
        ws = member.workspace
        to = ChannelRef(Platform(ws.platform), ws.external_id, member.user_id, member.user_id)
        key = f"digest:{group.id}:{digest.week}:{digest.variant}:{ws.platform}:dm-{member.user_id}"
        queued += await outbox.enqueue(
            session, key=key, to=to, message=message, member_id=member.id
        )
    _mark_posted(digest, now)
    return queued


def _mark_posted(digest: Digest, now: datetime) -> None:
    if digest.state != POSTED:
        digest.state, digest.posted_at = POSTED, now


async def publish_week(
    deps: Deps, session: AsyncSession, group: Group, week: str
) -> tuple[Digest, bool]:
    """Build and publish the week's digests: the group one to every bound channel, the leader
    one to the leaders. Returns the group digest and whether it was posted just now."""
    now = deps.clock()
    built = await build_digests(deps, session, group, week, VARIANTS)
    first_time = built[GROUP].state != POSTED
    await publish(session, group, built[GROUP], now)
    await send_to_leaders(session, deps.settings, group, built[LEADER], now)
    return built[GROUP], first_time


async def publish_weekly(deps: Deps, group_id: int) -> Digest | None:
    """The scheduled job: this week's digest (in the group's timezone), published once."""
    try:
        await alarms.evaluate(deps, group_id)  # so the digest shows current alarms
    except Exception:
        log.exception("alarm evaluation before the digest failed for group %s", group_id)
    async with deps.db.begin() as session:
        group = await session.get(Group, group_id)
        if group is None:
            return None
        week = iso_week(deps.clock(), group.timezone)
        digest, _ = await publish_week(deps, session, group, week)
    deps.notify_outbox()
    return digest


async def latest_posted(
    session: AsyncSession, group_id: int, week: str | None = None, variant: str = GROUP
) -> Digest | None:
    query = select(Digest).where(
        Digest.group_id == group_id, Digest.variant == variant, Digest.state == POSTED
    )
    if week is not None:
        query = query.where(Digest.week == week)
    query = query.order_by(Digest.week.desc()).limit(1)
    return (await session.execute(query)).scalar_one_or_none()
