"""The retrieval chain: question (+ history) → search query → passages → cited answer.

    chain = build_chain(settings, retriever)               # extractive, no model needed
    chain = build_chain(settings, retriever, chat_model)   # fluent answers from a chat model
    chain = build_chain(settings, retriever, profile=load_profile(path))  # another embedder profile
    answer = ask(chain, "Who directs the Russian Center?")
    for event in stream(chain, "and when?", history):      # {"token": ...} ..., then {"answer": ...}
        ...                                                # (with a model {"evidence": ...} first)
        ...

One LCEL chain serves the CLI, the evaluation and the web service, so what is measured is what
users get. Steps are named (``run_name``) so traces read like the pipeline. The thresholds in the
embedder's units come from its profile (``assistant.index.profile``), chosen here or by the caller.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from langchain_core.runnables import (
    Runnable,
    RunnableGenerator,
    RunnableLambda,
)
from langchain_core.runnables.utils import AddableDict

from assistant.answering.extractive import ExtractiveAnswerer, Reading
from assistant.answering.news import (
    NewsRequest,
    TimelineRequest,
    latest_news,
    news_request,
    outside_period,
    timeline,
    timeline_request,
)
from assistant.config import AnswerSettings, RetrievalSettings, Settings
from assistant.documents import Answer, Filters, Passage, Turn
from assistant.errors import ModelError, QuestionError
from assistant.index.profile import EmbedderProfile, profile_for
from assistant.retrieval.hybrid import HybridRetriever
from assistant.retrieval.recency import (
    TimeFrame,
    collapse_copies,
    in_frame_first,
    newest_first,
    time_frame,
)
from assistant.retrieval.rewrite import heuristic_query, history_context, topic_turns
from assistant.text import detect_language

WORDS = re.compile(r"\S+\s*|\s+")  # a word with the space after it (the text joins back whole)
RETRIEVED_FOR_EVALUATION = 10  # documents listed per turn (recall@k and MRR@10 need 10)


@dataclass
class Turnstate:
    """What flows between the chain's steps."""

    question: str
    history: list[Turn]
    filters: Filters | None
    topic: list[Turn] = field(default_factory=list)  # the turns the question follows up on
    lang: str = "en"
    search_query: str = ""
    passages: list[Passage] = field(default_factory=list)
    retrieved_doc_ids: list[str] = field(default_factory=list)
    standalone: str = ""  # the follow-up rewritten by the model (empty when it was not)
    frame: TimeFrame | None = None  # when the asked-about articles appeared ("yesterday", "latest")
    model_failure: ModelError | None = None  # the model failed earlier in this turn
    instructions: str = ""  # the reader's own instructions for the model (an OpenAI system message)
    reading: Reading | None = None  # the evidence and the decision, once for both answer paths
    news: NewsRequest | None = None  # "what's new?", "what happened this week?"
    timeline: TimelineRequest | None = None  # "give me a timeline of X", "how has X developed since 2024?"
    news_answer: Answer | None = None  # the newest articles or the timeline, each cited (not a reading)
    spanned: bool = False  # the date filter is the span the question named ("this year"), not the reader's
    outside: str = ""  # the answer is from outside that span, as this first sentence says


def validate_question(question: object, answers: AnswerSettings) -> str:
    if not isinstance(question, str) or not question.strip():
        raise QuestionError("The question is empty: type a question about the articles.")
    question = question.strip()
    if len(question) > answers.max_question_chars:
        raise QuestionError(
            f"The question is {len(question):,} characters long; the limit is "
            f"{answers.max_question_chars:,} (MAX_QUESTION_CHARS). Ask a shorter question."
        )
    if "\x00" in question:
        raise QuestionError("The question contains a NUL byte; send plain text.")
    check_unicode(question, "The question")
    return question


