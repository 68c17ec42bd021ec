"""Pick the summariser from settings: offline by default; the LLM one falls back to offline."""

from __future__ import annotations

from bot.config import Settings
from bot.summarise.base import Summariser


def make_summariser(settings: Settings) -> Summariser:
    from bot.summarise.offline import OfflineSummariser

    offline = OfflineSummariser()
    if settings.digest.summariser == "llm":
        from bot.summarise.llm import LLMSummariser

        llm: Summariser = LLMSummariser(settings.llm, fallback=offline)
        return llm
    return offline
