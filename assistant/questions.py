"""The unanswered-questions queue: what readers asked and could not get, grouped with its near-duplicates.

    queue = QuestionQueue(store.engine, QuestionEmbedder(assistant.embedder), settings.storage,
                          group_similarity=assistant.profile.topics.question_groups)
    queue.record(question, answer.to_dict(), "refused", turn_id=turn_id)   # a refusal, or "disliked"
    queue.items("unanswered")    # [{"question", "variants", "count", "languages", "first_asked", ...}]
    queue.as_csv("all")
    queue.open_items()           # what an article ingested later may answer (assistant.desk)
    queue.mark_answered(group_id, ["doc-1"])

Kept per question: its text, language, time and closest articles; never an address or a reader's id (a
turn's id is kept only so that a refusal rated down counts once). Questions older than
QUESTION_RETENTION_DAYS are removed whenever the queue is written or read.

Near-duplicates in any language are one item: a question joins the item of its most similar earlier
question when their query vectors' cosine is at least ``group_similarity``, the embedder profile's
topics.question_groups (for e5 fitted on the xling dev set's questions, which ask each question in four
languages: benchmarks/fit_question_groups.py, BENCHMARKS.md).
"""

from __future__ import annotations

import csv
import io
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import numpy as np
from sqlalchemy import JSON, DateTime, Integer, LargeBinary, String, Text, delete, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker

from assistant.config import StorageSettings

Reason = Literal["refused", "disliked"]
Status = Literal["unanswered", "answered", "all"]
STATUSES = ("unanswered", "answered", "all")
CLOSEST_KEPT = 3  # articles kept per question
CLOSEST_SHOWN = 5  # per item
SOURCE_FIELDS = ("doc_id", "title", "url", "outlet", "date", "lang")
Lookup = Callable[[list[str]], list[dict[str, Any]]]  # doc ids → their articles' fields


class QuestionBase(DeclarativeBase):
    pass


class AskedRow(QuestionBase):
    __tablename__ = "asked_questions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    group_id: Mapped[int] = mapped_column(Integer, index=True)
    question: Mapped[str] = mapped_column(Text)
    lang: Mapped[str] = mapped_column(String(16), default="")
    reason: Mapped[str] = mapped_column(String(16))
    asked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    closest: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    vector: Mapped[bytes] = mapped_column(LargeBinary)
    turn_id: Mapped[str | None] = mapped_column(String(36), nullable=True, unique=True)


class GroupRow(QuestionBase):
    __tablename__ = "question_groups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    answered_by: Mapped[list[str]] = mapped_column(JSON, default=list)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class QuestionEmbedder:
    """A question's e5 query vector (the project's embedder, offline), L2-normalised float32."""

    def __init__(self, embedder: Any) -> None:
        self.embedder = embedder

    def vector(self, question: str) -> np.ndarray:
        vector = np.asarray(self.embedder.embed_query(" ".join(question.split())), dtype=np.float32)
        norm = float(np.linalg.norm(vector))
        return vector / norm if norm > 0 else vector


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _iso(moment: datetime) -> str:
    return _aware(moment).astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def closest_of(answer: dict[str, Any], lookup: Lookup | None = None) -> list[dict[str, Any]]:
    """The articles closest to a question its answer names: the refusal's ``related`` ones, else what
    it cited, else the first it retrieved (their fields looked up)."""
    for key in ("related", "sources"):
        found = [{field: str(s.get(field) or "") for field in SOURCE_FIELDS} for s in answer.get(key) or []]
        if found:
            return list({s["doc_id"]: s for s in found}.values())[:CLOSEST_KEPT]
    doc_ids = list(dict.fromkeys(str(d) for d in answer.get("retrieved_doc_ids") or []))[:CLOSEST_KEPT]
    found = {s["doc_id"]: s for s in (lookup(doc_ids) if lookup and doc_ids else [])}
    return [found.get(doc_id, {"doc_id": doc_id}) for doc_id in doc_ids]


