"""Follow-up questions → standalone search queries.

Without a model the heuristic joins the question to the user's earlier questions and the start of
the last answer: "and how many were signed?" after "What did Putin's visit produce?" searches for
both. With a model, ``prompts/condense_question.md`` asks it to rewrite the question.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.documents import Turn
from assistant.languages import languages, stem, word_list
from assistant.text import is_refusal, tokenize, without_label

CITATION_MARK = re.compile(r"\s*\[\d+\]")
# Words that point back at an earlier turn ("when was *it* founded?") and words too common to tie a
# question to an earlier one: every language's (assistant/languages: follow_up_words, follow_up_common),
# as a question's language may be misread.
ANAPHORA = frozenset(word for lang in languages() for word in word_list(lang, "follow_up_words"))
COMMON = frozenset(word for lang in languages() for word in word_list(lang, "follow_up_common"))
PROPER_NOUN = re.compile(r"(?<=\s)[A-ZÀ-ÖØ-ÞĐА-ЯЁ][\w'’-]+")


def heuristic_query(question: str, history: Sequence[Turn], max_turns: int = 6) -> str:
    """The question with the earlier user turns (most recent first) and the last answer's start.

    The answer's start carries the names a follow-up refers to ("he", "that deal").
    """
    if not history:
        return question
    recent = list(history)[-2 * max_turns:] if max_turns else []
    earlier = [t.content for t in reversed(recent) if t.role == "user"]
    answers = [t.content for t in reversed(recent) if t.role == "assistant" and not is_refusal(t.content)]
    parts = [question, *earlier]
    if answers:
        parts.append(CITATION_MARK.sub("", without_label(answers[0]))[:200])
    return "\n".join(p.strip() for p in parts if p.strip())


def topic_turns(question: str, history: Sequence[Turn], lang: str = "") -> list[Turn]:
    """The earlier turns the question follows up on: those since the conversation last turned to a
    topic the articles do not cover. Words are compared by their stems in the question's language
    ``lang`` (``languages.stem``).

    A user turn that names something of its own (a capitalised name after the first word), points
    back at nothing ("it", "he", "there"...), shares no word with the turns before it and was not
    answered starts a topic of its own: "When was it founded?" after "What is the population of
    Brazil?" (not answered) follows up on Brazil, not on the minister asked about before, whose
    article would be quoted again. (A new topic that was answered keeps the turns before it: in a
    conversation about one story, a question with a new name is still about that story.)
    """
    turns = list(history)
    start = 0
    for position, turn in enumerate(turns):
        answered = position + 1 >= len(turns) or not is_refusal(turns[position + 1].content)
        if turn.role == "user" and position > start and not answered \
                and _new_topic(turn.content, turns[start:position], lang):
            start = position
    return turns[start:]


def _new_topic(question: str, earlier: Sequence[Turn], lang: str) -> bool:
    words = tokenize(question)
    if not earlier or not PROPER_NOUN.search(question) or ANAPHORA.intersection(words):
        return False
    seen = {stem(w, lang) for t in earlier if not is_refusal(t.content) for w in tokenize(t.content)}
    return not any(stem(w, lang) in seen for w in words if len(w) > 2 and w not in COMMON)


def history_context(history: Sequence[Turn], max_turns: int = 6) -> str:
    """The user's earlier questions as plain text (a light weight when choosing answer sentences).

    Earlier answers are left out: weighting their words would quote the same sentences again.
    """
    recent = list(history)[-2 * max_turns:] if max_turns else []
    return " ".join(t.content for t in recent if t.role == "user")
