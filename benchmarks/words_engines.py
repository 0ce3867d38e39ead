"""The word index's two engines side by side: SQLite FTS5 (one machine) and PostgreSQL (several).

    python benchmarks/words_engines.py --url postgresql://USER@HOST:5432/DB --sizes 10000 100000

Source: the chunks of benchmarks/out/index-news (texts and metadata), copied with new ids and document
ids up to each size, written through the store's own ``upsert`` (word counts included) in batches of
1,000. For each size and engine: the time to write, and the candidate query (``words.search``: the
question's rarest words, top 50) over nyt and xling dev questions, p50/p95; and how many of the 50
candidates the two engines share (SQLite ranks them by BM25, PostgreSQL by ``ts_rank``; the
retriever scores every candidate by BM25 itself, whichever engine proposed it).
Figures go to stdout.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.load_benchmark import percentile  # noqa: E402
from benchmarks.scale import questions  # noqa: E402

BATCH = 1000


def source_rows() -> dict[str, Any]:
    from assistant.config import load_settings
    from assistant.index.collection import Index
    from assistant.index.embeddings import E5Embeddings

    return Index.open(load_settings(chroma_path=ROOT / "benchmarks" / "out" / "index-news").index,
                      E5Embeddings()).get(include=["documents", "metadatas"])


def fill(store: Any, rows: dict[str, Any], size: int) -> float:
    from assistant.index.lexical import Entry

    started = time.perf_counter()
    count = len(rows["ids"])
    have = store.size
    while have < size:
        copy, first = divmod(have, count)
        take = min(BATCH, count - first, size - have)
        part = range(first, first + take)
        store.upsert(Entry.of(f"{rows['ids'][i]}~{copy}", rows["documents"][i] or "",
                              {**rows["metadatas"][i], "doc_id": f"{rows['metadatas'][i]['doc_id']}~{copy}"})
                     for i in part)
        have += take
    return time.perf_counter() - started


def searches(store: Any, asked: list[str]) -> tuple[list[float], list[list[str]]]:
    times, found = [], []
    store.search(asked[0], 50)  # warm
    for question in asked:
        begin = time.perf_counter()
        hits = store.search(question, 50)
        times.append((time.perf_counter() - begin) * 1000)
        found.append([chunk_id for chunk_id, _ in hits])
    return times, found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True, help="a PostgreSQL database to write a schema of its own in")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--questions", type=int, default=50, help="of nyt and of xling dev each")
    args = parser.parse_args()

    from assistant.index.lexical import LexicalStore, PostgresWords

    rows = source_rows()
    asked = questions(args.questions)
    with tempfile.TemporaryDirectory() as temp:
        engines = {"sqlite": LexicalStore.open(Path(temp) / "words.sqlite3"),
                   "postgres": PostgresWords.connect_to(args.url, f"bench_{uuid.uuid4().hex[:8]}")}
        for size in sorted(args.sizes):
            found: dict[str, list[list[str]]] = {}
            for name, store in engines.items():
                written = fill(store, rows, size)
                times, found[name] = searches(store, asked)
                print(f"{size:>9,} chunks  {name:<8}  written in {written:6.1f} s  "
                      f"search p50 {percentile(times, 50):6.1f} ms  p95 {percentile(times, 95):6.1f} ms",
                      flush=True)
            shared = [len(set(a) & set(b)) / max(len(a), 1)
                      for a, b in zip(found["sqlite"], found["postgres"], strict=True) if a]
            share = 100 * sum(shared) / len(shared)
            print(f"{size:>9,} chunks  candidates both engines propose: {share:.1f}%")
        postgres = engines["postgres"]
        postgres.db.execute(f'DROP SCHEMA "{postgres.schema}" CASCADE')


if __name__ == "__main__":
    main()
