"""What `privacy` promises, checked against what the bot does: canaries planted in private,
facilitator-only and anonymous entries are looked for in every post, stored row, export file and
log record (the bot's logging at DEBUG), before and after `forget-me`."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.commands import Dispatcher, make_dispatcher
from bot.domain import MemberInfo, Role
from bot.logs import setup_logging
from bot.services import exportfiles, outbox, privacy
from bot.services.context import Deps
from bot.store.models import Delivery, Digest, Round
from tests.support.adapter import RecordingAdapter
from tests.support.chat import actor, channel_with, dm, say
from tests.support.clock import Clock

FRAN = actor("F1", "Fran", Role.FACILITATOR)
ADA = actor("U1", "Adaline")
BO = actor("U2", "Bo")
PEOPLE = [MemberInfo(a.user_id, a.display_name, a.timezone) for a in (FRAN, ADA, BO)]

PRIVATE = "CANARY-PRIVATE-5d1e"
FACILITATORS = "CANARY-FACILITATORS-93ab"
ANSWER_PRIVATE = "CANARY-ANSWER-PRIVATE-77c2"
# Ada's shared words: in digests while she is here, nowhere once she is forgotten.
ADA_ANON = "Ada saw the doorstep visits cut the waiting list in half"
ADA_NAMED = "Ada signed this note about the waiting list and the doorstep"
ADA_ANSWER = "Ada tried pairing on the waiting list calls with the doorstep team"
LABEL = re.compile(r"\(Member ([^)]*)\)")
QUOTE = re.compile(r"[“\"]([^”\"]+)[”\"] \(([^)]+)\)")


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.NOTSET)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        line = record.getMessage()
        if record.exc_info:
            line += logging.Formatter().formatException(record.exc_info)
        self.lines.append(line)


@pytest.fixture
def logs() -> Iterator[Records]:
    """The bot's logging at DEBUG, and every record that reaches the root logger."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    levels = {n: logging.getLogger(n).level for n in logging.root.manager.loggerDict}
    setup_logging("DEBUG", "text")
    records = Records()
    root.addHandler(records)
    yield records
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


@pytest.fixture
def adapter(deps: Deps) -> RecordingAdapter:
    return channel_with(deps, PEOPLE)


def _read(path: str) -> str:
    return Path(path).read_text(encoding="utf-8")


async def drain(deps: Deps) -> None:
    while (await outbox.drain(deps)).sent:
        pass


async def stored(deps: Deps) -> str:
    """Every digest, delivery payload and round summary the database holds, as one text."""
    async with deps.db.begin() as s:
        digests = [
            f"{d.text}{json.dumps(d.content)}" for d in (await s.execute(select(Digest))).scalars()
        ]
        payloads = [json.dumps(d.payload) for d in (await s.execute(select(Delivery))).scalars()]
        summaries = [r.summary or "" for r in (await s.execute(select(Round))).scalars()]
    return "\n".join(digests + payloads + summaries)


def posted(adapter: RecordingAdapter) -> str:
    return "\n".join(
        "\n".join([s.message.text, *(x.text for x in s.message.sections)]) for s in adapter.sent
    )


async def week_of_entries(bot: Dispatcher, deps: Deps, adapter: RecordingAdapter) -> None:
    await say(bot, FRAN, "experiment new title=Doorstep hypothesis=H try=X expect=E")
    checkin = "checkin 1 happened={!r} surprise=80 confidence=60 visibility={}"
    await say(bot, ADA, checkin.format(PRIVATE, "private").replace("'", '"'))
    await say(bot, ADA, checkin.format(FACILITATORS, "facilitators").replace("'", '"'))
    await say(bot, ADA, checkin.format(ADA_ANON, "group").replace("'", '"'))
    await say(bot, ADA, checkin.format(ADA_NAMED, "group").replace("'", '"') + " named=yes")
    await say(
        bot, BO, checkin.format("Bo saw families open the door at once.", "group").replace("'", '"')
    )
    await say(
        bot,
        BO,
        checkin.format("Bo found the waiting list shorter again.", "group").replace("'", '"'),
    )
    await say(bot, FRAN, "round start")
    await drain(deps)
    await say(bot, ADA, f'answer 1 tried="{ADA_ANSWER}" visibility=group', dm(ADA))
    await say(bot, BO, f'answer 1 tried="{ANSWER_PRIVATE}" visibility=private', dm(BO))
    await say(bot, FRAN, "round close 1")
    await say(bot, FRAN, "digest now")
    await drain(deps)


