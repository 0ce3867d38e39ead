"""The newsroom's desk: readers' refusals and thumbs-down into the queue, the queue checked against new
articles, and the figures the Editors page shows.

    desk = Desk.open(settings, assistant, store)
    desk.refused(question, answer.to_dict(), turn_id)     # every entry point, after storing the turn
    desk.disliked(turn_id)                                # thumbs down (once per turn)
    desk.check_new(["cms-4711"])     # after an ingest: [{"id", "question", "answered_by"}] of the items
                                     # those articles answer, now recorded in the queue
    desk.outcomes(days=30)           # [{"day", "answered", "refused"}]
    desk.feedback(days=30)           # [{"day", "helpful", "not_helpful"}]
    desk.top_articles(days=30)       # [{"doc_id", "title", "url", "answers"}]: what readers come for

Whether a new article answers an item is what the assistant itself says: the item's question is asked
again, with the extractive answerer (no model call), and the item is answered when the answer does not
abstain and cites one of the new articles. Only the items closest to the new articles are asked (their
questions' vectors against the articles' passages): CANDIDATES_PER_ARTICLE each, MAX_CHECKS in all.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np

from assistant.config import Settings
from assistant.errors import AssistantError
from assistant.index.profile import profile_for
from assistant.questions import SOURCE_FIELDS, QuestionEmbedder, QuestionQueue
from assistant.service import Assistant
from assistant.storage import Store

log = logging.getLogger(__name__)
CANDIDATES_PER_ARTICLE = 3
MAX_CHECKS = 20


def article_fields(assistant: Assistant, doc_ids: list[str]) -> list[dict[str, Any]]:
    """(doc_id, title, url, outlet, date, lang) of indexed articles, from their first passages."""
    if not doc_ids:
        return []
    return [{field: str(article.get(field) or "") for field in SOURCE_FIELDS}
            for article in assistant.first_passages(doc_ids)]


@dataclass
class Desk:
    settings: Settings
    assistant: Assistant
    store: Store
    queue: QuestionQueue

    @classmethod
    def open(cls, settings: Settings, assistant: Assistant, store: Store) -> Desk:
        profile = assistant.profile or profile_for(settings.embedding)  # the embedder's cosines
        queue = QuestionQueue(store.engine, QuestionEmbedder(assistant.embedder), settings.storage,
                              lookup=lambda doc_ids: article_fields(assistant, doc_ids),
                              group_similarity=profile.topics.question_groups)
        return cls(settings, assistant, store, queue)

    # --- into the queue --------------------------------------------------------------------------
    def refused(self, question: str, answer: dict[str, Any], turn_id: str | None) -> None:
        """Keep a turn whose answer abstained; a failure is logged, never the reader's problem."""
        if not answer.get("abstained"):
            return
        try:
            self.queue.record(question, answer, "refused", turn_id=turn_id)
        except Exception:  # the edge of a side effect: the answer was given, the queue misses one
            log.exception("could not keep a refused question in the queue")

    def disliked(self, turn_id: str) -> None:
        """Keep the question of a turn rated down (a turn kept already, refused, counts once)."""
        try:
            turn = self.store.turn(turn_id)
            if turn is not None:
                self.queue.record(turn["question"], turn["answer"], "disliked", turn_id=turn_id)
        except Exception:
            log.exception("could not keep a disliked answer's question in the queue")

    # --- out of the queue ------------------------------------------------------------------------
    def check_new(self, doc_ids: Iterable[str]) -> list[dict[str, Any]]:
        """The open items that the articles ``doc_ids`` (just ingested) answer, recorded as answered."""
        new = list(dict.fromkeys(doc_ids))
        items = self.queue.open_items() if new else []
        if not items:
            return []
        rows = self.assistant.passages(new, include=["embeddings", "metadatas"])
        if not rows["ids"]:
            return []
        passages = np.asarray(rows["embeddings"], dtype=np.float32)
        passages /= np.maximum(np.linalg.norm(passages, axis=1, keepdims=True), 1e-9)
        owners = np.asarray([str((meta or {}).get("doc_id")) for meta in rows["metadatas"]])
        questions = np.stack([vector for _, _, vector in items])
        similarity = questions @ passages.T  # items × passages
        best: dict[int, float] = {}
        for doc_id in set(owners):
            per_item = similarity[:, owners == doc_id].max(axis=1)
            for position in np.argsort(-per_item)[:CANDIDATES_PER_ARTICLE]:
                best[int(position)] = max(best.get(int(position), -1.0), float(per_item[position]))
        chosen = sorted(best, key=lambda position: -best[position])[:MAX_CHECKS]
        checker = self.assistant.without_model()  # the extractive answer decides: no model is called
        answered = []
        for position in chosen:
            group_id, question, _ = items[position]
            try:
                answer = checker.ask(question)
            except AssistantError as exc:
                log.warning("could not check %r against new articles: %s", question, exc)
                continue
            cited = [doc_id for doc_id in answer.cited_doc_ids if doc_id in new]
            if not answer.abstained and cited:
                self.queue.mark_answered(group_id, cited)
                answered.append({"id": group_id, "question": question, "answered_by": cited})
        return answered

    # --- the Editors page's figures --------------------------------------------------------------
    def _turns(self, days: int) -> list[tuple[datetime, dict[str, Any]]]:
        return self.store.turns_since(datetime.now(UTC) - timedelta(days=days))

    def outcomes(self, days: int = 30) -> list[dict[str, Any]]:
        """Answered and refused turns per day (UTC), oldest first, the days with none included."""
        counts: dict[date, Counter[str]] = {day: Counter() for day in last_days(days)}
        for moment, answer in self._turns(days):
            day = _day(moment)
            if day in counts:
                counts[day]["refused" if answer.get("abstained") else "answered"] += 1
        return [{"day": day.isoformat(), "answered": c["answered"], "refused": c["refused"]}
                for day, c in counts.items()]

    def feedback(self, days: int = 30) -> list[dict[str, Any]]:
        """Helpful and not helpful ratings per day (UTC), oldest first."""
        counts: dict[date, Counter[int]] = {day: Counter() for day in last_days(days)}
        for moment, rating in self.store.ratings_since(datetime.now(UTC) - timedelta(days=days)):
            if _day(moment) in counts:
                counts[_day(moment)][rating] += 1
        return [{"day": day.isoformat(), "helpful": c[1], "not_helpful": c[-1]} for day, c in counts.items()]

    def top_articles(self, days: int = 30, limit: int = 10) -> list[dict[str, Any]]:
        """The articles that the most answers cited: what readers come for."""
        cited: Counter[str] = Counter()
        fields: dict[str, dict[str, Any]] = {}
        for _, answer in self._turns(days):
            for source in {s.get("doc_id"): s for s in answer.get("sources") or []}.values():
                doc_id = str(source.get("doc_id") or "")
                cited[doc_id] += 1
                fields[doc_id] = {key: str(source.get(key) or "") for key in ("title", "url")}
        return [{"doc_id": doc_id, **fields[doc_id], "answers": count}
                for doc_id, count in cited.most_common(limit)]


def last_days(days: int) -> list[date]:
    today = datetime.now(UTC).date()
    return [today - timedelta(days=back) for back in range(days - 1, -1, -1)]


def _day(moment: datetime) -> date:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC).date()


def ingested(reports: Sequence[Any]) -> list[str]:
    """The documents added or updated by ingest reports (an IngestReport or a FeedResult each)."""
    return [doc_id for report in reports for doc_id in [*report.added, *report.updated]]
