"""Do the sources state the answer? One short call before the long one.

    judge = AnswerabilityJudge(settings.model, chat_model, guard)
    judge.verdict(answer_messages, question, sources)   # True, False (abstain at once), None; or ModelError

The question goes to the model after the answer prompt's own messages (prompts/judge.md): a server
that caches prompt prefixes (llama.cpp) then reads the sources once for both calls. The model copies
the words of the sources that answer it, or says NONE (JUDGE_MAX_TOKENS leaves room for a phrase).
"NONE" lets the turn abstain without writing; a copy found in the sources lets it go on; anything
else gives no verdict, and the turn goes on as without the judge (its answer is still checked
claim by claim). A model fault is a ModelError, as for any call (the turn then quotes the articles
with a notice, at once: a model that failed the short call would only make the reader wait a second
first-token deadline).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any

from langchain_core.output_parsers import StrOutputParser

from assistant.answering.llm import ModelGuard, with_max_tokens
from assistant.answering.prompts import load_prompt
from assistant.config import ModelSettings
from assistant.languages import every_word
from assistant.text import NO_ANSWER, normalise

log = logging.getLogger(__name__)

JUDGE_MAX_TOKENS = 48
# A copy whose words are at least this share of the sources' words is one (a model may reorder or
# drop a word); below it the model wrote something of its own.
COPIED = 0.6
# "none" (and the words for "no"), and "yes", as a model asked for a copy may still reply (the judge's
# earlier form), in any language: every language file's model_none, model_no and model_yes
NONE = every_word("model_none")
YES = every_word("model_yes")
NO = every_word("model_no")


class AnswerabilityJudge:
    """Asks the configured model to copy the answer from the numbered sources."""

    def __init__(self, llm: ModelSettings, chat_model: Any, guard: ModelGuard | None = None) -> None:
        self.guard = guard or ModelGuard(llm)
        self.prompt = load_prompt(llm.prompts_dir, "judge")
        self.model = with_max_tokens(chat_model, llm, JUDGE_MAX_TOKENS).bind(temperature=0)

    def verdict(self, messages: Sequence[Any], question: str, sources: str) -> bool | None:
        """True: the model copied an answer from ``sources``; False: it said they hold none; None:
        no verdict. Raises ModelError when the model cannot be used (logged by the guard)."""
        asked = [*messages, *self.prompt.format_messages(question=question)]

        def call(timeout: float) -> str:
            chain = (self.model.bind(timeout=timeout)
                     | StrOutputParser()).with_config(run_name="judge_answerability")
            return str(chain.invoke(asked))

        reply = self.guard.invoke(call)
        found = read_verdict(reply, sources)
        log.info("answerability judge: %r → %s", reply[:60], found)
        return found


def read_verdict(reply: str, sources: str) -> bool | None:
    """NONE (or no, or the start of the fixed abstention) → False; a copy of the sources → True;
    yes → True; anything else → None."""
    words = re.findall(r"[^\W_]+", normalise(reply))
    if not words:
        return None
    if words[0] == "none" or (len(words) <= 2 and words[0] in NONE | NO):
        return False
    if len(words) <= 2 and words[0] in YES:
        return True
    said = normalise(reply)
    if len(said) >= 8 and any(normalise(text).startswith(said[:40]) for text in NO_ANSWER.values()):
        return False
    known = set(re.findall(r"[^\W_]+", normalise(re.sub(r"<[^>]*>", " ", sources))))  # text, not markup
    return True if sum(word in known for word in words) >= COPIED * len(words) else None