async def test_what_privacy_promises_holds_before_and_after_forget_me(
    deps: Deps, adapter: RecordingAdapter, clock: Clock, logs: Records
) -> None:
    bot = make_dispatcher(deps)
    await week_of_entries(bot, deps, adapter)
    hidden = (PRIVATE, FACILITATORS, ANSWER_PRIVATE)

    out, rows = posted(adapter), await stored(deps)
    assert ADA_ANON in rows or ADA_ANON in out  # the story reached a digest
    for canary in hidden:
        assert canary not in out and canary not in rows
    # Anonymous quotes carry a one-digest label, never a name or a lasting pseudonym.
    labels = LABEL.findall(out + rows)
    assert labels and all(re.fullmatch(r"[A-Z]+", x) for x in labels), labels
    quotes = QUOTE.findall(out)
    assert any(ADA_ANON.startswith(q.rstrip("…")) for q, _ in quotes)
    for quote, author in quotes:
        if ADA_ANON.startswith(quote.rstrip("…")):
            assert author != "Adaline"

    # What `privacy` and `help checkin` say is what was just done.
    said = (await say(bot, ADA, "privacy")).message.text + (
        await say(bot, ADA, "help checkin")
    ).message.text
    assert '"Member A"' in said and "label that lasts one digest" in said
    assert "a member" not in said.replace('`experiment show` says "a member"', "")

    export = await say(bot, ADA, "export")
    [path] = export.message.attachments
    assert PRIVATE in _read(path)  # hers, for her alone

    gone = await say(bot, ADA, "forget-me confirm")
    assert "1 export file" in gone.message.text
    assert not (deps.settings.bot.data_dir / "exports").exists() or not any(
        (deps.settings.bot.data_dir / "exports").iterdir()
    )
    rows = await stored(deps)
    for words in (ADA_ANON, ADA_NAMED, ADA_ANSWER, "Adaline", *hidden):
        assert words not in rows, words
    shown = await say(bot, BO, "digest show")
    text = "\n".join([shown.message.text, *(s.text for s in shown.message.sections)])
    assert "Weekly digest" in text
    for words in (ADA_ANON, ADA_NAMED, "Adaline"):
        assert words not in text

    # An export is gone within the hour even when nobody asks.
    await say(bot, BO, "export")
    clock.advance(minutes=50)
    assert await exportfiles.expire_exports(deps.settings.bot.data_dir, clock()) == 1

    # The next week's digest draws its labels afresh: still letters, never an id or a hash.
    clock.advance(days=7)
    await say(
        bot,
        BO,
        'checkin 1 happened="Bo heard the same story from three families." surprise=70 '
        "confidence=60 visibility=group",
    )
    await say(bot, FRAN, "digest now")
    await drain(deps)
    labels = LABEL.findall(posted(adapter) + await stored(deps))
    assert all(re.fullmatch(r"[A-Z]+", x) for x in labels), labels

    logging.getLogger("bot.privacy").debug("the capture works")
    assert "the capture works" in logs.lines  # the bot's own DEBUG records do reach it
    everything = "\n".join(logs.lines)
    for words in (*hidden, ADA_ANON, ADA_NAMED, ADA_ANSWER):
        assert words not in everything, words


def test_privacy_text_says_what_the_code_does() -> None:
    text = privacy.PRIVACY_TEXT
    assert '"Member A"' in text and "never carries over" in text
    swept = exportfiles.EXPORT_LIFETIME + exportfiles.EXPORT_SWEEP
    assert "within an hour" in text and swept <= timedelta(hours=1)
    assert "cannot be recalled" in text and "`digest show` no longer" in text
    assert "logs never hold what you wrote" in text


async def test_database_errors_never_quote_entry_text(deps: Deps) -> None:
    """Statement parameters are hidden on the bot's engine: an error names the statement only."""
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    with pytest.raises(DBAPIError) as caught:
        async with deps.db.engine.begin() as conn:
            await conn.execute(text("INSERT INTO nowhere (x) VALUES (:x)"), {"x": PRIVATE})
    assert PRIVATE not in str(caught.value)
