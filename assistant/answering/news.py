"""Answers about what is new and how a story developed: the newest dated articles on a topic (or all of
them), newest first, one cited line each, and when none is as recent as asked it says so and gives the
latest there is; or a timeline, the dated articles on a topic oldest first.

    request = news_request("What happened this week?", "en", time_frame(question, today))
    answer = latest_news(request, question, retriever, top_k, margin=profile.topics.news_margin)  # TOP_K
    request = timeline_request("How have Vietnam and Russia developed since 2024?", "en")
    answer = timeline(request, question, retriever, top_k, margin=profile.topics.news_margin)

A question asks what is new when it has one of its language's ``news_phrases`` (assistant/languages),
or a recency expression of ``retrieval.recency`` ("the latest", "yesterday") and no other content
than its topic. The topic is what is left of the question without its function words, its news
phrase and its time expression ("What is the latest news on Vietnam and Russia?" → "vietnam russia").
Other questions about a time ("What did Putin sign last week?") go the usual way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from assistant.documents import Answer, Filters, Passage, Source, make_source
from assistant.languages import long_date, say, word_list
from assistant.retrieval.hybrid import HybridRetriever
from assistant.retrieval.recency import TimeFrame
from assistant.text import function_words, split_sentences, tokenize

LINES = 5  # articles listed
# A search returns its k best whatever they are about. An article is on the topic when its passage has
# at least half the topic's words (by IDF weight), or (across languages, where words do not match) its
# dense similarity is within a margin of the best one's (the embedder profile's topics.news_margin).
TOPIC_COVERAGE = 0.5
TIMELINE_LINES = 8
YEAR = re.compile(r"\b(?:19|20)\d\d\b")
WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class NewsRequest:
    """A question about what is new: its time (a span, or only "the latest") and topic words."""

    frame: TimeFrame
    topic: str
    lang: str


def news_request(question: str, lang: str, frame: TimeFrame | None) -> NewsRequest | None:
    """The news the question asks for, or None when it asks something else."""
    when = frame.expression if frame is not None else ""
    untimed = question.replace(when, " ") if when else question  # "wat is er [gisteren] gebeurd"
    said = {f" {' '.join(tokenize(text))} " for text in (question, untimed)}
    phrases = [" ".join(tokenize(phrase)) for phrase in word_list(lang, "news_phrases")]
    asked = [phrase for phrase in phrases if phrase and any(f" {phrase} " in text for text in said)]
    if not asked and (frame is None or frame.prefer):
        return None
    frame = frame if frame is not None and not frame.prefer else TimeFrame(latest=True)
    said_words = {word for phrase in asked for word in phrase.split()} | set(tokenize(when))
    topic = topic_words(untimed, lang, said_words)
    if not asked and topic:  # "What did Putin sign last week?" asks about something that happened
        return None
    return NewsRequest(frame=frame, topic=topic, lang=lang)


@dataclass(frozen=True)
class TimelineRequest:
    """A question about how a story developed: its topic words and the year it starts from."""

    topic: str
    lang: str
    since: str = ""  # YYYY-01-01 of the year named ("since 2024"), or ""


def timeline_request(question: str, lang: str) -> TimelineRequest | None:
    """The timeline the question asks for (one of its language's ``timeline_phrases``), or None."""
    said = f" {' '.join(tokenize(question))} "
    asked = [phrase for phrase in (" ".join(tokenize(text)) for text in word_list(lang, "timeline_phrases"))
             if phrase and f" {phrase} " in said]
    if not asked:
        return None
    years = YEAR.findall(question)
    return TimelineRequest(topic=topic_words(question, lang, {w for phrase in asked for w in phrase.split()}),
                           lang=lang, since=f"{min(years)}-01-01" if years else "")


def topic_words(text: str, lang: str, left: set[str]) -> str:
    """The words of ``text`` that name its topic: not in ``left``, not function words (names stay,
    even a frequent one: jusText's Russian stoplist has "России"), not numbers."""
    names = {word.lower() for word in WORD.findall(text)[1:] if word[:1].isupper()}
    return " ".join(word for word in tokenize(text) if word not in left and not word.isdigit() and (
        word in names or word not in function_words(lang)))


def timeline(request: TimelineRequest, question: str, retriever: HybridRetriever, top_k: int,
             filters: Filters | None = None, *, margin: float) -> Answer | None:
    """The dated articles on the topic (since the year asked), oldest first, one cited line each;
    None without a topic or with fewer than two dated articles (the usual answer path then answers)."""
    if not request.topic:
        return None
    if request.since and not (filters and filters.date_from):
        filters = replace(filters or Filters(), date_from=request.since)
    found = on_topic(retriever.search(request.topic, filters, max(top_k, TIMELINE_LINES)), margin)
    dated = sorted((passage for passage in found if passage.metadata.get("date")),
                   key=lambda passage: str(passage.metadata["date"]))
    if len(dated) < 2:
        return None
    leads = openings(retriever, [passage.doc_id for passage in dated[:TIMELINE_LINES]])
    return listed(question, say("timeline", request.lang), leads, request.lang)


def listed(question: str, heading: str, passages: list[Passage], lang: str) -> Answer:
    """An answer of a heading and one line per passage: its date, its first sentence, its citation."""
    sources: list[Source] = []
    lines = [heading]
    for number, passage in enumerate(passages, 1):
        source = make_source(number, passage)
        sentence = lead(passage)
        source.supporting = [sentence]
        sources.append(source)
        lines.append(f"- {long_date(source.date, lang)}: {sentence} [{number}]")
    return Answer(question=question, text="\n".join(lines), sources=sources, abstained=False, lang=lang)


def latest_news(request: NewsRequest, question: str, retriever: HybridRetriever, top_k: int,
                filters: Filters | None = None, *, margin: float) -> Answer | None:
    """The newest dated articles the request asks for, as an Answer citing each; None when the index
    has no dated article on the topic at all (the usual answer path then answers)."""
    frame, lang = request.frame, request.lang
    unbounded = replace(filters or Filters(), date_from=None, date_to=None) if frame.is_span else filters
    found = newest(request, retriever, top_k, filters, margin)
    heading = say("latest", lang)
    if frame.is_span:
        period = said_period(frame, lang)
        heading = say("latest_in", lang, period=period)
        if not found:
            found = newest(request, retriever, top_k, unbounded, margin)
            if not found:
                return None
            heading = say("nothing_since", lang, period=period,
                          date=long_date(str(found[0].metadata.get("date")), lang))
    if not found:
        return None
    return listed(question, heading, found[:LINES], lang)


def said_period(frame: TimeFrame, lang: str) -> str:
    """A span as the question said it, with its dates: "yesterday (6 December 2026)"."""
    assert frame.start is not None and frame.end is not None  # a span
    dates = long_date(frame.start.isoformat(), lang) if frame.start == frame.end else \
        f"{long_date(frame.start.isoformat(), lang)} – {long_date(frame.end.isoformat(), lang)}"
    return f"{frame.expression} ({dates})"


def outside_period(frame: TimeFrame, lang: str) -> str:
    """What an answer from articles outside the span the question named says first: that no article of
    the span answered it (the sources show their dates)."""
    return say("outside_period", lang, period=said_period(frame, lang))


def newest(request: NewsRequest, retriever: HybridRetriever, top_k: int,
           filters: Filters | None, margin: float) -> list[Passage]:
    """Dated passages, one per article, newest first: the articles found for the topic, or (no topic)
    the most recently published of all, within the filters' dates."""
    if request.topic:
        found = on_topic(retriever.search(request.topic, filters, max(top_k, LINES)), margin)
        dated = [passage for passage in found if passage.metadata.get("date")]
        ordered = sorted(dated, key=lambda passage: str(passage.metadata["date"]), reverse=True)
        return openings(retriever, [passage.doc_id for passage in ordered[:LINES]])
    start = int((filters.date_from if filters and filters.date_from else "0001-01-01").replace("-", ""))
    end = int((filters.date_to if filters and filters.date_to else "9999-12-31").replace("-", ""))
    superseded = set(retriever.index.superseded_ids())
    documents = [doc_id for doc_id, _ in retriever.index.words.newest_documents(LINES + len(superseded),
                                                                                start, end)
                 if doc_id not in superseded][:LINES]
    return openings(retriever, documents)


def on_topic(found: list[Passage], margin: float) -> list[Passage]:
    """The passages about the topic searched (see TOPIC_COVERAGE; ``margin``: the embedder's cosine
    margin, its profile's topics.news_margin)."""
    best = max((passage.dense_similarity for passage in found), default=0.0)
    return [passage for passage in found if passage.lexical_coverage >= TOPIC_COVERAGE
            or passage.dense_similarity >= best - margin]


def openings(retriever: HybridRetriever, documents: list[str]) -> list[Passage]:
    """The first passage of each document, in the order given: its lead says what it reports."""
    if not documents:
        return []
    rows = retriever.index.get(where={"$and": [{"doc_id": {"$in": documents}}, {"chunk_index": 0}]},
                               include=["metadatas", "documents"])
    passages = {str(meta["doc_id"]): Passage(chunk_id=chunk_id, doc_id=str(meta["doc_id"]), text=str(text),
                                             metadata=dict(meta))
                for chunk_id, meta, text in zip(rows["ids"], rows["metadatas"], rows["documents"],
                                                strict=True)}
    return [passages[doc_id] for doc_id in documents if doc_id in passages]


def lead(passage: Passage) -> str:
    """The passage's first sentence: what the article reports first."""
    sentences = split_sentences(passage.text, str(passage.metadata.get("lang") or "en"))
    return sentences[0] if sentences else passage.text.strip()

