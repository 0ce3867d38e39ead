"""Scale: the built news index replicated to 10k, 100k and 1M chunks, searched as a replica would.

    python benchmarks/scale.py                          # 10k, 100k, 1M (about an hour on 2 cores)
    python benchmarks/scale.py --sizes 10000 100000     # smaller runs
    python benchmarks/scale.py --embedded               # also search the folder in-process

Source: benchmarks/out/index-news (build it with `python benchmarks/quality.py --sets nyt`). Each copy
of a chunk gets a new id and document id, its vector plus a little noise (σ = 0.01 per dimension, --noise;
renormalised: a graph of exact duplicates is not one HNSW ever sees), the same text, metadata and
sparse vector. The rows go to the two stores ``Index.add_chunks`` writes (Chroma, and the word index)
without embedding again. The index is grown in place from one size to the next.

For each size, a Chroma server (`chroma run`) serves the folder, and a fresh process (the replica)
reports: opening the index, the first search (cold), warm p50/p95 over dev questions, its resident
memory and the server's; then a real `assistant ingest` of one new article in another process, and
how long until the replica finds it by every signal (dense, BM25, sparse); then the same for an
article a CMS sends to another running API replica (PUT /api/documents/{id}), the live path. Figures
go to stdout and benchmarks/out/scale.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.load_benchmark import free_port, percentile  # noqa: E402

OUT = ROOT / "benchmarks" / "out"
EVAL = ROOT.parent / "shared" / "eval" / "dev"
COLLECTION = "scale"
BATCH = 2000
ARTICLE = """Quortle harbour reopens after storm Zephyrine

The harbour of Quortle reopened on Monday after the storm Zephyrine damaged its piers last week.
The harbour master, Anneliese Vandermolen, said forty ships had been waiting outside the breakwater
and that the northern pier would stay closed until repairs are finished in the spring.
"""
QUESTION = "Who is the harbour master of Quortle?"


def town(stem: str) -> str:
    """A made-up town name of its own for each run: the folder keeps every earlier run's articles,
    and copies of one article would share its rank with the new one."""
    letters = "".join(random.choice("bdfgklmnprstvz") + random.choice("aeiou") for _ in range(3))
    return f"{stem}{letters}"


def rss_mb(pid: int | str = "self") -> tuple[float, float]:
    """(resident, peak resident) memory of a process, MB."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
                  if ":" in line)
    return (int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024)


def settings_for(folder: Path, port: int | None) -> Any:
    from assistant.config import load_settings

    server = {"chroma_host": "127.0.0.1", "chroma_port": port} if port else {}
    return load_settings(chroma_path=folder, collection=COLLECTION,
                         lexical_path=folder / f"words-{COLLECTION}.sqlite3", **server)


# --- building -----------------------------------------------------------------------------------
def source_rows(source: Path) -> dict[str, Any]:
    from assistant.config import load_settings
    from assistant.index.collection import Index
    from assistant.index.embeddings import E5Embeddings

    return Index.open(load_settings(chroma_path=source).index, E5Embeddings()).get(
        include=["embeddings", "documents", "metadatas"])


def grow(folder: Path, rows: dict[str, Any], size: int, noise: float = 0.01) -> float:
    """Add copies of the source rows until the index holds ``size`` chunks; seconds taken."""
    from assistant.index.collection import Index
    from assistant.index.embeddings import E5Embeddings
    from assistant.index.lexical import Entry

    index = Index.open(settings_for(folder, None).index, E5Embeddings())
    base = np.asarray(rows["embeddings"], dtype=np.float32)
    count = len(base)
    rng = np.random.default_rng(index.count())
    started = time.perf_counter()
    have = index.count()
    while have < size:
        copy, first = divmod(have, count)
        take = min(BATCH, count - first, size - have)
        part = slice(first, first + take)
        vectors = base[part] + rng.normal(0, noise, (take, base.shape[1])).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        ids = [f"{chunk_id}~{copy}" for chunk_id in rows["ids"][part]]
        metadatas = [{**m, "doc_id": f"{m['doc_id']}~{copy}"} for m in rows["metadatas"][part]]
        texts = rows["documents"][part]
        index.words.upsert(Entry.of(i, t, m) for i, t, m in zip(ids, texts, metadatas, strict=True))
        index.write_rows(ids, vectors, texts, metadatas)
        have += take
        if have % 50_000 < take:
            print(f"  {have:,} chunks ({time.perf_counter() - started:.0f} s)", flush=True)
    index.touch()
    index.words.close()
    return time.perf_counter() - started


# --- measuring (in the replica process) -------------------------------------------------------------
def questions(limit: int) -> list[str]:
    from assistant.evaluation import load_questions

    sets = [load_questions(EVAL / f"{name}.jsonl")[:limit] for name in ("nyt", "xling")]
    return [question["question"] for chosen in sets for question in chosen]


