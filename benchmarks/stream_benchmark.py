"""Time to the evidence and to the model's first word on /api/chat, with a slow model.

    python benchmarks/stream_benchmark.py                       # first token after 2 s; 3 rounds
    python benchmarks/stream_benchmark.py --first-token 8 --rounds 1

A real `assistant serve` over the sample articles (uvicorn on 127.0.0.1) talks to the scripted
OpenAI-compatible stub of the tests (tests/openai_stub.py), which streams a grounded answer (the
first sentence of source 1, cited) only ``--first-token`` seconds after the request, as a small model
on a CPU does while it reads the prompt; the answerability judge's short call is answered at once
(``--judge-delay`` to slow it too). One client asks the sample questions one after another with
`Accept: text/event-stream` and notes, per turn, the seconds to the `evidence` event (the sources and
the articles quoted), to the first `token` and to `done`. Prints p50/p95 of each, over the turns the
model answered (turns that abstain before any model call are counted apart); writes
benchmarks/out/stream.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
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
from tests.openai_stub import OpenAIStub, Reply, sources_in  # noqa: E402

OUT = ROOT / "benchmarks" / "out"


def one_turn(base: str, question: str) -> dict[str, Any]:
    """Seconds from the request to each event's first arrival, and the final result."""
    started = time.perf_counter()
    seen: dict[str, float] = {}
    done: dict[str, Any] = {}
    name = "message"
    with httpx.stream("POST", f"{base}/api/chat", json={"question": question},
                      headers={"Accept": "text/event-stream"}, timeout=300) as response:
        response.raise_for_status()
        for line in response.iter_lines():
            if line.startswith("event:"):
                name = line[6:].strip()
                seen.setdefault(name, time.perf_counter() - started)
            elif line.startswith("data:") and name == "done":
                done = json.loads(line[5:])
    return {"question": question, "seconds": seen, "mode": done.get("mode")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--first-token", type=float, default=2.0, help="s before the first word")
    parser.add_argument("--judge-delay", type=float, default=0.0, help="the judge call's delay, s")
    parser.add_argument("--rounds", type=int, default=3, help="times each sample question is asked")
    args = parser.parse_args()

    def slow(body: dict[str, Any]) -> Reply:
        first = re.split(r"(?<=\.)\s", sources_in(body)[1])[0].rstrip(".")
        return Reply(text=f"{first} [1].", first_token_delay=args.first_token)

    with tempfile.TemporaryDirectory(prefix="stream-") as tmp, OpenAIStub() as stub:
        folder = Path(tmp)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        log_path = folder / "server.log"
        stub.default = slow
        stub.judge = None if args.judge_delay else "yes"
        if args.judge_delay:  # judge calls then come in order with the answers: script them per call
            stub.default = lambda body: Reply(text="yes", delay=args.judge_delay) \
                if (body.get("max_tokens") or 99) <= 3 else slow(body)
        process = start_server(folder, port, log_path, model_url=stub.url)
        try:
            wait_healthy(base, process, timeout=1200, accept=(200, 503))
            one_turn(base, QUESTIONS[0])  # warm up (embedder, BM25)
            turns = [one_turn(base, question) for _ in range(args.rounds) for question in QUESTIONS]
        finally:
            stop_server(process)

    answered = [t for t in turns if t["mode"] == "llm"]
    other = len(turns) - len(answered)

    def figures(event: str) -> dict[str, float]:
        values = [t["seconds"][event] for t in answered if event in t["seconds"]]
        return {"p50": round(percentile(values, 50), 3), "p95": round(percentile(values, 95), 3)}

    summary = {"first_token_delay": args.first_token, "judge_delay": args.judge_delay, "turns": len(turns),
               "model_answered": len(answered), "not_by_the_model": other,
               "seconds": {event: figures(event) for event in ("evidence", "token", "done")},
               "cpu_count": os.cpu_count()}
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "stream.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(f"{len(turns)} turns, {len(answered)} answered by the model ({other} not: abstained or quoted)")
    print(f"model's first token after {args.first_token} s (judge {args.judge_delay} s); seconds, p50 / p95:")
    labels = {"evidence": "to the evidence (sources + quote)", "token": "to the model's first token",
              "done": "to the final answer"}
    for event, label in labels.items():
        p50, p95 = summary["seconds"][event]["p50"], summary["seconds"][event]["p95"]
        print(f"  {label:36} {p50:7.3f} / {p95:7.3f}")


if __name__ == "__main__":
    main()
