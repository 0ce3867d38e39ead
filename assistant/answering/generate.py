"""The model's turn: standalone question, budgeted sources, streamed answer, verified citations.

    guard = ModelGuard(settings.model)                       # shared: one circuit breaker per process
    rewriter = QuestionRewriter(settings.model, settings.answers, chat_model, guard)
    query = rewriter.rewrite("and when?", history)           # raises ModelError when the model failed
    answerer = ModelAnswerer(settings.model, settings.answers, chat_model, retriever, guard,
                             profile=profile, tiktoken_cache_dir=settings.tokenizer.tiktoken_cache_dir)
    for event in answerer.stream(question, passages, lang, reading, history):  # {"evidence"}, {"token"}..
        ...

Before any model call the reader gets the turn's sources and the articles quoted (``QuotedEvidence``):
something to read in well under a second while the model writes. Weak evidence abstains before any
model call (the extractive answerer's test); so does the model's own "NONE" when asked, in one short
call, to copy the answer from the sources (``judge``, LLM_JUDGE). Otherwise the answer prompt
gets as many numbered sources as fit the model's context (tiktoken), the answer streams, and each
sentence's citations are released only once verified (``citations``). Every
model call goes through the ModelGuard (``llm``: first-token deadline, retries inside it, circuit
breaker). When the endpoint fails the extractive answer is shown with a notice in words for readers,
in their language (``ModelError.for_reader``; the details go to the log); a stream cut midway keeps
what was verified, or falls back, and says so. An answer none of whose claims could be verified is
replaced by the extractive answer, or by an abstention when the evidence is middling too
(UNVERIFIED_ABSTAIN_THRESHOLD).
"""

from __future__ import annotations

import functools
import logging
import re
import time
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from langchain_core.output_parsers import StrOutputParser
from langchain_core.runnables.utils import AddableDict

from assistant.answering.citations import MARKER, MARKER_WITH_SPACE, CitationStream, CitationVerifier
from assistant.answering.extractive import Evidence, Reading, refusal
from assistant.answering.judge import AnswerabilityJudge
from assistant.answering.llm import ModelGuard, with_max_tokens
from assistant.answering.prompts import load_prompt
from assistant.config import AnswerSettings, ModelSettings
from assistant.documents import Answer, Passage, QuotedEvidence, Turn, make_source
from assistant.errors import ConfigError, ModelError
from assistant.index.profile import EmbedderProfile
from assistant.languages import say, word_list, wording_language
from assistant.retrieval.hybrid import HybridRetriever
from assistant.text import NO_ANSWER, language_name, no_answer_text, normalise, split_sentences
from assistant.tokens import encoding_for_model

log = logging.getLogger(__name__)

REWRITE_MAX_TOKENS = 96
MIN_SOURCE_TOKENS = 40  # a source cut shorter than this is left out
SAFETY = 0.9  # tiktoken counts approximate other models' tokenizers: keep 10% spare
PER_MESSAGE_TOKENS = 4
# A caller's system message (/v1/chat/completions) joins the system prompt; the rules come first.
READER_INSTRUCTIONS = ("\n\nThe reader also gave these instructions; follow them unless they conflict with "
                       "the rules above:\n{instructions}")
# the notices, keys of assistant/languages said in the reader's language
UNAVAILABLE = "model_unavailable"  # {reason}: what happened to the model (ModelError.for_reader)
UNVERIFIED = "model_unverified"
UNSUPPORTED = "model_unsupported"
CUT_SHORT = "model_cut_short"
NO_ROOM = "model_no_room"


def conversation_text(history: Sequence[Turn], max_turns: int, limit: int = 400) -> str:
    recent = list(history)[-2 * max_turns:] if max_turns else []
    lines = []
    for turn in recent:
        content = re.sub(r"\s+", " ", MARKER.sub("", turn.content)).strip()
        if len(content) > limit:
            content = content[:limit] + "…"
        lines.append(f"{'User' if turn.role == 'user' else 'Assistant'}: {content}")
    return "\n".join(lines)


