"""The one door: every read and write of the index through service.Assistant, writes under its lock, over a
real Chroma copy of the sample index (and a real HTTP site for the feeds)."""

from __future__ import annotations

import re
import threading
from dataclasses import replace
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.documents import RawDocument
from assistant.errors import DocumentNotFound
from assistant.feed_store import FeedStore
from assistant.ingest.pipeline import chunking_signature
from assistant.ingest.sources import pushed_document
from assistant.service import Assistant
from tests.conftest import ROOT, WatchedLock, make_settings
from tests.web_server import serve_site

FIRST = "000_9816ccc5144c5afd.txt"
FERRY = {"title": "Ferry news", "text": "The ferry Marijke of Oosthaven sails again on Monday after repairs.",
         "lang": "en", "outlet": "Oosthaven Courier", "date": "2025-03-03"}


def ferry(assistant: Assistant, doc_id: str = "cms-ferry", **changed: str) -> RawDocument:
    return pushed_document(doc_id, {**FERRY, **changed}, chunking_signature(assistant.settings.chunking, assistant.settings.tokenizer))


def test_ingest_push_and_delete_go_through_the_service(sample_assistant: Assistant, tmp_path: Path) -> None:
    documents = sample_assistant.stats()["documents"]
    folder = tmp_path / "new"
    folder.mkdir()
    (folder / "dikes.txt").write_text("Dutch dikes\n\nThe dikes of Zeeland were raised by a metre.\n",
                                      encoding="utf-8")
    assert sample_assistant.ingest([folder]).added == ["dikes.txt"]
    assert sample_assistant.push(ferry(sample_assistant)).added == ["cms-ferry"]
    assert sample_assistant.push(ferry(sample_assistant)).unchanged == ["cms-ferry"]
    changed = ferry(sample_assistant, text=FERRY["text"] + " Tickets cost four euros.")
    assert sample_assistant.push(changed).updated == ["cms-ferry"]
    assert sample_assistant.stats()["documents"] == documents + 2
    assert sample_assistant.indexed(["cms-ferry", "dikes.txt", "never-sent"]) == {"cms-ferry", "dikes.txt"}
    assert "cms-ferry" in sample_assistant.ask("When does the ferry Marijke sail again?").cited_doc_ids

    assert sample_assistant.delete("cms-ferry") >= 1
    with pytest.raises(DocumentNotFound, match="assistant stats --json"):
        sample_assistant.delete("cms-ferry")
    assert len(sample_assistant.ingest([folder], prune=True).pruned) == documents  # the samples: not in folder
    assert sample_assistant.stats()["documents"] == 1


def test_reads_give_first_passages_passages_and_health(sample_assistant: Assistant) -> None:
    articles = sample_assistant.first_passages([FIRST])
    assert [a["doc_id"] for a in articles] == [FIRST] and articles[0]["text"] and articles[0]["title"]
    assert len(sample_assistant.first_passages(limit=3)) == 3
    passages = sample_assistant.passages([FIRST], include=["documents"])
    assert len(passages["ids"]) == len(passages["documents"]) > 1
    assert sample_assistant.health() == {"reachable": True, "chunks": 66, "searchable": True}
    assert sample_assistant.model_calls() == {}
    assert sample_assistant.without_model() is sample_assistant  # no model: nothing to leave out


def test_an_empty_index_says_what_to_do(tmp_path: Path) -> None:
    health = Assistant.open(make_settings(tmp_path)).health()
    assert health == {"reachable": True, "chunks": 0,
                      "notice": "The index is empty: ingest articles (assistant ingest PATH)."}


def test_sync_ingests_the_followed_feeds(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, fetch_allow_networks="127.0.0.1")
    assistant = Assistant.open(settings)
    feeds = FeedStore.open(settings.database_url)
    with serve_site() as site:
        feeds.add(f"{site.base}/feeds/rss.xml")
        report = assistant.sync(feeds)
        again = assistant.sync(feeds)
    assert [feed.status for feed in report.feeds] == ["ok"]
    assert report.feeds[0].added == [f"{site.base}/news/rice-exports", f"{site.base}/news/hanoi-metro"]
    assert [feed.status for feed in again.feeds] == ["unchanged"]
    assert assistant.stats()["documents"] == 2


def test_rebuild_drops_the_index(sample_settings: Settings) -> None:
    assert Assistant.open(sample_settings, rebuild=True).stats()["documents"] == 0


def test_two_concurrent_writes_wait_for_the_services_lock(sample_assistant: Assistant) -> None:
    lock = WatchedLock()
    assistant = replace(sample_assistant, lock=lock)
    done: dict[str, object] = {}
    writers = [threading.Thread(target=lambda: done.update(deleted=assistant.delete(FIRST)), name="delete"),
               threading.Thread(target=lambda: done.update(pushed=assistant.push(ferry(assistant))), name="push")]
    lock.acquire()  # a write under way
    for writer in writers:
        writer.start()
    assert lock.wait_for_askers(3)  # both writers ask for the lock ...
    assert all(writer.is_alive() for writer in writers) and not done  # ... and wait for it
    assert assistant.indexed([FIRST, "cms-ferry"]) == {FIRST}
    lock.release()
    for writer in writers:
        writer.join(timeout=300)
    assert set(done) == {"deleted", "pushed"}
    assert assistant.indexed([FIRST, "cms-ferry"]) == {"cms-ferry"}
    assert lock.holders[0] == "MainThread" and set(lock.holders[1:]) == {"delete", "push"}


DOOR = [ROOT / "assistant" / "cli.py", ROOT / "assistant" / "evaluation.py", ROOT / "assistant" / "desk.py",
        *sorted((ROOT / "assistant" / "web").rglob("*.py"))]
REACH_INS = re.compile(r"\.index\.(?!profile\b)|\bassistant\.index\b(?!\.profile\b)|\bretriever\.index\b|\bFairLock\b|\bingest_lock\b"
                       r"|\.lock\b|\bsync_feeds\b|import [^\n]*\bingest\b")


def test_nothing_above_the_service_reaches_into_the_index_or_takes_its_lock() -> None:
    found = [f"{path.relative_to(ROOT)}:{number}: {line.strip()}" for path in DOOR
             for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
             if REACH_INS.search(line)]
    assert found == [], "go through service.Assistant (ingest, push, delete, sync, stats, ...) instead"
