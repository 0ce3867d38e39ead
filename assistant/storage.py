"""Durable conversations and feedback in any SQLAlchemy database (SQLite by default).

    store = Store.open(settings.database_url)
    turn_id = store.save_turn(conversation_id, question, answer.to_dict(), source="api")
    store.add_feedback(turn_id, +1, "spot on")
    store.conversation(conversation_id)   # [{"turn_id", "question", "answer", "source", ...}]
    store.continued(conversation_id, owner="widget:demo", ttl_hours=24)   # its turns, or 404
    store.feedback_counts()               # {"up": 1, "down": 0, "total": 1}
    store.turn(turn_id)                   # {"turn_id", "question", "answer", ...} or None
    store.turns_since(moment) / store.ratings_since(moment)   # what the Editors page counts

Every write is committed before the call returns, so nothing is lost when the server restarts.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text, create_engine, event, func, select
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker

from assistant.errors import ConfigError, DocumentNotFound

SOURCES = ("ui", "api", "widget", "openai")


class TurnNotFound(DocumentNotFound):
    """No stored turn has that id."""


class ConversationNotFound(DocumentNotFound):
    """No live conversation with that id for this caller (unknown, expired, or another site's)."""


class Base(DeclarativeBase):
    pass


class ConversationRow(Base):
    """Who may continue a conversation, and when it was last used (for CONVERSATION_TTL_HOURS)."""

    __tablename__ = "conversations"

    conversation_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    # "" for the API, the UI and /v1; "widget:<site key>" for a widget session's
    owner: Mapped[str] = mapped_column(String(128), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_active_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class TurnRow(Base):
    __tablename__ = "turns"

    turn_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(128), index=True)
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[dict[str, Any]] = mapped_column(JSON)
    source: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class FeedbackRow(Base):
    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    turn_id: Mapped[str] = mapped_column(ForeignKey("turns.turn_id"), index=True)
    rating: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; they were stored in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def new_conversation_id() -> str:
    """An unguessable conversation id: 192 random bits, URL-safe (32 characters)."""
    return secrets.token_urlsafe(24)


class Store:
    """Conversations (one row per turn) and feedback on turns."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._session = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def open(cls, database_url: str) -> Store:
        """Connect and create the tables if needed (an SQLite file's folder is created too)."""
        try:
            url = make_url(database_url)
        except ArgumentError as exc:
            raise ConfigError(
                f"DATABASE_URL {database_url!r} is not an SQLAlchemy URL; "
                "use e.g. sqlite:///vectorstore/assistant.db or postgresql+psycopg://user@host/db."
            ) from exc
        options: dict[str, Any] = {"pool_pre_ping": True}
        is_sqlite = url.get_backend_name() == "sqlite"
        if is_sqlite:
            options["connect_args"] = {"timeout": 30, "check_same_thread": False}
            if url.database and url.database != ":memory:":
                Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, **options)
        if is_sqlite:
            event.listen(engine, "connect", _sqlite_pragmas)
        Base.metadata.create_all(engine)
        return cls(engine)

    def save_turn(self, conversation_id: str, question: str, answer: dict[str, Any], source: str,
                  owner: str = "") -> str:
        """Store one question and its answer (Answer.to_dict()); returns the new turn's id.

        The first turn of a conversation records its ``owner`` (who may continue it, see
        ``continued``); every turn keeps the conversation alive for another TTL."""
        if source not in SOURCES:
            raise ValueError(f"source must be one of {SOURCES}, not {source!r}")
        if not conversation_id:
            raise ValueError("conversation_id is empty")
        turn_id = str(uuid.uuid4())
        now = _now()
        with self._session.begin() as session:
            row = session.get(ConversationRow, conversation_id)
            if row is None:
                session.add(ConversationRow(conversation_id=conversation_id, owner=owner, created_at=now,
                                            last_active_at=now))
            else:
                row.last_active_at = now
            session.add(TurnRow(turn_id=turn_id, conversation_id=conversation_id, question=question,
                                answer=answer, source=source, created_at=now))
        return turn_id

    def continued(self, conversation_id: str, owner: str, ttl_hours: float) -> list[dict[str, Any]]:
        """The turns of a conversation that ``owner`` may continue, oldest first.

        Raises ConversationNotFound (one message for all three) when there is none with that id, it
        was last used more than ``ttl_hours`` ago, or another owner started it: a widget's
        conversation continues only in that site's sessions, and nobody learns that an id exists.
        """
        with self._session() as session:
            row = session.get(ConversationRow, conversation_id)
            live = row is not None and row.owner == owner and (
                _aware(row.last_active_at) >= _now() - timedelta(hours=ttl_hours))
        if not live:
            raise ConversationNotFound(
                f"No conversation {conversation_id!r} to continue: it is unknown, it was started"
                f" elsewhere, or it expired ({ttl_hours:g} hours after its last turn). Leave out"
                " conversation_id to start a new one, or send the earlier turns as history.")
        return self.conversation(conversation_id)

    def add_feedback(self, turn_id: str, rating: int, comment: str = "") -> None:
        """Thumbs up (+1) or down (-1) on a stored turn; raises TurnNotFound for unknown ids."""
        if rating not in (1, -1):
            raise ValueError(f"rating must be +1 or -1, not {rating!r}")
        with self._session.begin() as session:
            if session.get(TurnRow, turn_id) is None:
                raise TurnNotFound(
                    f"No conversation turn {turn_id!r}; send the turn_id the answer came with.")
            session.add(FeedbackRow(turn_id=turn_id, rating=rating, comment=comment or "", created_at=_now()))

    def conversation(self, conversation_id: str) -> list[dict[str, Any]]:
        """The turns of a conversation, oldest first, each with its latest feedback rating (or None)."""
        with self._session() as session:
            turns = session.scalars(
                select(TurnRow).where(TurnRow.conversation_id == conversation_id)
                .order_by(TurnRow.created_at, TurnRow.turn_id)
            ).all()
            ratings: dict[str, int] = {}
            if turns:
                rows = session.execute(
                    select(FeedbackRow.turn_id, FeedbackRow.rating)
                    .where(FeedbackRow.turn_id.in_([t.turn_id for t in turns]))
                    .order_by(FeedbackRow.id)
                )
                for turn_id, rating in rows:
                    ratings[turn_id] = rating
            return [
                {"turn_id": t.turn_id, "conversation_id": t.conversation_id, "question": t.question,
                 "answer": t.answer, "source": t.source, "created_at": t.created_at.isoformat(),
                 "feedback": ratings.get(t.turn_id)}
                for t in turns
            ]

    def turn(self, turn_id: str) -> dict[str, Any] | None:
        """One stored turn (None when there is none with that id)."""
        with self._session() as session:
            row = session.get(TurnRow, turn_id)
            if row is None:
                return None
            return {"turn_id": row.turn_id, "conversation_id": row.conversation_id, "question": row.question,
                    "answer": row.answer, "source": row.source, "created_at": row.created_at.isoformat()}

    def turns_since(self, since: datetime) -> list[tuple[datetime, dict[str, Any]]]:
        """(time, answer) of every turn stored since ``since``."""
        with self._session() as session:
            return [(moment, answer) for moment, answer in session.execute(
                select(TurnRow.created_at, TurnRow.answer).where(TurnRow.created_at >= since))]

    def ratings_since(self, since: datetime) -> list[tuple[datetime, int]]:
        """(time, +1 or -1) of every rating given since ``since``."""
        with self._session() as session:
            return [(moment, rating) for moment, rating in session.execute(
                select(FeedbackRow.created_at, FeedbackRow.rating).where(FeedbackRow.created_at >= since))]

    def feedback_counts(self) -> dict[str, int]:
        """{"up": n, "down": n, "total": n} over all feedback given."""
        with self._session() as session:
            rows = dict(session.execute(
                select(FeedbackRow.rating, func.count()).group_by(FeedbackRow.rating)).all())
        up, down = int(rows.get(1, 0)), int(rows.get(-1, 0))
        return {"up": up, "down": down, "total": up + down}

    def close(self) -> None:
        self.engine.dispose()


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    """WAL lets readers work while a turn is written; foreign keys keep feedback tied to turns.

    synchronous=NORMAL in WAL mode: a commit survives a crash or restart of the server process
    (only a power cut can lose the last commits), without an fsync per turn.
    """
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