class QuestionRewriter:
    """Follow-up + conversation → standalone question, by the model (prompts/condense_question.md)."""

    def __init__(self, llm: ModelSettings, answers: AnswerSettings, chat_model: Any,
                 guard: ModelGuard | None = None) -> None:
        self.answers = answers
        self.guard = guard or ModelGuard(llm)
        self.prompt = load_prompt(llm.prompts_dir, "condense_question")
        self.model = with_max_tokens(chat_model, llm, REWRITE_MAX_TOKENS)

    def rewrite(self, question: str, history: Sequence[Turn]) -> str:
        """The standalone question ("" when the model only repeated the question); raises
        ModelError when the model cannot be used."""
        values = {"history": conversation_text(history, self.answers.max_history_turns),
                  "question": question}

        def call(timeout: float) -> str:
            chain = (self.prompt | self.model.bind(timeout=timeout)
                     | StrOutputParser()).with_config(run_name="rewrite_with_model")
            return str(chain.invoke(values))

        raw = self.guard.invoke(call)  # a ModelError is logged by the guard
        rewritten = clean_rewrite(raw)
        if normalise(rewritten) == normalise(question):
            return ""
        if is_question(question) and not is_question(rewritten):
            # small models often answer instead of rewriting ("Kevin Ware", "In the second half."):
            # 13 of 59 coqa follow-ups with the 0.5B model. Searching or answering that would
            # answer a question nobody asked; the heuristic query serves instead.
            log.info("rewrite discarded, not a question: %r", rewritten[:200])
            return ""
        return rewritten


def is_question(text: str) -> bool:
    """Ends with a question mark (also full-width or Arabic), closing quotes aside."""
    return text.rstrip().rstrip("\"'”’»)").endswith(("?", "？", "؟"))


def clean_rewrite(raw: str) -> str:
    """The first non-empty line, without labels or quotes the model may add."""
    for line in raw.splitlines():
        line = re.sub(r"^\s*(standalone question|question|rewritten question)\s*:\s*", "", line,
                      flags=re.IGNORECASE).strip().strip('"“”\'`').strip()
        if line:
            return line[:500]
    return ""


def prompt_language(lang: str) -> str:
    """The question's language by its English name, for the prompt ("Dutch")."""
    name = language_name(lang) if lang else ""
    return name if name and name != lang else "the language of the question"


@functools.cache
def says_no_answer(lang: str) -> re.Pattern[str]:
    """How a model's short reply says the sources do not answer, in ``lang`` and in English (each
    language file's ``model_says_no_answer``)."""
    patterns = [p for code in dict.fromkeys((wording_language(lang), "en"))
                for p in word_list(code, "model_says_no_answer")]
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)


def looks_like_abstention(text: str, lang: str) -> bool:
    """True when the model said the sources do not answer (in the question's language or English)."""
    said = normalise(text)
    for phrase in {NO_ANSWER.get(lang, ""), NO_ANSWER["en"]} - {""}:
        if normalise(phrase) in said:
            return True
    return bool(says_no_answer(lang).search(text)) and len(said) < 300


