"""Durability under kill -9: an ingest killed three times ends in the same index as a clean one, and
feedback the API acknowledged survives the server being killed.

    python benchmarks/durability.py            # prints what it checked; exits 1 on a difference

Real processes (`assistant ingest`, `assistant serve`) on temporary folders and 127.0.0.1 only.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.load_benchmark import free_port, start_server, wait_healthy  # noqa: E402

ASSISTANT = str(Path(sys.executable).parent / "assistant")


def environment(folder: Path) -> dict[str, str]:
    env = {**os.environ, "CHROMA_PATH": str(folder / "vectorstore"), "EMBEDDING_BATCH_SIZE": "4",
           "DATABASE_URL": f"sqlite:///{folder / 'assistant.db'}", "ANONYMIZED_TELEMETRY": "False",
           "TIKTOKEN_CACHE_DIR": str(folder / "tiktoken")}
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        env.pop(name, None)
    return env


def corpus(folder: Path) -> Path:
    """Twice the sample articles (10 documents), so that an ingest takes long enough to kill."""
    target = folder / "articles"
    target.mkdir(parents=True)
    for copy in range(2):
        for article in sorted((ROOT / "data" / "articles").iterdir()):
            (target / f"{copy}-{article.name}").write_text(
                article.read_text(encoding="utf-8") + f"\n\nCopy {copy}.", encoding="utf-8")
    return target


def snapshot(folder: Path) -> dict[str, tuple[str, str]]:
    """chunk id → (text, document hash) of the index in ``folder``."""
    from assistant.config import load_settings
    from assistant.service import Assistant

    index = Assistant.open(load_settings(chroma_path=folder / "vectorstore")).index
    rows = index.get(include=["documents", "metadatas"])
    return {i: (d or "", str((m or {}).get("doc_hash"))) for i, d, m in
            zip(rows["ids"], rows["documents"], rows["metadatas"], strict=True)}


def killed_ingests(work: Path, articles: Path, kills: int = 3) -> None:
    env = environment(work)
    for attempt in range(kills):
        process = subprocess.Popen([ASSISTANT, "ingest", str(articles)], env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(8 + 4 * attempt)  # a different moment each time
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            process.wait()
            print(f"  ingest killed (kill -9) after {8 + 4 * attempt} s")
    subprocess.run([ASSISTANT, "ingest", str(articles)], env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def feedback_after_kill(work: Path) -> tuple[int, int]:
    """(feedback acknowledged, feedback counted after kill -9 and a restart)."""
    work.mkdir(parents=True, exist_ok=True)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = work / "server.log"
    process = start_server(work, port, log)
    acknowledged = 0
    try:
        wait_healthy(base, process, timeout=600)
        for number in range(20):
            turn = httpx.post(f"{base}/api/chat", json={"question": "Who directs the Russian Center?"},
                              timeout=60).json()
            reply = httpx.post(f"{base}/api/feedback", timeout=30, json={
                "turn_id": turn["turn_id"], "rating": 1 if number % 2 else -1})
            acknowledged += reply.status_code == 200
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    process = start_server(work, port, log)
    try:
        wait_healthy(base, process, timeout=600)
        counted = httpx.get(f"{base}/api/stats", timeout=30).json()["feedback"]["total"]
    finally:
        process.terminate()
        process.wait(timeout=30)
    return acknowledged, counted


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="durability-") as folder:
        work = Path(folder)
        articles = corpus(work)
        print("clean ingest…")
        subprocess.run([ASSISTANT, "ingest", str(articles)], env=environment(work / "clean"), check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        print("ingest killed three times, then run to the end…")
        killed_ingests(work / "killed", articles)
        clean, killed = snapshot(work / "clean"), snapshot(work / "killed")
        same = clean == killed
        print(f"index after 3 × kill -9 identical to a clean one: {same} "
              f"({len(killed)} chunks, clean {len(clean)})")
        acknowledged, counted = feedback_after_kill(work / "server")
        print(f"feedback acknowledged before kill -9: {acknowledged}; counted after restart: {counted}")
        if not same or counted != acknowledged:
            sys.exit(1)


if __name__ == "__main__":
    main()
