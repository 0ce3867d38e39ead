"""The hardening probes of issue #26 as one repeatable report, against a real `assistant serve`.

    uv run python benchmarks/abuse.py                 # ~6 minutes on 2 cores; prints a table
    uv run python benchmarks/abuse.py --flood 500     # fewer calls in the Gradio flood

One server (uvicorn on 127.0.0.1, the sample articles, ADMIN_TOKEN set, RATE_LIMIT_PER_MINUTE=5 as in
the probe of main, FORWARDED_ALLOW_IPS=127.0.0.1 so that each probe can speak for addresses of its own
through X-Forwarded-For) and, for the fetch probes, a local web server that sends one byte a second.
Each probe prints what came back (status codes, counts) and how long it took:

1. Gradio's direct API flooded from one address (`/gradio_api/api/respond`): statuses, server memory;
   every other Gradio route that reaches a handler; and one request to each kind of route;
2. `assistant ingest URL` and `assistant sync` against a server sending 1 byte/s (FETCH_TOTAL_TIMEOUT);
3. /api/stats without and with the admin token, a feed whose address has a key;
4. questions of 2,000 characters (combining marks, ". ", words, CJK) and a normal one, 20 of each:
   seconds p50/p95, and the CPU-seconds one address can buy a minute at the default limit (30);
5. a 10 MB PUT, a 600,000-character PUT, a 2 MB upload; small PUTs while a large document is written;
6. 1,000 publisher PUTs with the token from one address; wrong tokens from another;
7. a foreign Host header (DNS rebinding), the loopback one, and the UI's Content-Security-Policy.

Writes benchmarks/out/abuse.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.load_benchmark import free_port, percentile, stop_server, wait_healthy  # noqa: E402

OUT = ROOT / "benchmarks" / "out"
ADMIN = "bench-admin-token-0123456789"
AUTH = {"Authorization": f"Bearer {ADMIN}"}
SECRET = "s3cr3t-feed-key-42"
LIMIT = 5
QUESTION = "Who directs the Russian Center for Science and Culture in Vietnam?"
QUESTIONS = {
    "normal question (18 tokens)": QUESTION,
    "2,000 combining marks": "a" + "\u0301" * 1999,
    "2,000 chars of '. '": ". " * 1000,
    "2,000 chars of words (~500 tokens)": ("why " * 500)[:2000],
    "2,000 CJK characters": "中国新闻" * 500,
    "250 tokens, just under the cap": QUESTION + " Please answer" + " briefly" * 115,
    "normal, with 6 long history turns": QUESTION,
}
LONG_HISTORY = [
    {"role": "user", "content": "Tell me about the news from Vietnam and Russia. " * 40},
    {"role": "assistant", "content": "The articles say a great deal about it. " * 45},
] * 3


def row(probe: str, result: str, seconds: float | str = "") -> dict[str, str]:
    shown = f"{seconds:.2f}" if isinstance(seconds, float) else seconds
    print(f"| {probe} | {result} | {shown} |", flush=True)
    return {"probe": probe, "result": result, "seconds": shown}


def rss_mb(pid: int) -> float:
    """Resident memory of the server process and its children, MB."""
    total = 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            total += int(line.split()[1])
    return total / 1024


class Trickle(BaseHTTPRequestHandler):
    """Answers every page and feed with its headers at once, then one byte a second (for ~10 minutes)."""

    def do_GET(self) -> None:
        if self.path.startswith("/robots.txt"):
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = b"<rss version='2.0'><channel><title>Slow</title>" + b" " * 600 + b"</channel></rss>"
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml" if "rss" in self.path else "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            for byte in body:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(1.0)
        except OSError:
            pass

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def trickle_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Trickle)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def environment(folder: Path, port: int) -> dict[str, str]:
    env = {
        **os.environ,
        "CHROMA_PATH": str(folder / "vectorstore"),
        "DATABASE_URL": f"sqlite:///{folder / 'assistant.db'}",
        "TIKTOKEN_CACHE_DIR": str(folder / "tiktoken"),
        "ADMIN_TOKEN": ADMIN,
        "RATE_LIMIT_PER_MINUTE": str(LIMIT),
        "FORWARDED_ALLOW_IPS": "127.0.0.1",
        "SITES": f"demo=http://127.0.0.1:{port}",
        "FETCH_ALLOW_NETWORKS": "127.0.0.1",
        "GRADIO_ANALYTICS_ENABLED": "False",
        "ANONYMIZED_TELEMETRY": "False",
    }
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        env.pop(name, None)
    return env


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(Path(sys.executable).parent / "assistant"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def address(number: int) -> dict[str, str]:
    return {"X-Forwarded-For": f"198.51.{number // 250}.{number % 250 + 1}"}


def statuses(responses: list[httpx.Response]) -> str:
    return ", ".join(
        f"{code}×{count}" for code, count in sorted(Counter(r.status_code for r in responses).items())
    )


def timed(call: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    result = call()
    return result, time.perf_counter() - started


def probe_gradio(base: str, pid: int, flood: int) -> list[dict[str, str]]:
    rows = []
    before = rss_mb(pid)
    with httpx.Client(base_url=base, timeout=60, headers=address(1)) as client:
        replies, seconds = timed(
            lambda: [client.post("/gradio_api/api/respond", json={"data": [QUESTION]}) for _ in range(flood)]
        )
    rows.append(
        row(
            f"1. {flood} POST /gradio_api/api/respond, one address (limit {LIMIT}/min)",
            f"{statuses(replies)}; server memory {before:.0f} → {rss_mb(pid):.0f} MB",
            seconds,
        )
    )
    with httpx.Client(base_url=base, timeout=60) as client:
        for number, path in enumerate(
            (
                "/gradio_api/run/respond",
                "/gradio_api/call/respond",
                "/gradio_api/call/v2/respond",
                "/gradio_api/api/admin_stats",
            ),
            start=2,
        ):
            reply, seconds = timed(
                lambda p=path, n=number: client.post(p, json={"data": []}, headers=address(n))
            )
            rows.append(
                row(f"1. POST {path}", f"{reply.status_code} {reply.json()['error']['type']}", seconds)
            )
        spent = address(9)
        for _ in range(LIMIT):
            client.post("/api/chat", json={"question": QUESTION}, headers=spent)
        after = {
            path: client.request(method, path, json={}, headers=spent).status_code
            for method, path in (
                ("POST", "/api/chat"),
                ("POST", "/gradio_api/queue/join"),
                ("POST", "/gradio_api/upload"),
                ("GET", "/gradio_api/info"),
                ("GET", "/api/stats"),
                ("POST", "/v1/chat/completions"),
                ("GET", "/monitoring"),
                ("POST", "/a/route/added/later"),
            )
        }
        free = {
            path: client.get(path, headers=spent).status_code
            for path in ("/", "/config", "/theme.css", "/api/health", "/widget.js", "/openapi.json")
        }
    rows.append(row("1. after the limit, routes that work", ", ".join(f"{p} {s}" for p, s in after.items())))
    rows.append(row("1. after the limit, cheap routes", ", ".join(f"{p} {s}" for p, s in free.items())))
    return rows


def probe_fetch_start(env: dict[str, str], slow: str) -> dict[str, threading.Thread]:
    """Start `assistant ingest URL` and `assistant sync` against the 1 byte/s server (they take a minute)."""
    results: dict[str, Any] = {}
    cli(env, "feeds", "add", f"{slow}/rss?api_key={SECRET}")

    def run(name: str, *args: str) -> None:
        results[name] = timed(lambda: cli(env, *args))

    threads = {
        "ingest": threading.Thread(target=run, args=("ingest", "ingest", f"{slow}/story")),
        "sync": threading.Thread(target=run, args=("sync", "sync")),
    }
    for thread in threads.values():
        thread.start()
    threads["results"] = results  # type: ignore[assignment]
    return threads


def probe_fetch_end(threads: dict[str, Any]) -> list[dict[str, str]]:
    rows = []
    for name in ("ingest", "sync"):
        threads[name].join()
        done, seconds = threads["results"][name]
        message = " ".join((done.stderr + done.stdout).split())
        message = message[message.find("took") :][:90] if "took" in message else message[-120:]
        rows.append(
            row(
                f"2. `assistant {name}` of a page/feed sent at 1 byte/s",
                f"exit {done.returncode}; {message}…; key shown: {SECRET in done.stderr + done.stdout}",
                seconds,
            )
        )
    return rows


def probe_stats(base: str) -> list[dict[str, str]]:
    rows = []
    for label, headers in (
        ("no token", {}),
        ("wrong token", {"Authorization": "Bearer wrong"}),
        ("admin token", AUTH),
    ):
        reply, seconds = timed(
            lambda h=headers: httpx.get(f"{base}/api/stats", headers={**h, **address(20)}, timeout=60)
        )
        shown = reply.json()["feeds"][0]["url"] if reply.status_code == 200 else reply.json()["error"]["type"]
        rows.append(
            row(
                f"3. GET /api/stats, {label}",
                f"{reply.status_code} {shown}; key shown: {SECRET in reply.text}",
                seconds,
            )
        )
    return rows


def probe_questions(base: str, repeats: int) -> tuple[list[dict[str, str]], dict[str, Any]]:
    rows, figures = [], {}
    number = 100
    with httpx.Client(base_url=base, timeout=300) as client:
        for label, question in QUESTIONS.items():
            body: dict[str, Any] = {"question": question}
            if "history" in label:
                body["history"] = LONG_HISTORY
            seconds, codes = [], Counter()
            for _ in range(repeats):
                number += 1
                reply, took = timed(
                    lambda b=body, n=number: client.post("/api/chat", json=b, headers=address(n))
                )
                seconds.append(took)
                codes[reply.status_code] += 1
            figures[label] = {
                "p50": percentile(seconds, 50),
                "p95": percentile(seconds, 95),
                "codes": dict(codes),
            }
            rows.append(
                row(
                    f"4. /api/chat: {label} ×{repeats}",
                    f"{', '.join(f'{c}×{n}' for c, n in sorted(codes.items()))}; p50 "
                    f"{figures[label]['p50']:.3f} s",
                    f"p95 {figures[label]['p95']:.3f}",
                )
            )
    worst = max(f["p95"] for f in figures.values())
    rows.append(
        row(
            "4. CPU-seconds one address buys a minute at the default 30/min (30 × worst p95)",
            f"{30 * worst:.1f} s",
        )
    )
    return rows, figures


def probe_documents(base: str) -> list[dict[str, str]]:
    rows = []
    with httpx.Client(base_url=base, timeout=900, headers=AUTH) as client:
        for label, text in (("10 MB", "x" * 10_000_000), ("600,000 characters", "Harbour news. " * 42_858)):
            reply, seconds = timed(
                lambda t=text: client.put("/api/documents/big", json={"title": "Big", "text": t})
            )
            rows.append(
                row(f"5. PUT of {label}", f"{reply.status_code} {reply.json()['error']['type']}", seconds)
            )
        upload = ("Harbour log\n\n" + "The ferry left the quay on time. " * 62_500).encode()
        reply, seconds = timed(lambda: client.post("/api/admin/ingest", files={"files": ("log.txt", upload)}))
        rows.append(
            row(
                "5. upload of a 2 MB text file",
                f"{reply.status_code} {reply.json()['error']['message'][:90]}…",
                seconds,
            )
        )
        story = " ".join(
            f"The ferry number {n} of Oosthaven left the quay at {n % 12 + 1} o'clock with {n * 7} "
            f"passengers and {n % 5} cars aboard."
            for n in range(700)
        )  # 350 chunks
        large: list[Any] = []
        writer = threading.Thread(
            target=lambda: large.append(
                timed(
                    lambda: client.put("/api/documents/ferry-log", json={"title": "Ferry log", "text": story})
                )
            )
        )
        writer.start()
        before = client.get("/api/health").json()["index"]["chunks"]
        while client.get("/api/health").json()["index"]["chunks"] == before and writer.is_alive():
            time.sleep(0.2)  # until its first batch is written
        small = []
        for n in range(5):
            reply, seconds = timed(
                lambda n=n: client.put(
                    f"/api/documents/small-{n}",
                    json={
                        "title": "Ferry news",
                        "text": f"The ferry Marijke sails again on day {n}, the harbour master said.",
                    },
                )
            )
            small.append((reply.status_code, seconds))
        writer.join()
        ((large_reply, large_seconds),) = large
    rows.append(
        row(
            "5. 5 small PUTs while a 350-chunk PUT is written",
            f"{', '.join(str(code) for code, _ in small)}; each {min(s for _, s in small):.2f}–"
            f"{max(s for _, s in small):.2f} s; the large one: HTTP {large_reply.status_code}, "
            f"{large_reply.json().get('chunks', '?')} chunks, in the last column",
            large_seconds,
        )
    )
    return rows


def probe_publisher(base: str, puts: int) -> list[dict[str, str]]:
    rows = []
    with httpx.Client(base_url=base, timeout=300) as client:
        body = {"title": "Ferry", "text": "The ferry Marijke sails again on Monday, the harbour master said."}
        replies, seconds = timed(
            lambda: [
                client.put("/api/documents/cms-1", json=body, headers={**AUTH, **address(30)})
                for _ in range(puts)
            ]
        )
        rows.append(
            row(
                f"6. {puts} publisher PUTs with the token, one address (readers' limit {LIMIT})",
                statuses(replies),
                seconds,
            )
        )
        wrong = [
            client.put(
                "/api/documents/cms-1", json=body, headers={"Authorization": "Bearer wrong", **address(31)}
            )
            for _ in range(6)
        ]
        rows.append(
            row("6. 6 PUTs with a wrong token, one address", ", ".join(str(r.status_code) for r in wrong))
        )
    return rows


def probe_hosts(base: str) -> list[dict[str, str]]:
    port = base.rsplit(":", 1)[1]
    rebound = httpx.get(f"{base}/api/health", headers={"Host": f"attacker.example:{port}"}, timeout=60)
    loopback = httpx.get(f"{base}/api/health", headers={"Host": f"localhost:{port}"}, timeout=60)
    page = httpx.get(f"{base}/", timeout=60)
    policy = page.headers.get("content-security-policy", "")
    return [
        row(
            "7. Host: attacker.example (DNS rebinding)",
            f"{rebound.status_code} {rebound.json()['error']['type']}",
        ),
        row("7. Host: localhost", str(loopback.status_code)),
        row("7. the UI's CSP", policy[policy.find("frame-ancestors") :] or "none"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flood", type=int, default=2000, help="calls of the Gradio flood")
    parser.add_argument("--puts", type=int, default=1000, help="publisher PUTs")
    parser.add_argument("--repeats", type=int, default=20, help="requests per kind of question")
    args = parser.parse_args()
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False
    ).stdout.strip()
    rows: list[dict[str, str]] = []
    with tempfile.TemporaryDirectory(prefix="abuse-") as tmp, trickle_server() as slow:
        folder = Path(tmp)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = environment(folder, port)
        log_path = folder / "server.log"
        process = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "assistant"),
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--ingest",
                str(ROOT / "data" / "articles"),
            ],
            cwd=folder,
            env=env,
            stdout=log_path.open("wb"),
            stderr=subprocess.STDOUT,
        )
        try:
            wait_healthy(base, process, timeout=1200)
            print(
                f"| probe (commit {commit}, {os.cpu_count()} cores) | result | seconds |\n| --- | --- | --- |"
            )
            fetches = probe_fetch_start(env, slow)  # a minute of waiting on the slow server, meanwhile:
            rows += probe_gradio(base, process.pid, args.flood)
            rows += probe_stats(base)
            rows += probe_hosts(base)
            rows += probe_fetch_end(fetches)
            question_rows, figures = probe_questions(base, args.repeats)
            rows += question_rows
            rows += probe_documents(base)
            rows += probe_publisher(base, args.puts)  # last: it spends the token's minute
        finally:
            stop_server(process)
        if SECRET in log_path.read_text(errors="replace"):
            rows.append(row("3. the server log", "shows the feed's key"))
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "abuse.json").write_text(
        json.dumps(
            {"commit": commit, "rows": rows, "questions": figures, "cpu_count": os.cpu_count()},
            indent=2,
            ensure_ascii=False,
        )
        + "\n"
    )


if __name__ == "__main__":
    main()