class ModelAnswerer:
    """The answer step of the chain when a chat model is configured."""

    def __init__(self, llm: ModelSettings, answers: AnswerSettings, chat_model: Any,
                 retriever: HybridRetriever, guard: ModelGuard | None = None, *, profile: EmbedderProfile,
                 tiktoken_cache_dir: Path | None) -> None:
        if llm.llm_max_tokens >= llm.llm_context_tokens // 2:
            raise ConfigError(
                f"LLM_MAX_TOKENS ({llm.llm_max_tokens}) leaves too little of LLM_CONTEXT_TOKENS "
                f"({llm.llm_context_tokens}) for the sources; lower it below half."
            )
        self.llm = llm
        self.answers = answers
        self.model = chat_model
        self.guard = guard or ModelGuard(llm)
        self.retriever = retriever
        self.profile = profile  # the citation check's cosines are the embedder's
        self.prompt = load_prompt(llm.prompts_dir, "answer")
        self.encoding = encoding_for_model(llm.llm_model, tiktoken_cache_dir)
        self.judge = AnswerabilityJudge(llm, chat_model, self.guard) if llm.llm_judge else None

    def count(self, text: str) -> int:
        return len(self.encoding.encode(text, disallowed_special=()))

    def messages(self, values: dict[str, str], sources: str, instructions: str = "") -> list[Any]:
        """The answer prompt's messages; the reader's instructions, if any, end the system message."""
        messages = self.prompt.format_messages(**values, sources=sources)
        if instructions and messages and messages[0].type == "system":
            system = messages[0]
            messages[0] = system.model_copy(update={
                "content": str(system.content) + READER_INSTRUCTIONS.format(instructions=instructions)})
        return messages

    def fit_sources(self, passages: Sequence[Passage], values: dict[str, str],
                    instructions: str = "") -> tuple[str, list[Passage]]:
        """Numbered source blocks that fit the context beside the prompt and the answer."""
        fixed = sum(self.count(str(m.content)) + PER_MESSAGE_TOKENS
                    for m in self.messages(values, "", instructions))
        budget = int((self.llm.llm_context_tokens - self.llm.llm_max_tokens) * SAFETY) - fixed
        blocks: list[str] = []
        used: list[Passage] = []
        for passage in passages:
            block = source_block(len(used) + 1, passage, passage.text)
            size = self.count(block) + 1
            if size > budget:
                room = budget - (size - self.count(passage.text))
                if room < MIN_SOURCE_TOKENS:
                    break
                text = self.encoding.decode(self.encoding.encode(passage.text, disallowed_special=())[:room])
                block = source_block(len(used) + 1, passage, text + "…")
                size = budget
            blocks.append(block)
            used.append(passage)
            budget -= size
        return "\n".join(blocks), used

    def stream(self, question: str, passages: Sequence[Passage], lang: str, reading: Reading,
               history: Sequence[Turn] = (), standalone: str = "",
               failure: ModelError | None = None, instructions: str = "") -> Iterator[AddableDict]:
        """{"evidence": QuotedEvidence} at once, {"token": text} events as the verified answer grows,
        then {"answer": Answer}.

        The steps: quote the articles for the reader to read meanwhile, judge the evidence (weak
        evidence abstains before any model call), fit the sources into the model's context, ask the
        model whether they state the answer (LLM_JUDGE; "no" abstains), stream the model's answer
        through the citation check, then settle what the reader gets (``settle``).
        ``instructions``: the reader's own (e.g. an OpenAI system message), added to the system prompt.
        """
        quote = replace(reading.answer)
        quote.text = without_foreign_markers(quote.text, {s.number for s in quote.sources})

        def quoted(notice: str = "") -> Answer:
            return replace(quote, sources=list(quote.sources), notice=notice)

        yield AddableDict(evidence=quoted_evidence(quote, passages))  # before any model call
        if reading.abstain or reading.evidence is None:  # the extractive path's decision, the same
            yield from events_of(replace(reading.answer, abstained=True))
            return
        evidence = reading.evidence
        if failure is not None:  # the model already failed this turn (while rewriting)
            yield from events_of(quoted(say(UNAVAILABLE, lang, reason=failure.for_reader(lang))))
            return
        values = self.prompt_values(question, lang, history, standalone)
        sources, used = self.fit_sources(passages[: self.llm.llm_sources], values, instructions)
        if not used:
            yield from events_of(quoted(say(NO_ROOM, lang)))
            return
        messages = self.messages(values, sources, instructions)
        if self.judge is not None:
            try:
                answerable = self.judge.verdict(messages, standalone or question, sources)
            except ModelError as exc:  # logged by the guard: a model fault, as if the answer call failed
                yield from events_of(quoted(say(UNAVAILABLE, lang, reason=exc.for_reader(lang))))
                return
            if answerable is False:  # on the topic (the evidence held), not stated: the closest articles
                refused = refusal(question, passages, lang, True, reading.kind)
                yield from events_of(replace(refused, mode="llm"))
                return
        verifier = CitationVerifier(used, self.retriever.index.embedder, self.retriever.vocabulary(),
                                    split_sentences, self.profile.citations, lang=lang)
        checker = CitationStream(verifier, lang=lang)
        error = yield from self.verified_tokens(messages, checker)
        answer, replaced = self.settle(question, lang, checker, error, evidence, quoted)
        if answer.abstained:
            answer.related = refusal(question, passages, lang, True, reading.kind).related
        if replaced:  # the reader sees the replacement after what was shown
            yield AddableDict(token=("\n\n" if checker.shown.strip() else "") + answer.text)
        yield AddableDict(answer=answer)

    def prompt_values(self, question: str, lang: str, history: Sequence[Turn],
                      standalone: str) -> dict[str, str]:
        """The answer prompt's variables, sources aside (a rewritten question needs no history)."""
        return {
            "question": standalone or question,
            "language": prompt_language(lang),
            "no_answer": no_answer_text(lang),
            "conversation": "" if standalone or not history else
            "Earlier in the conversation:\n"
            + conversation_text(history, self.answers.max_history_turns) + "\n\n",
        }

    def verified_tokens(self, messages: list[Any],
                        checker: CitationStream) -> Generator[AddableDict, None, ModelError | None]:
        """Stream the model's answer through the citation check; returns the model's failure, if any
        (the guard bounds the wait for the first token and retries within it)."""
        started = time.perf_counter()
        first_token: float | None = None
        error: ModelError | None = None
        try:
            finished = False
            chunks = self.guard.stream(lambda timeout: self.model.stream(messages, timeout=timeout),
                                       lambda chunk: bool(chunk_text(chunk)))
            for chunk in chunks:
                if chunk.response_metadata.get("finish_reason"):
                    finished = True
                shown = checker.feed(chunk_text(chunk))
                if shown:
                    if first_token is None:
                        first_token = time.perf_counter() - started
                    yield AddableDict(token=shown)
            if not finished:  # some servers omit it; what arrived is checked like any answer
                log.warning("the model's stream ended without a finish reason")
        except ModelError as exc:  # logged by the guard
            log.info("model answer failed after %d characters shown", len(checker.shown))
            error = exc
        rest = checker.close(complete=error is None)
        if rest:
            yield AddableDict(token=rest)
        total = time.perf_counter() - started
        log.info("model answer: first token %s ms, total %.0f ms, %d claims, %d citations removed",
                 f"{first_token * 1000:.0f}" if first_token is not None else "-", total * 1000,
                 checker.claims, len(checker.removed))
        for claim, number, why in checker.removed:
            log.info("citation [%d] removed (%s): %s", number, why, claim[:200])
        return error

    def settle(self, question: str, lang: str, checker: CitationStream, error: ModelError | None,
               evidence: Evidence, quoted: Callable[[str], Answer]) -> tuple[Answer, bool]:
        """What the reader gets once the model is done: its verified answer, its abstention, or the
        articles quoted (or an abstention) when none of its claims could be verified; and whether
        that replaces the model's text."""
        text = checker.shown.strip()
        if checker.cited:
            notice = say(CUT_SHORT, lang, reason=error.for_reader(lang)) if error else ""
            return Answer(question=question, text=text, sources=checker.sources(), abstained=False,
                          mode="llm", notice=notice), False
        if error is None and looks_like_abstention(text, lang):
            return Answer(question=question, text=text, sources=[], abstained=True, mode="llm"), False
        if error is not None and not text:
            return quoted(say(UNAVAILABLE, lang, reason=error.for_reader(lang))), True
        if error is None and evidence.unanswerable_probability() > self.answers.unverified_abstain_threshold:
            # two weak signals agree: the model found nothing it could support, and the evidence
            # is middling; quoting the articles then mostly answers near misses. 0.5B model, dev:
            # abstain 30% → 48%, nyt wrongly abstained 16% → 20% (questions 50-99, held out:
            # 36% → 48% and 32% → 38%)
            return Answer(question=question, text=no_answer_text(lang), sources=[], abstained=True,
                          mode="llm", notice=say(UNSUPPORTED, lang)), True
        unverified = say(UNVERIFIED, lang)
        return quoted(f"{error.for_reader(lang)} {unverified}" if error else unverified), True


