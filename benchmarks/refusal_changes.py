"""Which answerable questions change side between two embedder profiles, and were their answers right?

    git show 8f7262b:assistant/index/profiles/multilingual-e5-small.toml > /tmp/old.toml
    python benchmarks/refusal_changes.py --old /tmp/old.toml        # against the shipped profile

Offline, on `benchmarks/dump_turns.py`'s answerable dev turns (nyt, xling, coqa), read by the extractive
answerer with each profile on the same code: the turns one refuses and the other answers, counted by
whether the answer given contains a gold answer and quotes a gold article. "Wrongly abstained" counts
every refusal of an answerable question; this tells the refusals of right answers from those of wrong
ones. An older profile with fewer abstention features than the code reads gets zero weights for the
missing ones (the model it was: those features did not exist).
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
from collections import Counter
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import answer_rules as rules

from assistant.answering.extractive import ExtractiveAnswerer
from assistant.config import load_settings
from assistant.index.lexical import open_words
from assistant.index.profile import Abstention, EmbedderProfile, load_profile, profile_for
from assistant.text import normalise

SETS = ("nyt", "xling", "coqa")


def older(path: Path, shipped: EmbedderProfile) -> EmbedderProfile:
    """The profile at ``path``, its abstention model padded to the features the code reads."""
    model = tomllib.loads(path.read_text(encoding="utf-8"))["abstention"]
    missing = len(shipped.abstention.feature_means) - len(model["feature_means"])
    if missing == 0:
        return load_profile(path)
    padded = Abstention(weights=(*model["weights"], *[0.0] * missing),
                        feature_means=(*model["feature_means"], *[0.0] * missing),
                        feature_scales=(*model["feature_scales"], *[1.0] * missing))
    return replace(shipped, abstention=padded)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--old", type=Path, required=True, help="the other profile (TOML)")
    args = parser.parse_args()
    settings = load_settings()
    new = profile_for(settings.embedding)
    old = older(args.old, new)
    readers: dict[str, tuple[ExtractiveAnswerer, ExtractiveAnswerer]] = {}
    counts: Counter[tuple[str, ...]] = Counter()
    for name in SETS:
        for line in (rules.TURNS / f"turns-dev-{name}.jsonl").read_text(encoding="utf-8").splitlines():
            turn = json.loads(line)
            passages = [rules.passage_of(p) for p in turn["passages"]]
            if not turn["answerable"] or turn["excluded"] or not passages:
                continue
            index = rules.INDEX_OF.get(name, "index-news")
            if index not in readers:
                words = open_words(load_settings(chroma_path=rules.INDEXES / index).index).vocabulary()
                readers[index] = (ExtractiveAnswerer(settings.answers, words, words.chunks, old),
                                  ExtractiveAnswerer(settings.answers, words, words.chunks, new))
            before, after = (reader.read(turn["question"], passages, turn["lang"], turn["context"]).answer
                             for reader in readers[index])
            if before.abstained == after.abstained:
                continue
            given = before if after.abstained else after
            right = any(normalise(a) and normalise(a) in normalise(given.text) for a in turn["answers"])
            gold = bool(given.sources) and given.sources[0].doc_id in turn["gold_doc_ids"]
            side = "refused now, answered before" if after.abstained else "answered now, refused before"
            counts[(name, side, "contains the answer" if right else "no answer",
                    "gold article" if gold else "another article")] += 1
    for key, count in sorted(counts.items()):
        print(f"{' | '.join(key):90} {count:4}")


if __name__ == "__main__":
    main()
