"""Citation checking: every [n] a model writes is verified against source n before anyone sees it.

    verifier = CitationVerifier(passages, embedder, frequency, split, profile.citations)
    checker = CitationStream(verifier, split)           # fed the model's text as it streams
    shown = checker.feed("Murashkin directs the centre [1")  # → "Murashkin directs the centre"
    shown += checker.feed("]. He ...") + checker.close()   # → " [1]. He ..."
    sources = checker.sources()                         # exactly the cited passages, renumbered

A marker that names no source of this turn is dropped. A cited sentence keeps a citation only
when the passage supports it: enough of its content words (weighted by rarity) occur in the
passage, or its embedding is close to one of the passage's sentences, and every number it states
occurs in the passage. A sentence whose citations all fail may be credited to another source that
clearly supports it (the cosines that count as support are the embedder's: ``EmbedderProfile.citations``).
Citations are renumbered in order of appearance; the sources are exactly the
cited passages, each with the sentences that support the claims citing it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from assistant.documents import Passage, Source, make_source
from assistant.index.profile import Citations
from assistant.languages import stem
from assistant.text import idf, tokenize

# A citation group: [1], [1, 2], [1][2] (two groups), [Source 1].
MARKER = re.compile(r"\[\s*(?:source\s*)?(\d{1,3}(?:\s*[,;]\s*(?:source\s*)?\d{1,3})*)\s*\]", re.IGNORECASE)
MARKER_WITH_SPACE = re.compile(r"[ \t]*" + MARKER.pattern, re.IGNORECASE)
# The end of a sentence inside held text: final punctuation (then any markers), then white space
# and the start of the next sentence; or a line break.
SENTENCE_END = re.compile(
    r"[.!?。！？…](?:[\"'”’)\]]*)(?:[ \t]*" + MARKER.pattern + r")*(?=\s+[^\s\[])|\n", re.IGNORECASE
)
MARKER_RUN = re.compile(r"(?:\s*" + MARKER.pattern + r")+", re.IGNORECASE)
FINAL = (".", "!", "?", "。", "！", "？", "…")
# A sentence that ended without a citation: final punctuation, white space, then the start of the
# next sentence (not a '[' and not a lower-case letter: "U.S. officials" goes on).
UNCITED_END = re.compile(r"([.!?。！？…][\"'”’)]*)(?=\s+[^\s\[a-z])")
PENDING_END = re.compile(r"[.!?。！？…][\"'”’)]*\s*$|\s+$")
MIN_CLAIM_WORDS = 4
# Words after which a marker stands where a noun should be: "the countries are [1], [2], and".
NOUN_SLOT = frozenset({"a", "an", "the", "is", "are", "was", "were", "his", "her", "its", "their",
                       "include", "includes", "including"})
NUMBER = re.compile(r"\d+(?:[.,]\d+)*")

# Support thresholds: the dense ones (cosines, "passage: " side on both texts) are the embedder's
# (Citations: dense_strong, a paraphrase or translation; dense_weak, close in meaning, with some shared
# content words; dense_cross, a translation on meaning alone); these are shares of words.
LEXICAL_STRONG = 0.6  # share of the claim's content (idf-weighted) found in the passage
LEXICAL_WEAK = 0.3
LEXICAL_ATTRIBUTE = 0.7  # an uncited sentence is credited to a source on words alone above this
REATTRIBUTE_MARGIN = 0.02  # crediting another source needs a clearly stronger match


@dataclass(frozen=True)
class Support:
    """How well one passage supports one claim."""

    lexical: float
    dense: float
    numbers_ok: bool  # its numbers (and, same language, its names) occur in the passage
    sentence: str  # the passage sentence closest to the claim
    cross_language: bool = False  # the claim and the passage are in different languages
    limits: Citations = field(kw_only=True, repr=False, compare=False)  # the embedder's cosines

    @property
    def supported(self) -> bool:
        if not self.numbers_ok:
            return False
        return (self.lexical >= LEXICAL_STRONG or self.dense >= self.limits.dense_strong
                or (self.dense >= self.limits.dense_weak and self.lexical >= LEXICAL_WEAK)
                or (self.cross_language and self.dense >= self.limits.dense_cross))

    @property
    def strength(self) -> float:
        return self.dense + 0.1 * self.lexical


def numbers_of(groups: Sequence[re.Match[str]]) -> set[int]:
    return {int(n) for group in groups for n in re.findall(r"\d+", group.group(1))}


def names_in(claim: str, lang: str) -> set[str]:
    """Stems (in language ``lang``) of the capitalised words after a claim's first word (people,
    places, organisations)."""
    words = re.findall(r"\w+", claim)[1:]
    return {stem(w.lower(), lang) for w in words if len(w) > 2 and w[0].isupper() and not w.isupper()}


def used_as_word(before: str, after: str) -> bool:
    """Does a marker stand in for the content ("Theo Kearney is [1].")? The word before it asks for
    a noun, and punctuation, another marker or the end follows it. Such a sentence says nothing a
    passage could support, however many of its other words the passage has."""
    words = re.findall(r"[^\W\d_]+", MARKER.sub(" ", before))
    ends = re.match(r"\s*(?:$|[,.;:!?\[])", after) is not None
    return bool(words) and words[-1].lower() in NOUN_SLOT and ends


def numbers_in(text: str) -> set[str]:
    return {n.replace(",", "").rstrip(".") for n in NUMBER.findall(text)}


class CitationVerifier:
    """Checks claims against the numbered passages of one turn (numbers are 1-based).

    Word overlap decides most claims; embeddings (of the claim and of the cited passage's
    sentences, computed once per turn and only when needed) decide the rest.
    """

    def __init__(self, passages: Sequence[Passage], embedder: Any, frequency: Mapping[str, int],
                 split: Callable[[str, str], list[str]], limits: Citations, lang: str = "") -> None:
        self.passages = list(passages)
        self.limits = limits  # the embedder's support cosines (its profile's)
        self.lang = lang  # the language the claims are written in
        self.embedder = embedder
        self.frequency = frequency
        self.total = max(len(frequency), 1)
        self.split = split
        self._sentences: dict[int, list[str]] = {}
        self._vectors: dict[int, np.ndarray] = {}
        self._claims: dict[str, np.ndarray] = {}

    def idf(self, term: str) -> float:
        # the vocabulary size as the total, and looked up by stem: long words weigh the most; the
        # support thresholds below were tuned with that
        return idf(self.frequency.get(term, 0), self.total)

    def valid(self, number: int) -> bool:
        return 1 <= number <= len(self.passages)

    def sentences(self, number: int) -> list[str]:
        if number not in self._sentences:
            passage = self.passages[number - 1]
            lang = str(passage.metadata.get("lang") or "en")
            self._sentences[number] = self.split(passage.text, lang) or [passage.text]
        return self._sentences[number]

    def similarities(self, claim: str, number: int) -> np.ndarray:
        """Cosine of the claim with each sentence of passage ``number``."""
        if number not in self._vectors:
            self._vectors[number] = np.asarray(self.embedder.embed_documents(self.sentences(number)),
                                               dtype=np.float32)
        if claim not in self._claims:
            self._claims[claim] = np.asarray(self.embedder.embed_documents([claim])[0], dtype=np.float32)
        return self._vectors[number] @ self._claims[claim]  # type: ignore[no-any-return]

    def support(self, claim: str, number: int, dense: bool = False) -> Support:
        """How well passage ``number`` supports ``claim`` (a sentence without its markers).

        ``dense``: compute the embedding similarity even when the words already decide.
        """
        passage = self.passages[number - 1]
        sentences = self.sentences(number)
        lang = str(passage.metadata.get("lang") or self.lang)  # both sides in the passage's stems
        weights = {t: self.idf(t) for t in {stem(t, lang) for t in tokenize(claim) if len(t) > 1}}
        total = sum(weights.values())

        def overlap(text: str) -> float:
            terms = {stem(t, lang) for t in tokenize(text)}
            return sum(w for t, w in weights.items() if t in terms) / total if total else 0.0

        # the words must come from one place in the passage (a sentence and its neighbour), not be
        # gathered across it: "the centre is directed by Bezdetko" mixes two sentences' names
        windows = [f"{passage.title} " + " ".join(sentences[i:i + 2])
                   for i in range(max(len(sentences) - 1, 1))]
        lexical = max(overlap(window) for window in windows)
        numbers_ok = numbers_in(claim) <= numbers_in(passage.text) | numbers_in(passage.title)
        other_language = bool(self.lang) and str(passage.metadata.get("lang") or self.lang) != self.lang
        if numbers_ok and not other_language:
            # the names a claim puts together must stand together in the passage
            names = names_in(claim, lang)
            numbers_ok = not names or any(names <= {stem(t, lang) for t in tokenize(w)} for w in windows)
        if not numbers_ok or (lexical >= LEXICAL_STRONG and not dense):
            best = max(range(len(sentences)), key=lambda i: overlap(sentences[i]))
            return Support(lexical=lexical, dense=0.0, numbers_ok=numbers_ok, sentence=sentences[best],
                           limits=self.limits)
        similarities = self.similarities(claim, number)
        best = int(np.argmax(similarities))
        return Support(lexical=lexical, dense=float(similarities[best]), numbers_ok=numbers_ok,
                       sentence=sentences[best], cross_language=other_language, limits=self.limits)

    def attribute(self, claim: str) -> tuple[int, Support] | None:
        """The source that clearly supports an uncited claim: shared words first, embeddings for
        the two closest candidates only."""
        lexical = sorted(((self.support(claim, n), n) for n in range(1, len(self.passages) + 1)),
                         key=lambda item: -item[0].lexical)
        for support, number in lexical:
            if support.numbers_ok and support.lexical >= LEXICAL_ATTRIBUTE:
                return number, support
        for _, number in lexical[:2]:
            support = self.support(claim, number, dense=True)
            if support.numbers_ok and support.dense >= self.limits.dense_strong \
                    and support.lexical >= LEXICAL_WEAK:
                return number, support
        return None

    def best_other(self, claim: str, exclude: set[int], floor: float) -> tuple[int, Support] | None:
        """The passage (not in ``exclude``) that clearly supports ``claim``, if there is one."""
        best: tuple[int, Support] | None = None
        for number in range(1, len(self.passages) + 1):
            if number in exclude:
                continue
            found = self.support(claim, number, dense=True)
            clear = found.supported and found.dense >= self.limits.dense_strong
            if clear and found.strength > floor + REATTRIBUTE_MARGIN \
                    and (best is None or found.strength > best[1].strength):
                best = (number, found)
        return best


@dataclass
class CitationStream:
    """Rewrites the model's text as it streams: text passes at once, markers once verified.

    Text before a '[' is shown immediately. From a '[' on, the rest of that sentence is held until
    the sentence ends; then its markers are verified against the whole sentence and replaced by
    the verified, renumbered markers (or removed), and the sentence's tail is released.
    """

    verifier: CitationVerifier
    lang: str = "en"
    reattribute: bool = True
    shown: str = ""  # everything released so far
    attribute_uncited: bool = True
    buffer: str = ""  # text received but not yet released
    holding: bool = False  # the buffer starts with a citation (or the space before it)
    sentence_start: int = 0  # where, in ``shown``, the current sentence started
    numbering: dict[int, int] = field(default_factory=dict)  # passage number → shown number
    supporting: dict[int, list[str]] = field(default_factory=dict)  # passage number → sentences
    removed: list[tuple[str, int, str]] = field(default_factory=list)  # (claim, number, why)
    claims: int = 0  # sentences that came with citations
    attributed: int = 0  # sentences without citations credited to the source that supports them

    def feed(self, text: str) -> str:
        """Released text for a new piece of the model's output."""
        self.buffer += text
        return self._advance(final=False)

    def close(self, complete: bool = True) -> str:
        """The rest, settled, at the end of the stream (``complete``: not cut off mid-sentence)."""
        return self._advance(final=True, complete=complete)

    def _advance(self, final: bool, complete: bool = True) -> str:
        start = len(self.shown)
        while self.buffer:
            if self.holding:
                end = self._held_end()
                if end is None:
                    if not final:
                        break
                    end = len(self.buffer)
                sentence, self.buffer = self.buffer[:end], self.buffer[end:]
                self.holding = False
                self._release(self._settle(sentence))
                self.sentence_start = len(self.shown)
                continue
            boundary = self._uncited_end()
            bracket = self.buffer.find("[")
            if bracket >= 0 and (boundary is None or bracket < boundary.start()):
                # from a '[' on, hold the sentence (with the white space before the '[')
                body = self.buffer[:bracket].rstrip(" \t")
                self._release(body)
                self.buffer = self.buffer[len(body):]
                self.holding = True
                continue
            if boundary is not None:  # a sentence ended without citations
                self._release(self.buffer[:boundary.end(1)])
                self.buffer = self.buffer[boundary.end(1):]
                self._release(self._attribute())
                self.sentence_start = len(self.shown)
                continue
            if final:
                self._release(self.buffer.rstrip())
                self.buffer = ""
                break
            # release all but a possible sentence end still being written (". " may precede "[1]")
            wait = PENDING_END.search(self.buffer)
            cut = wait.start() if wait else len(self.buffer)
            self._release(self.buffer[:cut])
            self.buffer = self.buffer[cut:]
            break
        if final and complete and self.shown[self.sentence_start:].strip():
            self._release(self._attribute())
            self.sentence_start = len(self.shown)
        return self.shown[start:]

    def _held_end(self) -> int | None:
        """Where the held sentence ends, once that is known."""
        if self.shown[self.sentence_start:].rstrip().endswith(FINAL):
            # "... in 2024. [1] Next": the markers cite the sentence already shown
            run = MARKER_RUN.match(self.buffer)
            rest = self.buffer[run.end():] if run else ""
            if run and rest.strip() and not rest.lstrip().startswith("["):
                return run.end()
        for found in SENTENCE_END.finditer(self.buffer):
            punctuated = MARKER.sub("", self.buffer[:found.end()]).rstrip()
            if found.group(0) == "\n" or self._ends_sentence(punctuated, self.buffer[found.end():]):
                return found.end()
        return None

    def _uncited_end(self) -> re.Match[str] | None:
        """The first real sentence end in the (unheld) buffer."""
        for found in UNCITED_END.finditer(self.buffer):
            if self._ends_sentence(self.buffer[:found.end(1)], self.buffer[found.end(1):]):
                return found
        return None

    def _ends_sentence(self, before: str, after: str) -> bool:
        """Does a sentence end between ``before`` (the buffer up to final punctuation) and
        ``after``? Punctuation and a capital are not enough: "Dr. Ohayon", "No. 11", "Gen. Lee".
        The sentence splitter used everywhere else (sentencex, per language) decides."""
        head = self.shown[self.sentence_start:] + before
        following = re.match(r"\s*\S+", after)
        if following is None:
            return True
        return len(self.verifier.split(head + following.group(0), self.lang)) > \
            len(self.verifier.split(head, self.lang))

    def _attribute(self) -> str:
        """Markers for a finished sentence the model did not cite, if one source clearly supports it."""
        claim = re.sub(r"\s+", " ", self.shown[self.sentence_start:]).strip()
        if not self.attribute_uncited or len(tokenize(claim)) < MIN_CLAIM_WORDS:
            return ""
        found = self.verifier.attribute(claim)
        if found is None:
            return ""
        number, support = found
        shown = self.numbering.setdefault(number, len(self.numbering) + 1)
        self.supporting.setdefault(number, []).append(support.sentence)
        self.attributed += 1
        return f" [{shown}]"

    @property
    def cited(self) -> bool:
        return bool(self.numbering)

    def sources(self) -> list[Source]:
        """Exactly the cited passages, in the order of their new numbers."""
        result = []
        for original, number in sorted(self.numbering.items(), key=lambda item: item[1]):
            source = make_source(number, self.verifier.passages[original - 1])
            source.supporting = list(dict.fromkeys(self.supporting.get(original, [])))
            result.append(source)
        return result

    def _release(self, text: str) -> str:
        self.shown += text
        return text

    def _settle(self, tail: str) -> str:
        """``tail`` (from the first marker to the sentence end) with verified markers only."""
        head = self.shown[self.sentence_start:]
        pieces = self.verifier.split(head, self.lang) if head.strip() else []
        # a head that ends a sentence ("... 2024. [1]") cites that sentence; otherwise the
        # marker belongs to the sentence still being written
        claim_head = pieces[-1] if pieces else ""
        claim = re.sub(r"\s+", " ", f"{claim_head} {MARKER.sub(' ', tail)}").strip()
        claim = re.sub(r"\s+([.,;:!?])", r"\1", claim)
        groups = list(MARKER.finditer(tail))
        if not groups:
            return tail
        self.claims += 1
        if any(used_as_word(head + tail[:g.start()], tail[g.end():]) for g in groups):
            self.removed.extend((claim, n, "marker used as a word") for n in sorted(numbers_of(groups)))
            return re.sub(r"([,;])(?:\s*[,;])+", r"\1", MARKER_WITH_SPACE.sub("", tail))  # "[1],[2]," → ","
        verdicts: dict[int, Support | None] = {}
        for group in groups:
            for part in re.findall(r"\d+", group.group(1)):
                number = int(part)
                if number in verdicts:
                    continue
                if not self.verifier.valid(number):
                    verdicts[number] = None
                    self.removed.append((claim, number, "no such source"))
                    continue
                support = self.verifier.support(claim, number)
                verdicts[number] = support if support.supported else None
                if not support.supported:
                    self.removed.append((claim, number, "not supported by the passage"))
        kept = [n for n, s in verdicts.items() if s is not None]
        if not kept and self.reattribute:
            floor = max((self.verifier.support(claim, n, dense=True).strength for n in verdicts
                         if self.verifier.valid(n)), default=0.0)
            other = self.verifier.best_other(claim, set(verdicts), floor)
            if other is not None:
                verdicts[other[0]] = other[1]
                kept = [other[0]]
        reattributed = [n for n in kept if n not in numbers_of(groups)]
        last = len(groups) - 1
        place = iter(range(len(groups)))
        done: set[int] = set()
        opening = MARKER_WITH_SPACE.search(tail)
        first_space = re.match(r"\s*", opening.group(0)).group(0) if opening else ""  # type: ignore[union-attr]

        def replace(match: re.Match[str]) -> str:
            index = next(place)
            numbers = [n for n in map(int, re.findall(r"\d+", match.group(1))) if n in kept]
            if index == last:
                numbers += reattributed
            markers = []
            for number in numbers:
                if number in done:
                    continue
                done.add(number)
                support = verdicts[number]
                assert support is not None
                shown = self.numbering.setdefault(number, len(self.numbering) + 1)
                self.supporting.setdefault(number, []).append(support.sentence)
                markers.append(f"[{shown}]")
            if not markers:
                return ""
            lead = "" if done - set(numbers) else first_space  # one space before a sentence's markers
            return lead + "".join(markers)

        return MARKER_WITH_SPACE.sub(replace, tail)
