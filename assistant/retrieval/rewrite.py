"""Follow-up questions → standalone search queries.

Without a model the heuristic joins the question to the user's earlier questions and the start of
the last answer: "and how many were signed?" after "What did Putin's visit produce?" searches for
both. With a model, ``prompts/condense_question.md`` asks it to rewrite the question.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.documents import Turn

CITATION_MARK = re.compile(r"\s*\[\d+\]")


def heuristic_query(question: str, history: Sequence[Turn], max_turns: int = 6) -> str:
    """The question with the earlier user turns (most recent first) and the last answer's start.

    The answer's start carries the names a follow-up refers to ("he", "that deal").
    """
    if not history:
        return question
    recent = list(history)[-2 * max_turns:] if max_turns else []
    earlier = [t.content for t in reversed(recent) if t.role == "user"]
    answers = [t.content for t in reversed(recent) if t.role == "assistant"]
    parts = [question, *earlier]
    if answers:
        parts.append(CITATION_MARK.sub("", answers[0])[:200])
    return "\n".join(p.strip() for p in parts if p.strip())


def history_context(history: Sequence[Turn], max_turns: int = 6) -> str:
    """The user's earlier questions as plain text (a light weight when choosing answer sentences).

    Earlier answers are left out: weighting their words would quote the same sentences again.
    """
    recent = list(history)[-2 * max_turns:] if max_turns else []
    return " ".join(t.content for t in recent if t.role == "user")
