"""HTML main-text extraction on the Scrapinghub article-extraction benchmark (../shared/eval/web).

    python benchmarks/extract_benchmark.py                  # our extractor (assistant/extract.py)
    python benchmarks/extract_benchmark.py --reference      # and trafilatura with default options
    python benchmarks/extract_benchmark.py --worst 15

121 real article pages (html/*.html.gz) with their human-written body (ground-truth.json,
"articleBody"). The metric is the benchmark's own: each body is cut into 4-token shingles (tokens:
``\\w+``); per page, the shingle multisets give TP/FP/FN, normalised by their sum so that long pages
weigh no more than short ones; precision and recall are averaged over the pages (a page with
nothing predicted counts for recall only) and F1 is computed from the two means. An "empty page"
is one where the extractor returned no body at all.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WEB = ROOT.parent / "shared" / "eval" / "web"
TOKEN = re.compile(r"\w+", re.UNICODE)


@dataclass
class PageScore:
    page: str
    tp: float
    fp: float
    fn: float
    empty: bool

    @property
    def precision(self) -> float | None:
        if self.fp == self.fn == 0:
            return 1.0
        return self.tp / (self.tp + self.fp) if self.tp + self.fp > 0 else None

    @property
    def recall(self) -> float | None:
        if self.fp == self.fn == 0:
            return 1.0
        return self.tp / (self.tp + self.fn) if self.tp + self.fn > 0 else None

    @property
    def f1(self) -> float:
        p, r = self.precision or 0.0, self.recall or 0.0
        return 2 * p * r / (p + r) if p + r else 0.0


def shingles(text: str, n: int = 4) -> Counter[tuple[str, ...]]:
    tokens = TOKEN.findall(text or "")
    return Counter(tuple(tokens[i:i + n]) for i in range(max(1, len(tokens) - n + 1)) if tokens[i:i + n])


def score_page(page: str, truth: str, predicted: str) -> PageScore:
    true, pred = shingles(truth), shingles(predicted)
    tp = fp = fn = 0.0
    for key in true.keys() | pred.keys():
        t, p = true.get(key, 0), pred.get(key, 0)
        tp += min(t, p)
        fp += max(0, p - t)
        fn += max(0, t - p)
    total = tp + fp + fn
    if total:
        tp, fp, fn = tp / total, fp / total, fn / total
    return PageScore(page, tp, fp, fn, empty=not predicted.strip())


def summary(scores: list[PageScore]) -> dict[str, float]:
    precision = statistics.mean(s.precision for s in scores if s.precision is not None)
    recall = statistics.mean(s.recall for s in scores if s.recall is not None)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"f1": f1, "precision": precision, "recall": recall,
            "empty": float(sum(s.empty for s in scores))}


def load_pages() -> tuple[dict[str, dict[str, str]], dict[str, bytes]]:
    if not (WEB / "ground-truth.json").exists():
        sys.exit(f"{WEB} not found: the benchmark reads ../shared/eval/web next to the project")
    truth = json.loads((WEB / "ground-truth.json").read_text(encoding="utf-8"))
    pages = {path.name.split(".")[0]: gzip.decompress(path.read_bytes())
             for path in sorted((WEB / "html").glob("*.html.gz"))}
    return truth, pages


def ours(markup: bytes, url: str) -> str:
    from assistant.ingest.extract import extract_article

    return extract_article(markup.decode("utf-8"), url=url).body


def trafilatura_default(markup: bytes, url: str) -> str:
    import trafilatura

    return trafilatura.extract(markup.decode("utf-8"), include_comments=False) or ""


def run(name: str, extractor: Callable[[bytes, str], str], truth: dict[str, dict[str, str]],
        pages: dict[str, bytes], worst: int) -> dict[str, float]:
    started = time.perf_counter()
    scores = [score_page(page, truth[page].get("articleBody", ""),
                         extractor(markup, truth[page].get("url", "")))
              for page, markup in pages.items()]
    elapsed = time.perf_counter() - started
    figures = summary(scores)
    print(f"{name:<22} F1 {figures['f1']:.3f}  precision {figures['precision']:.3f}  "
          f"recall {figures['recall']:.3f}  empty pages {int(figures['empty'])}  "
          f"({len(scores)} pages, {1000 * elapsed / len(scores):.0f} ms/page)")
    for s in sorted(scores, key=lambda s: s.f1)[:worst]:
        print(f"    {s.f1:.3f}  P {s.precision or 0:.3f}  R {s.recall or 0:.3f}  {s.page[:16]}  "
              f"{truth[s.page].get('url', '')[:80]}")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reference", action="store_true", help="also trafilatura with default options")
    parser.add_argument("--worst", type=int, default=10, help="list this many worst pages")
    args = parser.parse_args()
    truth, pages = load_pages()
    if args.reference:
        run("trafilatura (default)", trafilatura_default, truth, pages, args.worst)
    run("assistant.ingest.extract", ours, truth, pages, args.worst)


if __name__ == "__main__":
    main()
