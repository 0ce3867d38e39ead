"""Load on POST /api/chat: many concurrent clients against a real `assistant serve` (uvicorn) process.

    python benchmarks/load_benchmark.py                       # 50 clients × 20 questions, JSON answers
    python benchmarks/load_benchmark.py --stream              # server-sent events; also time to first token
    python benchmarks/load_benchmark.py --clients 10 --questions 5

The server runs the extractive default over the sample articles (data/articles, ingested by
`assistant serve --ingest` into a temporary index) on 127.0.0.1. Every client comes from the same
address, so the per-IP rate limit is raised for the run (RATE_LIMIT_PER_MINUTE); everything else is
the default configuration. Prints errors, latency p50/p95/p99/max and throughput; writes
benchmarks/out/load.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "out"
QUESTIONS = [
    "Who directs the Russian Center for Science and Culture in Vietnam?",
    "Who is the Russian ambassador to Vietnam?",
    "What did Tô Lâm say about Russia when he received the ambassador?",
    "Who co-chaired the political consultation in Hanoi on February 21?",
    "What did the deputy foreign ministers discuss?",
    "When did Putin make a state visit to Vietnam?",
    "Wanneer bracht Poetin een staatsbezoek aan Vietnam?",
    "Where did the chief diplomats of Vietnam and Russia hold talks on April 2?",
    "Which anniversary will Russia celebrate in Moscow?",
    "How many Vietnamese people live in Russia?",
    "What is the Russian House in Vietnam?",
    "Which United Nations convention will be signed in Hanoi?",
    "How many Russian tourists visit Vietnam?",
    "What are the priorities of the Comprehensive Strategic Partnership?",
    "Welke rol speelde de Sovjet-Unie in de Vietnamese strijd voor onafhankelijkheid?",
    "Who won the Tour de France in 1998?",
    "What did the foreign ministers agree about trade and investment?",
    "Why does Vietnam consider Russia a priority partner?",
    "Wie is de Russische ambassadeur in Vietnam?",
    "What will To Lam do during his trip to Russia?",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(folder: Path, port: int, log_path: Path,
                 model_url: str | None = None) -> subprocess.Popen[bytes]:
    """`assistant serve` over the sample articles, extractive as shipped, or with the model at
    ``model_url`` (an OpenAI-compatible server)."""
    env = {**os.environ, "CHROMA_PATH": str(folder / "vectorstore"),
           "DATABASE_URL": f"sqlite:///{folder / 'assistant.db'}",
           "TIKTOKEN_CACHE_DIR": str(folder / "tiktoken"), "RATE_LIMIT_PER_MINUTE": "1000000",
           "GRADIO_ANALYTICS_ENABLED": "False", "ANONYMIZED_TELEMETRY": "False"}
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "SITES"):
        env.pop(name, None)
    if model_url:
        env.update(OPENAI_BASE_URL=model_url, LLM_MODEL="stub-model")
    command = [str(Path(sys.executable).parent / "assistant"), "serve", "--host", "127.0.0.1",
               "--port", str(port), "--ingest", str(ROOT / "data" / "articles")]
    return subprocess.Popen(command, cwd=folder, env=env, stdout=log_path.open("wb"),
                            stderr=subprocess.STDOUT)


def stop_server(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


def wait_healthy(base: str, process: subprocess.Popen[bytes], timeout: float = 300,
                 accept: tuple[int, ...] = (200,)) -> dict[str, Any]:
    """/api/health's body once it answers with one of ``accept`` (503 too while a model fails)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited with {process.returncode}; see its log")
        try:
            response = httpx.get(f"{base}/api/health", timeout=10)
            if response.status_code in accept:
                return dict(response.json())
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"the server was not healthy after {timeout} s")