def check_unicode(text: str, what: str) -> None:
    """QuestionError when ``text`` has a lone surrogate (e.g. JSON's "\\ud800"): it is no text,
    and every encoder downstream (tokenizer, language detection, JSON out) would fail on it."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise QuestionError(
            f"{what} is not valid Unicode text: it has a lone surrogate (U+{ord(text[exc.start]):04X}) "
            f"at character {exc.start + 1}. Send UTF-8 text; fix the client that escaped it."
        ) from None


def parse_history(history: Sequence[Any] | None) -> list[Turn]:
    """Turns from dicts ({"role", "content"}) or Turn objects; anything else is a QuestionError."""
    turns = []
    for item in history or []:
        if isinstance(item, Turn):
            check_unicode(item.content, "A history turn")
            turns.append(item)
        elif isinstance(item, dict) and item.get("role") in ("user", "assistant") \
                and isinstance(item.get("content"), str):
            check_unicode(item["content"], "A history turn")
            turns.append(Turn(role=item["role"], content=item["content"]))
        else:
            raise QuestionError(
                'Each history turn must be {"role": "user" | "assistant", "content": "..."}.'
            )
    return turns


def build_chain(settings: Settings, retriever: HybridRetriever, chat_model: Any = None,
                guard: Any = None, profile: EmbedderProfile | None = None) -> Runnable:
    """The chain; input {"question", "history"?, "filters"?}, streaming AddableDict events.

    With ``chat_model`` the follow-up is rewritten and the answer written by the model
    (``assistant.generate``); without one, the heuristic query and the extractive answer.
    ``guard`` (an ``llm.ModelGuard``; a new one when None) carries the circuit breaker that the
    turns of a process share. ``profile``: the embedder's thresholds (None: the configured
    embedder's, ``profile_for``). Each step gets its parts of ``settings``: answers and retrieval,
    and with a model the model's (and the tokenizer's cache).
    """
    steps = TurnSteps(settings.answers, settings.retrieval, retriever,
                      profile=profile or profile_for(settings.embedding))
    if chat_model is not None:
        from assistant.answering.generate import ModelAnswerer, QuestionRewriter
        from assistant.answering.llm import ModelGuard

        llm = settings.model
        guard = guard or ModelGuard(llm)
        steps.model_answerer = ModelAnswerer(llm, settings.answers, chat_model, retriever, guard,
                                             profile=steps.profile,
                                             tiktoken_cache_dir=settings.tokenizer.tiktoken_cache_dir)
        if llm.llm_rewrite:
            steps.rewriter = QuestionRewriter(llm, settings.answers, chat_model, guard)
    return (
        RunnableLambda(steps.prepare).with_config(run_name="prepare")
        | RunnableLambda(steps.rewrite).with_config(run_name="condense_question")
        | RunnableLambda(steps.retrieve).with_config(run_name="retrieve")
        | RunnableLambda(steps.read).with_config(run_name="read")
        | RunnableGenerator(steps.respond).with_config(run_name="answer")
    ).with_config(run_name="news_assistant")


@dataclass
class TurnSteps:
    """The chain's steps, in order: prepare → rewrite (condense_question) → retrieve → read → respond."""

    answers: AnswerSettings
    retrieval: RetrievalSettings  # its top_k: the passages a turn reads
    retriever: HybridRetriever
    profile: EmbedderProfile  # the embedder's thresholds (index.profile.profile_for)
    rewriter: Any = None  # generate.QuestionRewriter, with a model
    model_answerer: Any = None  # generate.ModelAnswerer, with a model

    def prepare(self, inputs: dict[str, Any]) -> Turnstate:
        """Check the question, read its history and filters; "yesterday" becomes a date filter."""
        question = validate_question(inputs.get("question"), self.answers)
        filters = inputs.get("filters")
        filters = filters if isinstance(filters, Filters) else None
        if filters is not None:
            for value in (filters.lang, filters.outlet, filters.date_from, filters.date_to):
                check_unicode(value or "", "A filter")
        frame = time_frame(question, inputs.get("today") or date.today())
        dated_by_reader = filters is not None and bool(filters.date_from or filters.date_to)
        spanned = frame is not None and frame.is_span and not dated_by_reader \
            and self.retriever.index.has_dates()
        if spanned:
            # "what happened yesterday?" asks about yesterday's articles: their publication date (in a
            # corpus without dates, such words are only words: "the contract ratified last week"); when
            # none of them answers, the read step reads the articles of any date (read_outside_span)
            filters = replace(filters or Filters(), date_from=frame.start.isoformat(),  # type: ignore[union-attr]
                              date_to=frame.end.isoformat())  # type: ignore[union-attr]
        lang = detect_language(question) or "en"
        return Turnstate(
            question=question,
            history=parse_history(inputs.get("history")),
            filters=filters,
            lang=lang,
            frame=frame,
            spanned=spanned,
            instructions=str(inputs.get("instructions") or "").strip(),
            news=news_request(question, lang, frame),
            timeline=timeline_request(question, lang),
        )

    def rewrite(self, state: Turnstate) -> Turnstate:
        """The search query: the model's standalone question joined to the heuristic's, or the
        heuristic's alone (no model, no history, or the model failed)."""
        state.topic = topic_turns(state.question, state.history, state.lang)
        heuristic = heuristic_query(state.question, state.topic, self.answers.max_history_turns)
        if self.rewriter is not None and state.history:
            try:
                state.standalone = self.rewriter.rewrite(state.question, state.history)
            except ModelError as exc:  # logged by the rewriter; the answer step shows the notice
                state.model_failure = exc
        # the rewrite first, then the heuristic's words: on coqa the rewrite alone lost recall (a
        # small model drops names), joined it loses nothing; "" when the model only repeated it
        state.search_query = f"{state.standalone}\n{heuristic}" if state.standalone else heuristic
        return state

    def retrieve(self, state: Turnstate) -> Turnstate:
        """The passages: searched with the history, or alone when the question is a new topic."""
        found = self.search(state, state.search_query)
        if state.topic and found and state.search_query != state.question:
            alone = self.search(state, state.question)
            if alone and topic_changed(self.retriever, state.question, alone[0], found[0], self.profile):
                state.search_query, found = state.question, alone
        state.retrieved_doc_ids = [p.doc_id for p in found]
        state.passages = found[: self.retrieval.top_k]
        return state

    def search(self, state: Turnstate, query: str) -> list[Passage]:
        """One search; copies of a story fold into its newest. Passages all the way: the LangChain
        form of the retriever (``hybrid.NewsRetriever``) is for chains of one's own."""
        k = max(self.retrieval.top_k, RETRIEVED_FOR_EVALUATION)
        found = collapse_copies(self.retriever.search(query, state.filters, k))
        if state.frame is not None and state.frame.latest:
            return newest_first(found)
        if state.frame is not None and state.frame.prefer:
            return in_frame_first(found, state.frame)
        return found

    def read(self, state: Turnstate) -> Turnstate:
        """The evidence, the decision and the quote: once per turn, for whichever path answers. A
        question about what is new is answered by the newest articles instead (answering/news.py)."""
        if state.timeline is not None:
            state.news_answer = timeline(state.timeline, state.question, self.retriever, self.retrieval.top_k,
                                         state.filters, margin=self.profile.topics.news_margin)
        elif state.news is not None:
            state.news_answer = latest_news(state.news, state.question, self.retriever, self.retrieval.top_k,
                                            state.filters, margin=self.profile.topics.news_margin)
        if state.news_answer is not None:
            return state
        vocabulary = self.retriever.vocabulary()
        answerer = ExtractiveAnswerer(self.answers, vocabulary, vocabulary.chunks, self.profile,
                                      self.retriever.index.embedder.embed_query)
        context = history_context(state.topic, self.answers.max_history_turns)
        state.reading = answerer.read(state.question, state.passages, state.lang, context=context)
        if state.spanned and state.reading.answer.abstained:
            self.read_outside_span(state, answerer, context)
        return state

    def read_outside_span(self, state: Turnstate, answerer: ExtractiveAnswerer, context: str) -> None:
        """No article of the span the question named answers it ("which anniversary is marked this
        year?" asked after the year the articles speak of): the articles of any date are read, and
        when they answer, the answer says first that it is from outside the span."""
        assert state.frame is not None and state.filters is not None  # spanned: a span became the filter
        unbounded = replace(state, filters=replace(state.filters, date_from=None, date_to=None))
        found = self.search(unbounded, state.search_query)
        passages = found[: self.retrieval.top_k]
        reading = answerer.read(state.question, passages, state.lang, context=context)
        if reading.answer.abstained:
            return  # the refusal stays the span's: nothing of any date answers either
        state.retrieved_doc_ids = [p.doc_id for p in found]
        state.passages, state.reading = passages, reading
        state.outside = outside_period(state.frame, state.lang)

    def respond(self, states: Iterator[Turnstate]) -> Iterator[AddableDict]:
        """The answer's events: the model's verified stream, or the extractive answer at once."""
        for state in states:
            if state.news_answer is not None or self.model_answerer is None:
                assert state.news_answer is not None or state.reading is not None  # the read step ran
                answer = replace(state.news_answer or state.reading.answer)  # type: ignore[union-attr]
                # word by word, as a model's answer streams: readers and clients see one behaviour
                words = [AddableDict(token=word) for word in WORDS.findall(answer.text)]
                events: Iterator[AddableDict] = iter([*words, AddableDict(answer=answer)])
            else:
                assert state.reading is not None  # the read step ran
                events = self.model_answerer.stream(state.question, state.passages, state.lang, state.reading,
                                                    state.history, state.standalone, state.model_failure,
                                                    instructions=state.instructions)
            if state.outside:
                events = preceded(events, state.outside)
            for event in events:
                if "answer" in event:
                    event["answer"].search_query = state.search_query
                    event["answer"].retrieved_doc_ids = state.retrieved_doc_ids if state.news_answer is None \
                        else list(dict.fromkeys([*state.news_answer.cited_doc_ids, *state.retrieved_doc_ids]))
                    event["answer"].lang = state.lang
                yield event


