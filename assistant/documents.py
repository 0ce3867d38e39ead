"""The records passed between stages: RawDocument → Article → Chunk → Passage → Answer."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any, Literal

from assistant.errors import QuestionError

Role = Literal["user", "assistant"]
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


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
    section: str | None = None  # the publisher's section or category ("opinion", "sport")
    supersedes: str | None = None  # the id of the article this one corrects or updates (publisher API)
    revision: str | None = None  # "correction" or "update", with supersedes


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
    section: str = ""  # lower case, "" when unknown (see section_name)
    supersedes: str = ""  # the article this one corrects or updates: never quoted while this exists
    revision: str = ""  # "correction" or "update" ("" unless it supersedes one)


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
    supersedes: str = ""  # the article this one corrects or updates
    revision: str = ""  # "correction" or "update"

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
        supersedes=str(meta.get("supersedes") or ""), revision=str(meta.get("revision") or ""),
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
    # a refusal's closest articles (on the topic, not answering): listed apart, never cited
    related: list[Source] = field(default_factory=list)
    lang: str = ""  # the question's language: the reader's, for the labels and "as of"

    @property
    def cited_doc_ids(self) -> list[str]:
        return [s.doc_id for s in self.sources]

    @property
    def as_of(self) -> str | None:
        """The publication date of the newest article the answer cites (None when none is dated)."""
        return max((s.date for s in self.sources if is_iso_date(s.date)), default=None)

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
            "related": [s.to_dict() for s in self.related],
            "lang": self.lang,
            "as_of": self.as_of,
            "as_of_label": as_of_label(self.as_of, self.lang),
            "revision_label": revision_label(self.sources, self.lang),
        }


def as_of_label(iso_date: str | None, lang: str) -> str:
    """"As of 2 April 2025" in the reader's language ("" without a date)."""
    from assistant.languages import as_of

    return as_of(iso_date, lang or "en")


def revision_label(sources: Sequence[Source], lang: str) -> str:
    """"Corrected on 3 April 2025" when a cited article corrects (or updates) an earlier one, in the
    reader's language; "" otherwise."""
    from assistant.languages import long_date, say

    for source in sources:
        if source.revision in ("correction", "update"):
            key = "corrected" if source.revision == "correction" else "updated"
            if is_iso_date(source.date):
                return say(key, lang or "en", date=long_date(source.date, lang or "en"))
            return say(f"{key}_undated", lang or "en")
    return ""


@dataclass
class QuotedEvidence:
    """What the reader sees while the model writes: this turn's retrieved sources, numbered as the
    model reads them, and the articles quoted for the question (citing those numbers) or the
    extractive abstention. Never the answer: the turn's Answer follows and replaces it."""

    question: str
    text: str
    sources: list[Source]
    abstained: bool

    @property
    def citations(self) -> list[int]:
        """The source numbers the quote cites, in order of first use."""
        numbers = {s.number for s in self.sources}
        cited = [int(n) for n in re.findall(r"\[(\d{1,3})\]", self.text)]
        return [n for n in dict.fromkeys(cited) if n in numbers]

    def to_dict(self) -> dict[str, Any]:
        return {"question": self.question, "answer": self.text, "abstained": self.abstained,
                "sources": [s.to_dict() for s in self.sources], "citations": self.citations}


@dataclass(frozen=True)
class Turn:
    role: Role
    content: str


@dataclass(frozen=True)
class Filters:
    """Metadata filters for retrieval; empty fields do not filter.

    Dates are checked here, once, for every entry point (CLI, API, UI): a date that is not
    YYYY-MM-DD, or a range whose start is after its end, is a QuestionError.

        Filters.of(lang="nl", date_from=" 2025-03-01 ", date_to="")  # blanks mean "no filter"
        Filters(date_from="2024")  # QuestionError: From date '2024' is not a date: write it as YYYY-MM-DD...
    """

    lang: str | None = None
    outlet: str | None = None
    date_from: str | None = None  # inclusive ISO date
    date_to: str | None = None
    # sections whose articles are never retrieved (EXCLUDE_SECTIONS, or a request's exclude_sections)
    exclude_sections: tuple[str, ...] = ()
    # articles never retrieved: a publisher's withdrawn pieces, or an evaluation's gold documents
    # (leave-gold-out: every answerable question becomes a near miss on its own topic)
    exclude_doc_ids: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if isinstance(self.exclude_doc_ids, str) or not all(
                isinstance(doc_id, str) for doc_id in self.exclude_doc_ids):
            raise QuestionError("exclude_doc_ids must be a list of article ids (strings).")
        object.__setattr__(self, "exclude_doc_ids", tuple(dict.fromkeys(
            doc_id.strip() for doc_id in self.exclude_doc_ids if doc_id.strip())))
        if isinstance(self.exclude_sections, str) or not all(
                isinstance(section, str) for section in self.exclude_sections):
            raise QuestionError("exclude_sections must be a list of section names (strings).")
        object.__setattr__(self, "exclude_sections", tuple(dict.fromkeys(
            name for name in (section_name(section) for section in self.exclude_sections) if name)))
        for label, value in (("From", self.date_from), ("To", self.date_to)):
            if value is not None and not is_iso_date(value):
                raise QuestionError(
                    f"{label} date {value!r} is not a date: write it as YYYY-MM-DD, e.g. 2025-04-02.")
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise QuestionError(
                f"The date range is reversed: {self.date_from} is after {self.date_to}; swap the dates.")

    @classmethod
    def of(cls, lang: str | None = None, outlet: str | None = None, date_from: str | None = None,
           date_to: str | None = None, exclude_sections: Sequence[str] = (),
           exclude_doc_ids: Sequence[str] = ()) -> Filters:
        """Filters from form fields or flags: blanks around values are dropped; empty means no filter."""
        def field_value(value: str | None) -> str | None:
            return (value or "").strip() or None

        return cls(lang=field_value(lang), outlet=field_value(outlet), date_from=field_value(date_from),
                   date_to=field_value(date_to), exclude_sections=tuple(exclude_sections),
                   exclude_doc_ids=tuple(exclude_doc_ids))

    def is_empty(self) -> bool:
        return not (self.lang or self.outlet or self.date_from or self.date_to or self.exclude_sections
                    or self.exclude_doc_ids)

    def conditions(self) -> list[tuple[str, str, str | int | tuple[str, ...]]]:
        """(metadata field, operator, value) of each filter, for any store to translate:
        ``[("lang", "=", "nl"), ("date_int", ">=", 20250301), ("section", "not in", ("opinion",))]``;
        ``exclude_doc_ids`` is ``("doc_id", "not in", ids)``."""
        found: list[tuple[str, str, str | int | tuple[str, ...]]] = []
        if self.lang:
            found.append(("lang", "=", self.lang.lower()))
        if self.outlet:
            found.append(("outlet", "=", self.outlet))
        if self.date_from:
            found.append(("date_int", ">=", int(self.date_from.replace("-", ""))))
        if self.date_to:
            found.append(("date_int", "<=", int(self.date_to.replace("-", ""))))
        if self.exclude_sections:
            found.append(("section", "not in", self.exclude_sections))
        if self.exclude_doc_ids:
            found.append(("doc_id", "not in", self.exclude_doc_ids))
        return found


def section_name(section: str | None) -> str:
    """A section as stored and compared: lower case, single spaces ("Opinion " → "opinion")."""
    return " ".join((section or "").split()).lower()


def is_iso_date(value: str) -> bool:
    """Whether ``value`` is a real calendar date written YYYY-MM-DD."""
    if not ISO_DATE.match(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True