async def one_request(client: httpx.AsyncClient, question: str, stream: bool) -> tuple[float, float | None]:
    """(seconds to the final answer, seconds to the first token or None); raises on any error."""
    started = time.perf_counter()
    if not stream:
        response = await client.post("/api/chat", json={"question": question})
        if response.status_code != 200:
            raise RuntimeError(f"HTTP {response.status_code}: {response.text[:200]}")
        if "answer" not in response.json():
            raise RuntimeError("no answer in the response")
        return time.perf_counter() - started, None
    first: float | None = None
    done = False
    async with client.stream("POST", "/api/chat", json={"question": question},
                             headers={"Accept": "text/event-stream"}) as response:
        if response.status_code != 200:
            raise RuntimeError(f"HTTP {response.status_code}")
        async for line in response.aiter_lines():
            if line.startswith("event: token") and first is None:
                first = time.perf_counter() - started
            elif line.startswith("event: error"):
                raise RuntimeError("error event")
            elif line.startswith("event: done"):
                done = True
    if not done:
        raise RuntimeError("the stream ended without a done event")
    return time.perf_counter() - started, first


async def client_run(base: str, number: int, questions: int, stream: bool,
                     latencies: list[float], firsts: list[float], errors: Counter[str]) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=300) as client:
        for i in range(questions):
            question = QUESTIONS[(number + i) % len(QUESTIONS)]
            try:
                total, first = await one_request(client, question, stream)
                latencies.append(total)
                if first is not None:
                    firsts.append(first)
            except Exception as exc:
                errors[f"{type(exc).__name__}: {str(exc)[:120]}"] += 1


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


async def load(base: str, clients: int, questions: int, stream: bool) -> dict[str, Any]:
    latencies: list[float] = []
    firsts: list[float] = []
    errors: Counter[str] = Counter()
    started = time.perf_counter()
    await asyncio.gather(*(client_run(base, n, questions, stream, latencies, firsts, errors)
                           for n in range(clients)))
    wall = time.perf_counter() - started
    result: dict[str, Any] = {
        "clients": clients, "questions_per_client": questions, "mode": "sse" if stream else "json",
        "requests": clients * questions, "ok": len(latencies), "errors": sum(errors.values()),
        "error_kinds": dict(errors), "wall_seconds": round(wall, 2),
        "throughput_rps": round(len(latencies) / wall, 2),
        "latency_ms": {name: round(1000 * percentile(latencies, q), 1)
                       for name, q in (("p50", 50), ("p95", 95), ("p99", 99))},
    }
    result["latency_ms"]["max"] = round(1000 * max(latencies), 1) if latencies else None
    if firsts:
        result["first_token_ms"] = {name: round(1000 * percentile(firsts, q), 1)
                                    for name, q in (("p50", 50), ("p95", 95))}
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--questions", type=int, default=20, help="questions per client")
    parser.add_argument("--stream", action="store_true", help="ask for server-sent events")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="load-") as tmp:
        folder = Path(tmp)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        log_path = folder / "server.log"
        process = start_server(folder, port, log_path)
        try:
            health = wait_healthy(base, process)
            print(f"server up at {base}: {health['index']['chunks']} chunks, "
                  f"answers: {health['model']['mode']}")
            for question in QUESTIONS:  # warm up (model load, BM25 index) outside the measurement
                httpx.post(f"{base}/api/chat", json={"question": question}, timeout=120).raise_for_status()
            result = asyncio.run(load(base, args.clients, args.questions, args.stream))
        finally:
            stop_server(process)
        if result["errors"]:
            print(log_path.read_text(errors="replace")[-3000:], file=sys.stderr)

    result["cpu_count"] = os.cpu_count()
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "load.json").write_text(json.dumps(result, indent=2) + "\n")
    latency = result["latency_ms"]
    print(f"{result['requests']} requests ({result['clients']} clients × {result['questions_per_client']}, "
          f"{result['mode']}) in {result['wall_seconds']} s")
    print(f"errors: {result['errors']} {result['error_kinds'] or ''}")
    print(f"latency ms: p50 {latency['p50']} · p95 {latency['p95']} · p99 {latency['p99']} · "
          f"max {latency['max']}")
    if "first_token_ms" in result:
        first = result["first_token_ms"]
        print(f"first token ms: p50 {first['p50']} · p95 {first['p95']}")
    print(f"throughput: {result['throughput_rps']} answers/s")
    if result["errors"]:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
