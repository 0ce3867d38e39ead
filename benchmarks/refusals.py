"""How fast bad input and a stalled model are dealt with (the clock bounds the tests no longer assert).

    uv run python benchmarks/refusals.py            # about a minute on 2 cores (ingests data/articles)
    uv run python benchmarks/refusals.py --index DIR  # an index of data/articles already built there

1. a 1 MB question: seconds until QuestionError (it is refused before any retrieval);
2. a model stream that stalls for 4 s with LLM_TIMEOUT=1: seconds until the extractive fallback
   (the scripted OpenAI-compatible server of tests/openai_stub.py on 127.0.0.1).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from assistant.config import Settings  # noqa: E402
from assistant.errors import QuestionError  # noqa: E402
from assistant.ingest.pipeline import ingest  # noqa: E402
from assistant.service import Assistant  # noqa: E402
from tests.openai_stub import OpenAIStub, Reply  # noqa: E402

QUESTION = "Who directs the Russian Center for Science and Culture in Vietnam?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, help="CHROMA_PATH of an index of data/articles (else built)")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as temp:
        folder = Path(temp)
        settings = Settings(_env_file=None,  # type: ignore[call-arg]
                            chroma_path=options.index or folder / "vectorstore",
                            database_url=f"sqlite:///{folder / 'assistant.db'}")
        assistant = Assistant.open(settings)
        if options.index is None:
            ingest([ROOT / "data" / "articles"], settings, assistant.index)

        refusals = []
        for _ in range(5):
            started = time.perf_counter()
            try:
                assistant.ask("why " * 262_144)
            except QuestionError:
                refusals.append(time.perf_counter() - started)
        print(f"1 MB question refused: median {statistics.median(refusals) * 1000:.1f} ms "
              f"(max {max(refusals) * 1000:.1f} ms, {len(refusals)} runs)")

        with OpenAIStub() as stub:
            stub.default = Reply(text="The director of the centre is a well known diplomat.",
                                 stall_after=3, stall=4.0)
            model = Assistant.open(settings.model_copy(update={
                "openai_base_url": stub.url, "llm_model": "stub-model",
                "llm_timeout": 1.0, "llm_max_retries": 0}))
            started = time.perf_counter()
            answer = model.ask(QUESTION)
            print(f"stream stalled 4 s, LLM_TIMEOUT=1: {answer.mode} answer after "
                  f"{time.perf_counter() - started:.2f} s ({answer.notice[:60]}...)")


if __name__ == "__main__":
    main()
