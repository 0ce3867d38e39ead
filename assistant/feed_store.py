"""The feeds to sync and what each sync found, in the SQL store (DATABASE_URL, next to conversations).

    feeds = FeedStore.open(settings.database_url)
    feeds.add("https://news.example.com/rss")
    feeds.all()                        # [FeedState(url, title, status, error, articles_added, ...)]
    feeds.seen(url)                    # {article URL: its entry's published/updated stamp}
    feeds.remove("https://news.example.com/rss")

Per feed: its ETag and Last-Modified (for the next conditional GET), when it was last checked,
the status of that check ("new", "ok", "unchanged", "error") with the error, the articles the last
sync added and all syncs together. Per entry ingested: its URL and stamp, so a sync fetches only
entries that are new or whose stamp changed. Removing a feed forgets its entries; the articles stay
in the index (``assistant delete URL`` removes one).

A feed's address may carry its key (``?api_key=…``): it is kept as given, to fetch it, and shown
redacted (``FeedState.to_dict``); ``remove`` takes the redacted form that lists show as well.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, UniqueConstraint, delete, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker

from assistant.errors import DocumentNotFound, SourceError
from assistant.redaction import redact_text, redact_url

STATUSES = ("new", "ok", "unchanged", "error")


class FeedNotFound(DocumentNotFound):
    """No feed with that URL is followed."""


class FeedBase(DeclarativeBase):
    pass


class FeedRow(FeedBase):
    __tablename__ = "feeds"

    url: Mapped[str] = mapped_column(String(2048), primary_key=True)
    title: Mapped[str] = mapped_column(Text, default="")
    etag: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    last_modified: Mapped[str | None] = mapped_column(String(128), nullable=True)
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    checked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="new")
    error: Mapped[str] = mapped_column(Text, default="")
    last_added: Mapped[int] = mapped_column(Integer, default=0)
    articles_added: Mapped[int] = mapped_column(Integer, default=0)


class FeedItemRow(FeedBase):
    __tablename__ = "feed_items"
    __table_args__ = (UniqueConstraint("feed_url", "url"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    feed_url: Mapped[str] = mapped_column(ForeignKey("feeds.url", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(2048))
    stamp: Mapped[str] = mapped_column(String(64), default="")
    ingested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PageRow(FeedBase):
    """The validators of an article page's last fetch, for `assistant sync --refresh`'s conditional GET."""

    __tablename__ = "feed_pages"

    url: Mapped[str] = mapped_column(String(2048), primary_key=True)
    etag: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    last_modified: Mapped[str | None] = mapped_column(String(128), nullable=True)


Validators = tuple[str | None, str | None]  # (ETag, Last-Modified)


@dataclass(frozen=True)
class FeedState:
    url: str
    title: str
    status: str
    error: str
    checked_at: str | None
    last_added: int
    articles_added: int
    etag: str | None = None
    last_modified: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The feed as shown to people: its address and error with their secrets redacted."""
        return {**asdict(self), "url": redact_url(self.url), "error": redact_text(self.error)}


def _now() -> datetime:
    return datetime.now(UTC)


def _state(row: FeedRow) -> FeedState:
    checked = row.checked_at.replace(tzinfo=row.checked_at.tzinfo or UTC) if row.checked_at else None
    return FeedState(row.url, row.title, row.status, row.error,
                     checked.isoformat(timespec="seconds") if checked else None,
                     row.last_added, row.articles_added, row.etag, row.last_modified)


