"""Pick the summariser from settings: offline by default; the LLM one falls back to offline."""

from __future__ import annotations

from bot.config import Settings
from bot.summarise.base import Summariser
from bot.summarise.offline import OfflineSummariser


def make_summariser(settings: Settings) -> Summariser:
    offline = OfflineSummariser()
    if settings.digest.summariser == "llm":
        # Lazy: the model client takes seconds to import and only this setting needs it.
        from bot.summarise.llm import LLMSummariser

        llm: Summariser = LLMSummariser(settings.llm, fallback=offline)
        return llm
    return offline
