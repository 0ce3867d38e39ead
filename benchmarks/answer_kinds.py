"""The answer-kind checks (assistant/answer_types.py) on the dev sets' own passages; no index needed.

    python benchmarks/answer_kinds.py                  # nearmiss, nyt, xling, coqa (dev)

Each question gets its gold document (nearmiss: the story it is about, which does not answer it)
as the only passage, the sentence picker's quote, and ``extractive.answers_kind``: the share of
questions it turns into abstentions, per language, and answer-contains of the quotes it lets
through, with and without the picker's bonus for sentences holding the expected kind. It isolates
these checks from retrieval and from the abstention model; quality.py measures the whole pipeline.
Dev only.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

from assistant.answering import extractive
from assistant.answering.extractive import NOT_A_QUESTION, ExtractiveAnswerer, answers_kind
from assistant.config import Settings
from assistant.documents import Passage
from assistant.index.profile import profile_for
from assistant.text import normalise, tokenize

EVAL = Path(__file__).resolve().parents[2] / "shared" / "eval"
PASSAGE_CHARS = 1500  # about a chunk


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sets", nargs="+", default=["nearmiss", "nyt", "xling", "coqa"])
    args = parser.parse_args()
    docs = {}
    for corpus in ("news.jsonl", "coqa_cnn.jsonl"):
        for line in (EVAL / "corpora" / corpus).open(encoding="utf-8"):
            doc = json.loads(line)
            docs[doc["id"]] = doc
    frequency: Counter[str] = Counter()
    for doc in docs.values():
        frequency.update(set(tokenize(doc["text"])))
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    answerer = ExtractiveAnswerer(settings.answers, frequency, len(docs), profile_for(settings.embedding))
    bonus = extractive.KIND_BONUS
    print(f"{'set':9} {'bonus':>5} {'n':>4} {'abstained':>9}  per language{'':22} answer contains")
    for name in args.sets:
        questions = [json.loads(line) for line in (EVAL / "dev" / f"{name}.jsonl").open(encoding="utf-8")]
        for kind_bonus in (0.0, bonus):
            extractive.KIND_BONUS = kind_bonus
            rows = []
            for question in questions:
                doc_id = (question["gold_doc_ids"] or [question.get("about_doc_id")])[0]
                if doc_id is None:
                    continue
                doc = docs[doc_id]
                passage = Passage(chunk_id=doc_id, doc_id=doc_id, text=doc["text"][:PASSAGE_CHARS],
                                  metadata={"lang": doc["lang"], "title": doc.get("title")}, score=1.0)
                context = " ".join(t["content"] for t in question.get("history", []) if t["role"] == "user")
                ranked = answerer.rank_sentences(question["question"], [passage], context)
                best = ranked[0][0]
                limit = answerer.answers.answer_sentences
                chosen = [r[3] for r in ranked if r[0] >= 0.25 * best or best <= 0][:limit]
                answered = answers_kind(question["question"], passage, chosen) \
                    and not NOT_A_QUESTION.search(question["question"])
                quote = normalise(" ".join(chosen))
                rows.append((question["lang"], not answered,
                             answered and any(normalise(a) in quote for a in question["answers"])))
            langs = Counter(r[0] for r in rows)
            per = {lang: round(100 * sum(r[1] for r in rows if r[0] == lang) / count, 1)
                   for lang, count in sorted(langs.items())}
            abstained = 100 * sum(r[1] for r in rows) / len(rows)
            contains = 100 * sum(r[2] for r in rows) / len(rows)
            shares = " ".join(f"{lang} {share}" for lang, share in per.items())
            print(f"{name:9} {kind_bonus:>5} {len(rows):>4} {abstained:>8.1f}%  {shares:34} {contains:.1f}%")
    extractive.KIND_BONUS = bonus


if __name__ == "__main__":
    main()
