"""Feeds synced on a schedule while the web service runs: one background thread, SYNC_INTERVAL apart.

    syncer = FeedSyncer(settings.feeds, assistant, feeds, desk=desk)
    syncer.start()    # syncs now, then every SYNC_INTERVAL seconds (nothing when it is 0)
    syncer.stop()     # waits for a sync under way to finish

The index is written through the service (``Assistant.sync``), under its lock: uploads, pushes and
syncs never interleave their batches; each
feed's outcome is in the SQL store, which /api/stats reports. The articles a sync adds or updates are
checked against the unanswered-questions queue (``Desk.check_new``).
"""

from __future__ import annotations

import logging
import threading

from assistant.config import FeedSettings
from assistant.desk import Desk, ingested
from assistant.feed_store import FeedStore
from assistant.redaction import redact_url
from assistant.service import Assistant

log = logging.getLogger(__name__)


class FeedSyncer:
    def __init__(self, settings: FeedSettings, assistant: Assistant, feeds: FeedStore,
                 desk: Desk | None = None) -> None:
        self.settings, self.assistant, self.feeds = settings, assistant, feeds
        self.desk = desk  # the new articles are checked against the unanswered-questions queue
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self.settings.sync_interval <= 0 or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="feed-sync", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                report = self.assistant.sync(self.feeds)
                for feed in report.feeds:
                    log.info("sync %s: %s", redact_url(feed.url), feed.summary())
                if self.desk is not None:
                    for item in self.desk.check_new(ingested(report.feeds)):
                        log.info("the queue's %r is answered by %s", item["question"], item["answered_by"])
            except Exception:  # the edge of a background thread: log it and try again next time
                log.exception("feed sync failed; trying again in %s s", self.settings.sync_interval)
            self._stop.wait(self.settings.sync_interval)