class QuestionQueue:
    """The queue in the SQL store (DATABASE_URL), beside conversations and feeds."""

    def __init__(self, engine: Engine, embedder: QuestionEmbedder, settings: StorageSettings,
                 lookup: Lookup | None = None, *, group_similarity: float) -> None:
        QuestionBase.metadata.create_all(engine)
        self.group_similarity = group_similarity  # the embedder's (its profile's topics.question_groups)
        self._session = sessionmaker(engine, expire_on_commit=False)
        self.embedder, self.lookup = embedder, lookup
        self.retention = timedelta(days=settings.question_retention_days)
        self._lock = threading.Lock()
        # every kept question's vector, read once and then only the rows added since (other processes too)
        self._seen_id = 0
        self._ids: list[int] = []
        self._groups: list[int] = []
        self._vectors = np.zeros((0, 0), dtype=np.float32)

    # --- writing ---------------------------------------------------------------------------------
    def record(self, question: str, answer: dict[str, Any], reason: Reason, *, turn_id: str | None = None,
               lang: str = "", asked_at: datetime | None = None) -> int | None:
        """Keep one refused or disliked question; returns its item's id (None when this turn was kept
        already: a refusal that is then rated down counts once)."""
        question = " ".join(question.split())
        if not question:
            return None
        if not lang:
            from assistant.text import detect_language

            lang = detect_language(question)
        vector = self.embedder.vector(question)
        closest = closest_of(answer, self.lookup)
        with self._lock, self._session.begin() as session:
            if turn_id and session.scalar(select(AskedRow.id).where(AskedRow.turn_id == turn_id)):
                return None
            self._purge(session)
            group_id = self._nearest_group(session, vector)
            if group_id is None:
                group = GroupRow(answered_by=[])
                session.add(group)
                session.flush()
                group_id = group.id
            session.add(AskedRow(group_id=group_id, question=question, lang=lang, reason=reason,
                                 asked_at=asked_at or _now(), closest=closest,
                                 vector=vector.astype(np.float32).tobytes(), turn_id=turn_id))
            return group_id

    def mark_answered(self, group_id: int, doc_ids: Sequence[str]) -> None:
        """Record the articles that answer an item (added to those known)."""
        with self._session.begin() as session:
            group = session.get(GroupRow, group_id)
            if group is None:
                return
            known = list(group.answered_by or [])
            group.answered_by = known + [d for d in dict.fromkeys(doc_ids) if d not in known]
            group.answered_at = group.answered_at or _now()

    def _purge(self, session: Any) -> None:
        cutoff = _now() - self.retention
        session.execute(delete(AskedRow).where(AskedRow.asked_at < cutoff))
        kept = select(AskedRow.group_id).distinct()
        session.execute(delete(GroupRow).where(GroupRow.id.not_in(kept)))

    def purge(self) -> None:
        """Remove the questions older than QUESTION_RETENTION_DAYS (and items left empty)."""
        with self._lock, self._session.begin() as session:
            self._purge(session)

    def _nearest_group(self, session: Any, vector: np.ndarray) -> int | None:
        """The item of the most similar kept question, when it is similar enough."""
        rows = session.execute(select(AskedRow.id, AskedRow.group_id, AskedRow.vector)
                               .where(AskedRow.id > self._seen_id).order_by(AskedRow.id)).all()
        if rows:
            added = np.stack([np.frombuffer(row.vector, dtype=np.float32) for row in rows])
            self._vectors = added if not len(self._ids) else np.vstack([self._vectors, added])
            self._ids += [row.id for row in rows]
            self._groups += [row.group_id for row in rows]
            self._seen_id = rows[-1].id
        if not self._ids:
            return None
        live = set(session.scalars(select(AskedRow.id)))  # purged rows (here or elsewhere) drop out
        keep = [i for i, row_id in enumerate(self._ids) if row_id in live]
        if len(keep) < len(self._ids):
            self._ids = [self._ids[i] for i in keep]
            self._groups = [self._groups[i] for i in keep]
            self._vectors = self._vectors[keep]
        if not self._ids:
            return None
        similarities = self._vectors @ vector
        best = int(np.argmax(similarities))
        return self._groups[best] if float(similarities[best]) >= self.group_similarity else None

    # --- reading ---------------------------------------------------------------------------------
    def items(self, status: Status = "unanswered") -> list[dict[str, Any]]:
        """The queue's items, most asked first: {"question", "variants", "count", "languages",
        "first_asked", "last_asked", "closest", "answered_by", "refused", "disliked", "id"}."""
        if status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, not {status!r}")
        with self._lock, self._session.begin() as session:
            self._purge(session)
            groups = {g.id: g for g in session.scalars(select(GroupRow))}
            rows = session.scalars(select(AskedRow).order_by(AskedRow.asked_at, AskedRow.id)).all()
        members: dict[int, list[AskedRow]] = {}
        for row in rows:
            members.setdefault(row.group_id, []).append(row)
        found = []
        for group_id, asked in members.items():
            answered_by = list(groups[group_id].answered_by or []) if group_id in groups else []
            if (status == "answered") != bool(answered_by) and status != "all":
                continue
            found.append(self._item(group_id, asked, answered_by))
        return sorted(found, key=lambda item: (item["count"], item["last_asked"]), reverse=True)

    @staticmethod
    def _item(group_id: int, asked: list[AskedRow], answered_by: list[str]) -> dict[str, Any]:
        texts = Counter(row.question for row in asked)
        variants = list(dict.fromkeys(row.question for row in asked))
        closest: dict[str, dict[str, Any]] = {}
        votes: Counter[str] = Counter()
        for row in asked:
            for source in row.closest or []:
                closest.setdefault(source["doc_id"], source)
                votes[source["doc_id"]] += 1
        reasons = Counter(row.reason for row in asked)
        return {
            "id": group_id,
            "question": max(variants, key=lambda text: texts[text]),  # the most asked; the first on a tie
            "variants": variants,
            "count": len(asked),
            "languages": sorted({row.lang for row in asked if row.lang}),
            "first_asked": _iso(asked[0].asked_at),
            "last_asked": _iso(asked[-1].asked_at),
            "closest": [closest[doc_id] for doc_id, _ in votes.most_common(CLOSEST_SHOWN)],
            "answered_by": answered_by,
            "refused": reasons.get("refused", 0),
            "disliked": reasons.get("disliked", 0),
        }

    def as_csv(self, status: Status = "unanswered") -> str:
        """The items as CSV: one row each; lists joined with " | "; articles by id."""
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["question", "variants", "count", "languages", "first_asked", "last_asked",
                         "closest", "answered_by"])
        for item in self.items(status):
            writer.writerow([item["question"], " | ".join(item["variants"]), item["count"],
                             " | ".join(item["languages"]), item["first_asked"], item["last_asked"],
                             " | ".join(s["doc_id"] for s in item["closest"]),
                             " | ".join(item["answered_by"])])
        return out.getvalue()

    def open_items(self) -> list[tuple[int, str, np.ndarray]]:
        """(item id, its question, the mean of its questions' vectors) of every item not answered yet."""
        with self._session() as session:
            answered = {g.id for g in session.scalars(select(GroupRow)) if g.answered_by}
            rows = session.execute(select(AskedRow.group_id, AskedRow.question, AskedRow.vector)
                                   .order_by(AskedRow.id)).all()
        by_group: dict[int, list[Any]] = {}
        for row in rows:
            if row.group_id not in answered:
                by_group.setdefault(row.group_id, []).append(row)
        found = []
        for group_id, asked in by_group.items():
            mean = np.mean([np.frombuffer(row.vector, dtype=np.float32) for row in asked], axis=0)
            texts = Counter(row.question for row in asked)
            found.append((group_id, max(dict.fromkeys(texts), key=lambda text: texts[text]),
                          mean / max(float(np.linalg.norm(mean)), 1e-9)))
        return found