def preceded(events: Iterator[AddableDict], line: str) -> Iterator[AddableDict]:
    """The answer's events with ``line`` said first: streamed before its first word, and first in its
    text, unless the model ended by refusing (its final answer, which readers are shown, goes without)."""
    said = False
    for event in events:
        if "token" in event and not said:
            said = True
            yield AddableDict(token=f"{line}\n")
        if "answer" in event and not event["answer"].abstained:
            event["answer"].text = f"{line}\n{event['answer'].text}"
        yield event


def topic_changed(retriever: HybridRetriever, question: str, alone: Passage, joined: Passage,
                  profile: EmbedderProfile) -> bool:
    """Is a question with history a new topic rather than a follow-up?

    The history is joined to the search so that "and when was it signed?" finds its article; but
    "Who co-chaired the consultation?" after a question about something else must not be pulled
    back to the old topic. When the question by itself is clearly closer to its own best passage
    than to the best passage found with the history, it stands on its own: its cosine is at least the
    profile's ``topics.shift_similarity`` (generic follow-ups such as "when was it signed?" reach
    ~0.80 in e5) and higher by more than ``topics.shift_margin``.
    """
    if alone.doc_id == joined.doc_id:
        return False
    vector = retriever.index.embedder.embed_query(question)
    similarity = retriever.similarities(vector, [alone.chunk_id, joined.chunk_id])
    own = similarity[alone.chunk_id]
    topics = profile.topics
    return own >= topics.shift_similarity and own - similarity[joined.chunk_id] > topics.shift_margin