class FeedStore:
    """Feeds and their ingested entries, over the engine of the conversation store."""

    def __init__(self, engine: Engine) -> None:
        FeedBase.metadata.create_all(engine)
        self._session = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def open(cls, database_url: str) -> FeedStore:
        from assistant.storage import Store

        return cls(Store.open(database_url).engine)

    def add(self, url: str) -> tuple[FeedState, bool]:
        """Follow a feed; (its state, False) when it was followed already."""
        url = url.strip()
        if not url.lower().startswith(("http://", "https://")):
            raise SourceError(url or "(empty)", "is not an http(s) URL; give the address of an RSS/Atom "
                                                "feed or a sitemap")
        with self._session.begin() as session:
            row = session.get(FeedRow, url)
            if row is not None:
                return _state(row), False
            row = FeedRow(url=url, title="", added_at=_now(), status="new", error="", last_added=0,
                          articles_added=0)
            session.add(row)
            return _state(row), True

    def remove(self, url: str) -> None:
        """Stop following a feed and forget its entries; FeedNotFound when it is not followed.

        ``url`` is the address as added, or as lists show it (redacted) when only one feed shows so."""
        with self._session.begin() as session:
            if session.get(FeedRow, url) is None:
                shown = [row for row in session.scalars(select(FeedRow.url)) if redact_url(row) == url]
                if len(shown) != 1:
                    raise FeedNotFound(f"No feed {redact_url(url)!r} is followed; `assistant feeds list` "
                                       "shows the feeds.")
                url = shown[0]
            session.execute(delete(FeedItemRow).where(FeedItemRow.feed_url == url))
            session.execute(delete(FeedRow).where(FeedRow.url == url))

    def all(self) -> list[FeedState]:
        """Every feed, in the order added."""
        with self._session() as session:
            return [_state(row) for row in session.scalars(select(FeedRow).order_by(FeedRow.added_at))]

    def get(self, url: str) -> FeedState:
        with self._session() as session:
            row = session.get(FeedRow, url)
            if row is None:
                raise FeedNotFound(f"No feed {redact_url(url)!r} is followed; add it with "
                                   "`assistant feeds add`.")
            return _state(row)

    def page_validators(self, urls: list[str]) -> dict[str, Validators]:
        """{page URL: (ETag, Last-Modified)} of the pages among ``urls`` fetched before."""
        found: dict[str, Validators] = {}
        with self._session() as session:
            for start in range(0, len(urls), 500):
                for row in session.scalars(select(PageRow).where(PageRow.url.in_(urls[start:start + 500]))):
                    found[row.url] = (row.etag, row.last_modified)
        return found

    def record_pages(self, validators: dict[str, Validators]) -> None:
        """Keep each page's validators (pages that sent none are forgotten: nothing to ask with)."""
        with self._session.begin() as session:
            for url, (etag, last_modified) in validators.items():
                row = session.get(PageRow, url)
                if not (etag or last_modified):
                    if row is not None:
                        session.delete(row)
                elif row is None:
                    session.add(PageRow(url=url, etag=etag, last_modified=last_modified))
                else:
                    row.etag, row.last_modified = etag, last_modified

    def seen(self, url: str) -> dict[str, str]:
        """{entry URL: stamp} of the entries of this feed already ingested."""
        with self._session() as session:
            rows = session.execute(
                select(FeedItemRow.url, FeedItemRow.stamp).where(FeedItemRow.feed_url == url))
            return {item: stamp for item, stamp in rows}

    def record(self, url: str, status: str, *, error: str = "", title: str | None = None,
               etag: str | None = None, last_modified: str | None = None, added: int = 0,
               items: dict[str, str] | None = None) -> None:
        """Store one check of a feed: its outcome, new validators and the entries ingested ({URL: stamp})."""
        if status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, not {status!r}")
        now = _now()
        with self._session.begin() as session:
            row = session.get(FeedRow, url)
            if row is None:  # removed while it was being synced
                return
            row.status, row.error, row.checked_at = status, error, now
            if status != "unchanged":
                row.last_added = added
            row.articles_added += added
            if title:
                row.title = title
            if etag is not None or last_modified is not None:
                row.etag, row.last_modified = etag, last_modified
            if items:
                known = {item.url: item for item in session.scalars(
                    select(FeedItemRow).where(FeedItemRow.feed_url == url, FeedItemRow.url.in_(list(items))))}
                for item_url, stamp in items.items():
                    if item_url in known:
                        known[item_url].stamp, known[item_url].ingested_at = stamp, now
                    else:
                        session.add(FeedItemRow(feed_url=url, url=item_url, stamp=stamp, ingested_at=now))