def measure(folder: Path, port: int | None, warm: int) -> dict[str, Any]:
    started = time.perf_counter()
    from assistant.index.collection import Index
    from assistant.index.embeddings import E5Embeddings
    from assistant.retrieval.hybrid import HybridRetriever

    settings = settings_for(folder, port)
    embedder = E5Embeddings()
    embedder.embed_query("warm up the model")  # the model load is not the index's
    opened = time.perf_counter()
    index = Index.open(settings.index, embedder)
    retriever = HybridRetriever(index, settings.retrieval)
    open_s = time.perf_counter() - opened
    first = time.perf_counter()
    retriever.search("Who directs the Russian Center for Science and Culture in Vietnam?")
    first_s = time.perf_counter() - first
    times, words = [], []
    for question in questions(warm):
        begin = time.perf_counter()
        retriever.search(question)
        times.append((time.perf_counter() - begin) * 1000)
        begin = time.perf_counter()
        index.words.search(question, settings.candidates)
        words.append((time.perf_counter() - begin) * 1000)
    result = {"open_s": round(open_s, 2), "first_query_s": round(first_s, 2),
              "warm_p50_ms": round(percentile(times, 50), 1), "warm_p95_ms": round(percentile(times, 95), 1),
              "words_p50_ms": round(percentile(words, 50), 1),
              "words_p95_ms": round(percentile(words, 95), 1),
              "searches": len(times), "replica_rss_mb": round(rss_mb()[0])}
    result.update(searchable(folder, port, retriever))
    result.update(published(folder, port, retriever))
    result.update(ingest_here(settings, index, retriever))
    result["replica_rss_after_mb"] = round(rss_mb()[0])
    result["total_s"] = round(time.perf_counter() - started, 1)
    return result


