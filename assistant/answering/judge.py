"""Does the model read the answer in the sources? One short call before the long one.

    judge = AnswerabilityJudge(settings, chat_model, guard)
    judge.verdict(answer_messages, question)   # True, False (abstain at once), None; or ModelError

The question goes to the model after the answer prompt's own messages (prompts/judge.md), with
room for a word or two (JUDGE_MAX_TOKENS): a server that caches prompt prefixes (llama.cpp) then
reads the sources once for both calls. "No" lets the turn abstain without writing; a reply that is
neither yes nor no gives no verdict, and the turn goes on as without the judge. A model fault is a
ModelError, as for any call (the turn then quotes the articles with a notice, at once: a model that
failed the short call would only make the reader wait a second first-token deadline).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any

from langchain_core.output_parsers import StrOutputParser

from assistant.answering.llm import ModelGuard, with_max_tokens
from assistant.answering.prompts import load_prompt
from assistant.config import Settings
from assistant.text import NO_ANSWER, normalise

log = logging.getLogger(__name__)

JUDGE_MAX_TOKENS = 2
# "yes" and "no" as a model may put them when the reader's instructions ask for another language
YES = {"yes", "ja", "oui", "si", "sí", "да", "có", "vâng", "sim", "tak"}
NO = {"no", "nee", "nein", "non", "нет", "không", "nao", "não", "nie"}


class AnswerabilityJudge:
    """Asks the configured model whether the numbered sources state the answer."""

    def __init__(self, settings: Settings, chat_model: Any, guard: ModelGuard | None = None) -> None:
        self.guard = guard or ModelGuard(settings)
        self.prompt = load_prompt(settings.prompts_dir, "judge")
        self.model = with_max_tokens(chat_model, settings, JUDGE_MAX_TOKENS).bind(temperature=0)

    def verdict(self, messages: Sequence[Any], question: str) -> bool | None:
        """True: the sources state the answer; False: they do not; None: no verdict (a reply that is
        neither yes nor no). Raises ModelError when the model cannot be used (logged by the guard)."""
        asked = [*messages, *self.prompt.format_messages(question=question)]

        def call(timeout: float) -> str:
            chain = (self.model.bind(timeout=timeout)
                     | StrOutputParser()).with_config(run_name="judge_answerability")
            return str(chain.invoke(asked))

        reply = self.guard.invoke(call)
        found = read_verdict(reply)
        log.info("answerability judge: %r → %s", reply[:40], found)
        return found


def read_verdict(reply: str) -> bool | None:
    """yes → True, no → False, else None; the start of the fixed abstention counts as no (a model
    may begin the answer prompt's "The articles do not answer ..." instead)."""
    words = re.findall(r"[^\W\d_]+", reply.lower())
    if not words:
        return None
    if words[0] in YES:
        return True
    if words[0] in NO:
        return False
    said = normalise(reply)
    if len(said) >= 8 and any(normalise(text).startswith(said) for text in NO_ANSWER.values()):
        return False
    return None
