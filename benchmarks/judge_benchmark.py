"""The model's answerability judge (LLM_JUDGE) alone, against a real OpenAI-compatible server.

    local-llm serve 1.5b   # prints OPENAI_BASE_URL=... LLM_MODEL=...
    OPENAI_BASE_URL=http://127.0.0.1:8090/v1 LLM_MODEL=qwen2.5-coder-1.5b-instruct \\
    LLM_CONTEXT_TOKENS=4096 python benchmarks/judge_benchmark.py --sets nearmiss nyt seed --limit 40

Each dev question goes through the chain's retrieval; where the evidence rules let the model path
go on (they abstain before any model call otherwise), the judge gets exactly the messages the answer
call would get, as in ModelAnswerer.stream, and copies the answer from the sources (yes), says NONE
(no) or neither. It prints, per set: how
many reached the judge, its verdicts, and the share of the set the model path abstains on with the
judge (evidence rules or "no"): on nearmiss, what the Trust issue wants high; on answerable sets,
wrongly abstained. Only the judge's call is made (no answers are written), so it is the
judge's figure at a fraction of quality.py's time. Needs the indexes of `python benchmarks/quality.py`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

from assistant.answering.chain import TurnSteps, history_context
from assistant.answering.extractive import ExtractiveAnswerer
from assistant.answering.generate import ModelAnswerer
from assistant.answering.llm import ModelError, make_chat_model
from assistant.config import load_settings
from assistant.service import Assistant

ROOT = Path(__file__).resolve().parents[1]
EVAL = ROOT.parent / "shared" / "eval" / "dev"
OUT = ROOT / "benchmarks" / "out"
INDEX = {"nearmiss": "index-news", "nyt": "index-news", "xling": "index-news", "abstain": "index-news",
         "seed": "index-articles", "coqa": "index-coqa_cnn"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sets", nargs="+", default=["nearmiss", "nyt", "seed"])
    parser.add_argument("--limit", type=int, default=None, help="first N questions of each set")
    args = parser.parse_args()
    results = {}
    for name in args.sets:
        settings = load_settings(chroma_path=OUT / INDEX[name], llm_judge=True)
        if not settings.llm_configured:
            sys.exit("set OPENAI_BASE_URL (and LLM_MODEL) to the model server to judge with")
        assistant = Assistant.open(settings)
        steps = TurnSteps(settings.answers, settings.retrieval, assistant.retriever,
                          profile=assistant.profile)
        vocabulary = assistant.retriever.vocabulary()
        extractive = ExtractiveAnswerer(settings.answers, vocabulary, vocabulary.chunks, assistant.profile)
        answerer = ModelAnswerer(settings.model, settings.answers, make_chat_model(settings.model),
                                 assistant.retriever, profile=assistant.profile,
                                 tiktoken_cache_dir=settings.tokenizer.tiktoken_cache_dir)
        assert answerer.judge is not None
        verdicts: Counter[str] = Counter()
        seconds: list[float] = []
        lines = (EVAL / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()[: args.limit]
        for line in lines:
            question = json.loads(line)
            state = steps.retrieve(steps.rewrite(steps.prepare(
                {"question": question["question"], "history": question.get("history")})))
            context = history_context(state.topic, settings.max_history_turns)
            evidence = extractive.evidence(state.question, state.passages, state.lang, context)
            if not state.passages or extractive.should_abstain(evidence, state.question):
                verdicts["evidence rules abstain"] += 1
                continue
            values = answerer.prompt_values(state.question, state.lang, state.topic, "")
            sources, _ = answerer.fit_sources(state.passages[: settings.llm_sources], values)
            started = time.perf_counter()
            try:
                verdict = answerer.judge.verdict(answerer.messages(values, sources), state.question, sources)
            except ModelError as exc:
                verdicts[f"model error ({type(exc).__name__})"] += 1
                continue
            seconds.append(time.perf_counter() - started)
            verdicts[{True: "yes", False: "no", None: "neither"}[verdict]] += 1
            print(f"[{name}] {verdict!s:5} {question['question'][:90]}", file=sys.stderr, flush=True)
        abstained = verdicts["evidence rules abstain"] + verdicts["no"]
        results[name] = {
            "questions": len(lines), "verdicts": dict(verdicts),
            "abstained_with_judge": round(100 * abstained / max(len(lines), 1), 1),
            "judge_seconds_p50": round(float(np.percentile(seconds, 50)), 1) if seconds else None,
            "judge_seconds_p95": round(float(np.percentile(seconds, 95)), 1) if seconds else None,
            "model": settings.llm_model,
        }
        print(json.dumps({name: results[name]}), flush=True)
    (OUT / "judge.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
