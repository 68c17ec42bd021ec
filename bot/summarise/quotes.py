"""Which sentences may stand for a theme: a full thought in the member's own words, never a
stock remark, a five-word note, or a text that speaks to the summariser instead of the group."""

from __future__ import annotations

import re

MIN_WORDS = 6
SHORT_WORDS = 4  # a short note: quoted only when a theme has nothing fuller
MIN_CHARS = 30
MAX_CHARS = 280

# Words addressed to a summariser or a model rather than to the group: such an entry is kept
# in its theme's count but never chosen to represent it.
_INSTRUCTION = re.compile(
    r"\b(?:ignore|disregard|forget|override)\b[^.!?]{0,40}"
    r"\b(?:instructions?|prompts?|rules|above|previous|everything)\b"
    r"|\bsystem prompt\b|\bas an ai\b|\bjailbreak\b"
    r"|\byou are (?:now )?(?:an? )?(?:ai|assistant|language model|chat ?bot|bot|summari[sz]er)\b"
    r"|\b(?:summari[sz]er|summary|digest|assistant|chatgpt|llm|language model|the model|the ai)\b"
    r"[^.!?]{0,30}\b(?:must|should|shall|will)\s+(?:say|write|list|print|output|include|report|"
    r"reveal|state|call)\b"
    r"|^\s*(?:please\s+)?(?:list|print|output|reveal|repeat|return|respond with|reply with)\s",
    re.IGNORECASE,
)


# A sentence that only says what comes next ("Try the same question with families present.") is
# a to-do, not what the group learned: it stands for a theme only when nothing else can.
_PLAN = re.compile(
    r"^\s*(?:next\b|try\b|we(?:'ll|’ll| will| plan| are going| need to| should)\b|"
    r"i(?:'ll|’ll| will| plan)\b|plan\b|let'?s\b|ask\b|bring\b|draft\b|book\b|call\b|"
    r"check\b|make sure\b|follow up\b|keep\b|start\b|stop\b|add\b|write\b|send\b|"
    # Imperatives of verbs that rarely open a sentence as a noun ("Share the count with the
    # clinic team."): a to-do, whatever field it came from.
    r"share\b|invite\b|tell\b|repeat\b|agree\b|review\b|meet\b|involve\b|include\b|"
    r"offer\b|give\b|take\b|get\b|go\b|find out\b|remind\b|prepare\b|arrange\b|"
    r"ring\b|phone\b|email\b|schedule\b|explore\b)",
    re.IGNORECASE,
)


def is_plan(text: str) -> bool:
    """True when the sentence is a next step rather than something seen or learned."""
    return _PLAN.match(text) is not None


def is_instruction(text: str) -> bool:
    """True when the text reads as an instruction to whoever summarises it."""
    return _INSTRUCTION.search(text) is not None


def quotable(sentence: str) -> bool:
    """A sentence that may stand for a theme when no full thought does (a round's short
    answers): a few words at least, and not too long to quote."""
    s = sentence.strip()
    return len(s.split()) >= SHORT_WORDS and len(s) <= MAX_CHARS


def full_thought(sentence: str) -> bool:
    """A sentence that says something on its own: long enough, not too long to quote, and
    ending as a sentence does."""
    s = sentence.strip()
    return (
        len(s.split()) >= MIN_WORDS and MIN_CHARS <= len(s) <= MAX_CHARS and s[-1] in ".!?…\"'’”)"
    )
