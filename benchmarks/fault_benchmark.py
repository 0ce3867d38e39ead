"""Time to the extractive answer when the model fails: concurrent clients against a real `assistant serve`.

    python benchmarks/fault_benchmark.py                      # the model hangs; 8 clients × 25 questions
    python benchmarks/fault_benchmark.py --fault garbage      # the model answers 200 with garbage
    python benchmarks/fault_benchmark.py --clients 16 --questions 10

The server (`assistant serve --ingest data/articles`, uvicorn on 127.0.0.1, default settings but the
per-IP rate limit) talks to the scripted OpenAI-compatible stub of the tests (tests/openai_stub.py),
also on 127.0.0.1. The stub answers normally during the warm-up, then fails for the measured run:
``hang`` never sends a byte, ``garbage`` sends a 200 that is no chat completion. Each client asks its
questions one after another on POST /api/chat (JSON). Prints seconds to the answer (p50/p95/max),
how many answers quoted the articles, how many turns skipped the model (the circuit breaker, from
/api/health) and how many calls reached it; writes benchmarks/out/faults-FAULT.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.load_benchmark import (  # noqa: E402
    QUESTIONS,
    free_port,
    percentile,
    start_server,
    stop_server,
    wait_healthy,
)
from tests.openai_stub import OpenAIStub, Reply  # noqa: E402

OUT = ROOT / "benchmarks" / "out"
FAULTS = {
    "hang": Reply(delay=600.0),  # accepts the request, then sends nothing (the stub's thread sleeps)
    "garbage": Reply(raw="\x00\x17 garbage, not a completion", content_type="application/octet-stream"),
}


async def client_run(base: str, number: int, questions: int, latencies: list[float],
                     modes: Counter[str], errors: Counter[str]) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=300) as client:
        for i in range(questions):
            question = QUESTIONS[(number + i) % len(QUESTIONS)]
            started = time.perf_counter()
            try:
                response = await client.post("/api/chat", json={"question": question})
                if response.status_code != 200:
                    raise RuntimeError(f"HTTP {response.status_code}: {response.text[:200]}")
                body = response.json()
            except Exception as exc:  # counted and reported, the run goes on
                errors[f"{type(exc).__name__}: {str(exc)[:120]}"] += 1
                continue
            latencies.append(time.perf_counter() - started)
            modes["abstained" if body["abstained"] else body["mode"]] += 1


async def load(base: str, clients: int, questions: int) -> dict[str, Any]:
    latencies: list[float] = []
    modes: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    started = time.perf_counter()
    await asyncio.gather(*(client_run(base, n, questions, latencies, modes, errors) for n in range(clients)))
    return {"latencies": latencies, "modes": dict(modes), "errors": dict(errors),
            "wall_seconds": round(time.perf_counter() - started, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fault", choices=sorted(FAULTS), default="hang")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--questions", type=int, default=25, help="questions per client")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="faults-") as tmp, OpenAIStub() as stub:
        folder = Path(tmp)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        log_path = folder / "server.log"
        stub.default = Reply()  # a working model ("The articles do not answer this question.")
        process = start_server(folder, port, log_path, model_url=stub.url)
        try:
            wait_healthy(base, process, timeout=1200, accept=(200, 503))
            for question in QUESTIONS:  # warm up (embedder, BM25) with the model working
                httpx.post(f"{base}/api/chat", json={"question": question}, timeout=120).raise_for_status()
            before = httpx.get(f"{base}/api/health", timeout=30).json()
            calls_before = len(stub.requests)
            stub.default = FAULTS[args.fault]
            result = asyncio.run(load(base, args.clients, args.questions))
            health = httpx.get(f"{base}/api/health", timeout=30)
            model_calls = len(stub.requests) - calls_before
        finally:
            stop_server(process)
        if result["errors"]:
            print(log_path.read_text(errors="replace")[-3000:], file=sys.stderr)

    latencies = result.pop("latencies")
    skipped = health.json()["model"]["calls"]["skipped_calls"] - before["model"]["calls"]["skipped_calls"]
    summary = {
        "fault": args.fault, "clients": args.clients, "questions_per_client": args.questions,
        "requests": args.clients * args.questions, "answered": len(latencies), **result,
        "seconds": {name: round(percentile(latencies, q), 3) for name, q in (("p50", 50), ("p95", 95))},
        "turns_skipping_the_model": skipped, "model_calls": model_calls,
        "health": {"status_code": health.status_code, "status": health.json()["status"],
                   "breaker": health.json()["model"]["calls"]["breaker"]},
        "cpu_count": os.cpu_count(),
    }
    summary["seconds"]["max"] = round(max(latencies), 3) if latencies else None
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"faults-{args.fault}.json").write_text(json.dumps(summary, indent=2) + "\n")
    seconds = summary["seconds"]
    print(f"model fault: {args.fault}; {summary['requests']} requests ({args.clients} clients × "
          f"{args.questions}) in {summary['wall_seconds']} s")
    print(f"answers: {summary['modes']}; errors: {sum(result['errors'].values())} {result['errors'] or ''}")
    print(f"seconds to the answer: p50 {seconds['p50']} · p95 {seconds['p95']} · max {seconds['max']}")
    print(f"turns that skipped the model (breaker): {skipped}; calls that reached the model: {model_calls}")
    print(f"/api/health afterwards: HTTP {health.status_code}, {summary['health']['status']}, "
          f"breaker {summary['health']['breaker']}")
    if result["errors"]:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
