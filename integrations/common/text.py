"""Text for each platform with nothing in it that the platform would act on.

Everything in the core's Message, Section and Reply is treated as text that may hold what a
member wrote: the core never writes a mention or a link, so a renderer escapes all of it and
cannot forget a field. What survives is harmless layout: bullets, *emphasis* and, on Slack, a
`>` quote at the start of a line."""

from __future__ import annotations

import re

_BOLD = re.compile(r"\*\*(.+?)\*\*", re.DOTALL)
_MID_GT = re.compile(r"(?<!^)(?<!\n)>")

# Discord: @everyone/@here, and <@user>, <@!user>, <@&role>, <#channel>, </command:id>,
# <:emoji:id>, <a:emoji:id>, <t:timestamp> (the `<` starts each of these).
_DISCORD_AT = re.compile(r"@(?=everyone|here)")
_DISCORD_ANGLE = re.compile(r"<(?=[@#/:]|a:|t:|id:)")
# A masked link is `[label](url)`; with `](` split nothing can disguise a link.
_DISCORD_MASK = re.compile(r"\](?=\s*\()")
ZWSP = "\u200b"

# ANSI/VT escape sequences (CSI, OSC, and other two-byte escapes), then what is left of the
# C0/C1 controls (not newline or tab) and the bidirectional overrides that reorder text.
_ANSI = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI … final byte
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC … BEL or ST
    r"|\x9b[0-?]*[ -/]*[@-~]"  # 8-bit CSI
    r"|\x1b[@-_]?"  # other escapes, and a lone ESC
)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def slack_plain(text: str) -> str:
    """For Slack's `text` field (notifications and the fallback): `&`, `<` and `>` escaped, so
    `<!channel>`, `<@U…>`, `<#C…>`, `<!subteam^…>` and `<url|label>` stay text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_mrkdwn(text: str) -> str:
    """For mrkdwn blocks: escaped as slack_plain, except a `>` opening a line (a quote, which
    cannot make a mention or link without a `<`); **bold** becomes Slack's *bold*. Markdown
    links are left as written: mrkdwn shows `[label](url)` as text with the real address."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;")
    escaped = _MID_GT.sub("&gt;", escaped)
    return _BOLD.sub(r"*\1*", escaped)


def discord(text: str) -> str:
    """For Discord content, embed titles and descriptions: mentions shown, not made (a
    zero-width space after `@` or `<`), and masked links split so the address shows. Sends also
    carry AllowedMentions.none(), so even a missed mention pings nobody."""
    text = _DISCORD_AT.sub("@" + ZWSP, text)
    text = _DISCORD_ANGLE.sub("<" + ZWSP, text)
    return _DISCORD_MASK.sub("]" + ZWSP, text)


def terminal(text: str) -> str:
    """For the console: no escape sequence or control character reaches the terminal (they
    could recolour it, move the cursor, retitle the window or hide text)."""
    return _CONTROL.sub("", _ANSI.sub("", text))


# Teams: an Adaptive Card's TextBlock renders a subset of Markdown, where `[label](url)` is a
# link, and Teams reads `<at>…</at>` as a mention.
_TEAMS_ANGLE = re.compile(r"<(?=/?at\b)", re.IGNORECASE)


def teams(text: str) -> str:
    """For Adaptive Card TextBlocks: masked links split so the address shows, and `<at>` kept
    as text. TextBlocks never render HTML, so nothing else needs escaping."""
    text = _TEAMS_ANGLE.sub("<" + ZWSP, text)
    return _DISCORD_MASK.sub("]" + ZWSP, text)
