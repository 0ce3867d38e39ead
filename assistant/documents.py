"""The records passed between stages: RawDocument → Article → Chunk → Passage → Answer."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Role = Literal["user", "assistant"]


@dataclass(frozen=True)
class RawDocument:
    """A document as a source read it, before cleaning."""

    doc_id: str
    text: str
    content_hash: str
    title: str | None = None
    url: str | None = None
    lang: str | None = None
    outlet: str | None = None
    date: str | None = None
    fmt: str = "txt"


@dataclass(frozen=True)
class Article:
    """A cleaned news article with its metadata."""

    doc_id: str
    text: str
    content_hash: str
    title: str = ""
    url: str = ""
    lang: str = ""
    outlet: str = ""
    date: str = ""  # ISO yyyy-mm-dd, or "" when unknown


@dataclass(frozen=True)
class Chunk:
    """A piece of an article's cleaned text, located by character offsets."""

    chunk_id: str
    doc_id: str
    index: int
    text: str
    start: int
    end: int
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass
class Passage:
    """A retrieved chunk and the scores that put it there."""

    chunk_id: str
    doc_id: str
    text: str
    metadata: dict[str, Any]
    score: float = 0.0
    dense_similarity: float = 0.0
    calibrated: float = 0.0
    lexical_score: float = 0.0
    lexical_coverage: float = 0.0
    sparse_similarity: float | None = None  # None: the index has no sparse vectors
    dense_rank: int | None = None
    lexical_rank: int | None = None

    @property
    def title(self) -> str:
        return str(self.metadata.get("title") or self.doc_id)


@dataclass
class Source:
    """A numbered source shown to the user: the passage behind citation [number]."""

    number: int
    doc_id: str
    chunk_id: str
    title: str
    outlet: str
    date: str
    url: str
    lang: str
    passage: str
    supporting: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def make_source(number: int, passage: Passage) -> Source:
    """Source ``number`` for a retrieved passage (its article's metadata, the passage text)."""
    meta = passage.metadata
    return Source(
        number=number, doc_id=passage.doc_id, chunk_id=passage.chunk_id,
        title=str(meta.get("title") or passage.doc_id), outlet=str(meta.get("outlet") or ""),
        date=str(meta.get("date") or ""), url=str(meta.get("url") or ""),
        lang=str(meta.get("lang") or ""), passage=passage.text,
    )


@dataclass
class Answer:
    """What a turn produces: the text with [n] markers and exactly the sources it cites."""

    question: str
    text: str
    sources: list[Source]
    abstained: bool
    search_query: str = ""
    retrieved_doc_ids: list[str] = field(default_factory=list)
    mode: Literal["extractive", "llm"] = "extractive"
    notice: str = ""

    @property
    def cited_doc_ids(self) -> list[str]:
        return [s.doc_id for s in self.sources]

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "answer": self.text,
            "sources": [s.to_dict() for s in self.sources],
            "abstained": self.abstained,
            "search_query": self.search_query,
            "retrieved_doc_ids": self.retrieved_doc_ids,
            "cited_doc_ids": self.cited_doc_ids,
            "mode": self.mode,
            "notice": self.notice,
        }


@dataclass(frozen=True)
class Turn:
    role: Role
    content: str


@dataclass(frozen=True)
class Filters:
    """Metadata filters for retrieval; empty fields do not filter."""

    lang: str | None = None
    outlet: str | None = None
    date_from: str | None = None  # inclusive ISO date
    date_to: str | None = None

    def is_empty(self) -> bool:
        return not (self.lang or self.outlet or self.date_from or self.date_to)
