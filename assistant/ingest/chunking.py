"""Token-aware chunking: sentences packed into chunks of about N tiktoken tokens, with overlap.

    chunker = Chunker(encoding=get_encoding("cl100k_base"), chunk_tokens=200, overlap=40)
    chunks = chunker.split(article)

Every chunk is an exact slice ``article.text[start:end]`` and carries the article's metadata.
Chunk ids are stable: ``{doc_id}#{content hash prefix}#{index}``, so re-running an ingest
overwrites rather than duplicates, and a new version of a document never collides with the old.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sentencex import segment

from assistant.documents import Article, Chunk
from assistant.text import segmenter_language

PARAGRAPH = re.compile(r"\S(?:.*?\S)?(?=\n\s*\n|\Z)", re.DOTALL)
@dataclass(frozen=True)
class Span:
    start: int
    end: int
    tokens: int


def chunk_id(doc_id: str, content_hash: str, index: int) -> str:
    return f"{doc_id}#{content_hash[:12]}#{index}"


def article_metadata(article: Article) -> dict[str, Any]:
    """Metadata every chunk of an article carries (Chroma accepts str, int, float, bool)."""
    return {
        "doc_id": article.doc_id,
        "doc_hash": article.content_hash,
        "title": article.title,
        "url": article.url,
        "lang": article.lang,
        "outlet": article.outlet,
        "date": article.date,
        "section": article.section,  # "" when unknown; EXCLUDE_SECTIONS filters on it
        "supersedes": article.supersedes,  # "" or the id of the article this one corrects
        "revision": article.revision,
        # Dates as yyyymmdd integers so that Chroma can filter ranges ($gte/$lte).
        "date_int": int(article.date.replace("-", "")) if article.date else 0,
    }


class Chunker:
    """Split articles into overlapping, sentence-aligned chunks measured in tokens."""

    def __init__(self, encoding: Any, chunk_tokens: int = 200, overlap: int = 40) -> None:
        if overlap >= chunk_tokens:
            raise ValueError("overlap must be smaller than chunk_tokens")
        self.encoding = encoding
        self.chunk_tokens = chunk_tokens
        self.overlap = overlap

    def count(self, text: str) -> int:
        return len(self.encoding.encode_ordinary(text))

    def sentences(self, text: str, lang: str) -> Iterator[Span]:
        """Sentence spans of ``text``; paragraph breaks always end a sentence."""
        language = segmenter_language(lang)
        for paragraph in PARAGRAPH.finditer(text):
            offset = paragraph.start()
            for sentence in segment(language, paragraph.group()):
                begin = text.find(sentence.strip(), offset)
                if begin < 0 or not sentence.strip():
                    continue
                end = begin + len(sentence.strip())
                offset = end
                yield from self._fit(text, begin, end)

    def _fit(self, text: str, start: int, end: int) -> Iterator[Span]:
        """A sentence longer than a chunk is cut at token boundaries."""
        tokens = self.encoding.encode_ordinary(text[start:end])
        if len(tokens) <= self.chunk_tokens:
            yield Span(start, end, len(tokens))
            return
        step = self.chunk_tokens - self.overlap
        position = start
        for first in range(0, len(tokens), step):
            piece = self.encoding.decode(tokens[first:first + self.chunk_tokens])
            begin = text.find(piece.strip()[:20], position)
            begin = begin if begin >= 0 else position
            stop = min(end, begin + len(piece.strip()))
            yield Span(begin, stop, len(tokens[first:first + self.chunk_tokens]))
            position = begin + 1
            if first + self.chunk_tokens >= len(tokens):
                break

    def split(self, article: Article) -> list[Chunk]:
        spans = list(self.sentences(article.text, article.lang))
        groups: list[list[Span]] = []
        current: list[Span] = []
        size = 0
        for span in spans:
            if current and size + span.tokens > self.chunk_tokens:
                groups.append(current)
                # Carry trailing sentences over as overlap, never a whole chunk.
                carry: list[Span] = []
                carried = 0
                for previous in reversed(current):
                    if carried + previous.tokens > self.overlap or len(carry) + 1 >= len(current):
                        break
                    carry.insert(0, previous)
                    carried += previous.tokens
                current, size = carry, carried
            current.append(span)
            size += span.tokens
        if current:
            groups.append(current)

        metadata = article_metadata(article)
        chunks = []
        for index, group in enumerate(groups):
            start, end = group[0].start, group[-1].end
            chunks.append(Chunk(
                chunk_id=chunk_id(article.doc_id, article.content_hash, index),
                doc_id=article.doc_id,
                index=index,
                text=article.text[start:end],
                start=start,
                end=end,
                metadata={**metadata, "chunk_index": index, "n_chunks": len(groups),
                          "start": start, "end": end},
            ))
        return chunks