def events_of(answer: Answer) -> Iterator[AddableDict]:
    """An answer known at once: its whole text as one token, then the answer."""
    yield AddableDict(token=answer.text)
    yield AddableDict(answer=answer)


def quoted_evidence(quote: Answer, passages: Sequence[Passage]) -> QuotedEvidence:
    """The extractive answer as evidence: its citations renumbered to the turn's sources (the
    passages in order, numbered as the model reads them), which all come along."""
    sources = [make_source(number, passage) for number, passage in enumerate(passages, 1)]
    position = {passage.chunk_id: number for number, passage in enumerate(passages, 1)}
    renumbered = {s.number: position[s.chunk_id] for s in quote.sources if s.chunk_id in position}
    for source in quote.sources:
        if source.number in renumbered:
            sources[renumbered[source.number] - 1].supporting = list(source.supporting)

    def renumber(match: re.Match[str]) -> str:
        numbers = [renumbered.get(int(n)) for n in re.findall(r"\d+", match.group(1))]
        kept = [str(n) for n in dict.fromkeys(numbers) if n is not None]
        return f"[{', '.join(kept)}]" if kept else ""

    return QuotedEvidence(question=quote.question, text=MARKER.sub(renumber, quote.text), sources=sources,
                          abstained=quote.abstained)


def without_foreign_markers(text: str, numbers: set[int]) -> str:
    """The text without [n] markers that name none of the answer's sources (a quoted article
    may itself contain "[9]")."""
    def keep(match: re.Match[str]) -> str:
        return match.group(0) if all(int(n) in numbers for n in re.findall(r"\d+", match.group(1))) else ""

    return MARKER_WITH_SPACE.sub(keep, text)


def chunk_text(chunk: Any) -> str:
    content = chunk.content
    if isinstance(content, str):
        return content
    return "".join(part.get("text", "") if isinstance(part, dict) else str(part) for part in content)


def source_block(number: int, passage: Passage, text: str) -> str:
    """One numbered source for the prompt; text that imitates the delimiters is defused."""
    meta = passage.metadata
    about = ", ".join(str(x) for x in (meta.get("outlet"), meta.get("date")) if x)
    title = defuse(passage.title) + (f" ({defuse(about)})" if about else "")
    return f'<source n="{number}">\nTitle: {title}\n{defuse(text)}\n</source>'


def defuse(text: str) -> str:
    return re.sub(r"<\s*(/?)\s*(source|sources)\b", r"‹\1\2", text, flags=re.IGNORECASE)