def chain_input(question: str, history: Sequence[Any] | None = None,
                filters: Filters | None = None, instructions: str = "",
                today: date | None = None) -> dict[str, Any]:
    """The chain's input; ``instructions`` (a system message of /v1) go to the model; ``today``
    (default: the real date) anchors "yesterday" or "this week"."""
    return {"question": question, "history": list(history or []), "filters": filters,
            "instructions": instructions, "today": today}


def ask(chain: Runnable, question: str, history: Sequence[Any] | None = None,
        filters: Filters | None = None, instructions: str = "", today: date | None = None) -> Answer:
    """Run one turn and return the final Answer."""
    result = chain.invoke(chain_input(question, history, filters, instructions, today))
    answer: Answer = result["answer"]
    return answer


def stream(chain: Runnable, question: str, history: Sequence[Any] | None = None,
           filters: Filters | None = None, instructions: str = "",
           today: date | None = None) -> Iterator[dict[str, Any]]:
    """Events of one turn: {"token": text} as the answer is produced, then {"answer": Answer}; with a
    model first {"evidence": QuotedEvidence}, the sources and the articles quoted (not the answer).

    ``instructions``: the reader's own, for the model (the extractive path cannot follow them).
    """
    for event in chain.stream(chain_input(question, history, filters, instructions, today)):
        yield dict(event)