def searchable(folder: Path, port: int | None, retriever: Any) -> dict[str, Any]:
    """A real `assistant ingest` of one article in another process; how long until this replica finds
    it by dense, BM25 and sparse retrieval."""
    with tempfile.TemporaryDirectory() as temp:
        name = town("Quortle")
        article = Path(temp) / f"{name.lower()}.txt"
        article.write_text(ARTICLE.replace("Quortle", name), encoding="utf-8")
        env = {**os.environ, **writer_env(folder, port, Path(temp))}
        started = time.perf_counter()
        writer = subprocess.Popen([str(Path(sys.executable).parent / "assistant"), "ingest", str(article)],
                                  env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        written = found = None
        while time.perf_counter() - started < 600:
            if written is None and writer.poll() is not None:
                written = time.perf_counter() - started
                if writer.returncode:
                    raise SystemExit(f"ingest failed: {writer.stdout.read() if writer.stdout else ''}")
            if found_by_every_signal(retriever, QUESTION.replace("Quortle", name), article.name):
                found = time.perf_counter() - started
                break
            time.sleep(0.1)
        writer.wait()
        written = written if written is not None else time.perf_counter() - started
        if found is None:
            return {"ingest_one_article_s": round(written, 2), "searchable_after_start_s": None}
        return {"ingest_one_article_s": round(written, 2), "searchable_after_start_s": round(found, 2),
                "searchable_after_ingest_s": round(max(0.0, found - written), 2)}


def found_by_every_signal(retriever: Any, question: str, doc_id: str) -> bool:
    hit = next((p for p in retriever.search(question, k=3) if p.doc_id == doc_id), None)
    return bool(hit and hit.dense_rank is not None and hit.lexical_rank is not None
                and (hit.sparse_similarity or 0) > 0)


def published(folder: Path, port: int | None, retriever: Any) -> dict[str, Any]:
    """The live path: another API replica (`assistant serve`, already running) receives the article
    from a CMS (PUT /api/documents/{id}); how long the PUT takes, and until this replica finds the
    article by every signal, counted from the PUT."""
    import httpx

    token = "scale-benchmark-token"
    web = free_port()
    with tempfile.TemporaryDirectory() as temp:
        env = {**os.environ, **writer_env(folder, port, Path(temp)), "ADMIN_TOKEN": token,
               "PORT": str(web), "HOST": "127.0.0.1"}
        server = subprocess.Popen([str(Path(sys.executable).parent / "assistant"), "serve"], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            base = f"http://127.0.0.1:{web}"
            for _ in range(600):
                try:
                    httpx.get(f"{base}/api/health", timeout=5).raise_for_status()
                    break
                except httpx.HTTPError:
                    time.sleep(0.5)
            else:
                raise SystemExit("the writer replica did not start")
            doc_id = f"cms-{time.time_ns()}"
            name = town("Brindle")
            title, _, text = ARTICLE.replace("Quortle", name).partition("\n")
            started = time.perf_counter()
            httpx.put(f"{base}/api/documents/{doc_id}", json={"title": title, "text": text, "lang": "en"},
                      headers={"Authorization": f"Bearer {token}"}, timeout=120).raise_for_status()
            put_s = time.perf_counter() - started
            while time.perf_counter() - started < 600:
                if found_by_every_signal(retriever, QUESTION.replace("Quortle", name), doc_id):
                    return {"publish_put_s": round(put_s, 2),
                            "searchable_after_publish_s": round(time.perf_counter() - started, 2)}
                time.sleep(0.1)
            return {"publish_put_s": round(put_s, 2), "searchable_after_publish_s": None}
        finally:
            server.terminate()
            server.wait(timeout=60)


def writer_env(folder: Path, port: int | None, temp: Path) -> dict[str, str]:
    """The settings of another process writing to the same index."""
    env = {"CHROMA_PATH": str(folder), "COLLECTION": COLLECTION,
           "LEXICAL_PATH": str(folder / f"words-{COLLECTION}.sqlite3"),
           "TIKTOKEN_CACHE_DIR": str(temp / "tiktoken"), "ANONYMIZED_TELEMETRY": "False"}
    if port:
        env.update(CHROMA_HOST="127.0.0.1", CHROMA_PORT=str(port))
    return env


def ingest_here(settings: Any, index: Any, retriever: Any) -> dict[str, Any]:
    """One article ingested by this process (as the publisher API does: no process to start, the
    model loaded), and whether the very next search finds it by every signal."""
    from assistant.ingest.pipeline import ingest

    with tempfile.TemporaryDirectory() as temp:
        name = town("Wendle")
        article = Path(temp) / f"{name.lower()}.txt"
        article.write_text(ARTICLE.replace("Quortle", name), encoding="utf-8")
        begin = time.perf_counter()
        ingest([article], settings, index)
        took = time.perf_counter() - begin
        begin = time.perf_counter()
        found = found_by_every_signal(retriever, QUESTION.replace("Quortle", name), article.name)
        return {"ingest_in_process_s": round(took, 2), "next_search_finds_it": found,
                "next_search_ms": round((time.perf_counter() - begin) * 1000, 1)}


# --- orchestration -------------------------------------------------------------------------------
def chroma_server(folder: Path) -> tuple[subprocess.Popen[bytes], int]:
    import httpx

    port = free_port()
    server = subprocess.Popen([str(Path(sys.executable).parent / "chroma"), "run", "--path", str(folder),
                               "--host", "127.0.0.1", "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(600):
        try:
            httpx.get(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1).raise_for_status()
            return server, port
        except httpx.HTTPError:
            time.sleep(0.5)
    server.kill()
    raise SystemExit("the Chroma server did not start")


def replica(folder: Path, port: int | None, warm: int) -> dict[str, Any]:
    command = [sys.executable, __file__, "--measure", str(folder), "--warm", str(warm)]
    if port:
        command += ["--port", str(port)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"replica failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--source", type=Path, default=OUT / "index-news")
    parser.add_argument("--work", type=Path, default=OUT / "index-scale")
    parser.add_argument("--warm", type=int, default=50, help="questions of nyt and of xling dev each")
    parser.add_argument("--embedded", action="store_true", help="also measure the embedded folder")
    parser.add_argument("--noise", type=float, default=0.01,
                        help="σ per dimension added to each copy's vector (0.01: cosine 0.98 to it)")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    if args.measure:
        print(json.dumps(measure(args.measure, args.port, args.warm)))
        return
    rows = source_rows(args.source)
    print(f"source: {len(rows['ids']):,} chunks from {args.source}")
    args.work.mkdir(parents=True, exist_ok=True)
    results = []
    for size in sorted(args.sizes):
        grown = grow(args.work, rows, size, args.noise)
        disk = sum(f.stat().st_size for f in args.work.rglob("*") if f.is_file()) / 2**30
        figures: dict[str, Any] = {"chunks": size, "grow_s": round(grown, 1), "disk_gb": round(disk, 2)}
        server, port = chroma_server(args.work)
        try:
            figures["server"] = replica(args.work, port, args.warm)
            figures["server"]["chroma_rss_mb"] = round(rss_mb(server.pid)[0])
            figures["server"]["chroma_peak_mb"] = round(rss_mb(server.pid)[1])
        finally:
            server.terminate()
            server.wait(timeout=60)
        if args.embedded:
            figures["embedded"] = replica(args.work, None, args.warm)
        print(json.dumps(figures), flush=True)
        results.append(figures)
    (OUT / "scale.json").write_text(json.dumps(results, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
