"""Citation checking on the model's streamed text (real e5 embeddings, passages written here)."""

from __future__ import annotations

import re

import pytest

from assistant.answering.citations import CitationStream, CitationVerifier
from assistant.documents import Passage
from assistant.index.embeddings import E5Embeddings
from assistant.index.profile import load_profile
from assistant.text import split_sentences

VISIT = ("The State visit by Russian President Vladimir Putin to Vietnam in June 2024 created important "
         "impetus for cooperation. The Ambassador also mentioned the Joint Statement and 15 documents "
         "signed during the visit.")
CENTRE = "Nikolai Murashkin is the director of the Russian Center for Science and Culture in Hanoi."
BANK = "Vietsovpetro and the Vietnam-Russia Joint Venture Bank remain symbols of economic ties."
E5 = load_profile("multilingual-e5-small")
COMMON = {w: 50 for w in ["the", "of", "in", "and", "is", "a", "to", "for", "was", "were", "during", "by",
                          "also"]}


@pytest.fixture(scope="module")
def verifier() -> CitationVerifier:
    passages = [Passage(f"c{n}", f"doc-{n}", text, {"title": title, "lang": "en"})
                for n, (title, text) in enumerate([("Visit", VISIT), ("Centre", CENTRE), ("Bank", BANK)], 1)]
    return CitationVerifier(passages, E5Embeddings(), COMMON, split_sentences, E5.citations, lang="en")


def check(verifier: CitationVerifier, text: str, step: int = 3) -> CitationStream:
    """Feed ``text`` in pieces of ``step`` characters; the pieces shown must add up to the result."""
    stream = CitationStream(verifier)
    shown = "".join(stream.feed(text[i:i + step]) for i in range(0, len(text), step)) + stream.close()
    assert shown == stream.shown
    return stream


@pytest.mark.parametrize("step", [1, 2, 5, 1000])
def test_output_does_not_depend_on_how_the_text_is_split(verifier: CitationVerifier, step: int) -> None:
    text = "Putin visited Vietnam in June 2024 [1]. Murashkin directs the centre [2]. Nothing else [5]."
    assert check(verifier, text, step).shown == \
        "Putin visited Vietnam in June 2024 [1]. Murashkin directs the centre [2]. Nothing else."


def test_a_marker_naming_no_source_is_removed(verifier: CitationVerifier) -> None:
    stream = check(verifier, "Murashkin directs the Russian Center for Science and Culture [4][0].")
    assert "[4]" not in stream.shown and "[0]" not in stream.shown
    assert [why for _, _, why in stream.removed] == ["no such source", "no such source"]


def test_a_citation_the_passage_does_not_support_is_removed(verifier: CitationVerifier) -> None:
    stream = check(verifier, "Murashkin directs the Russian Center for Science and Culture [2]. "
                             "The centre will host the football World Cup in 2030 [2].")
    assert stream.shown == ("Murashkin directs the Russian Center for Science and Culture [1]. "
                            "The centre will host the football World Cup in 2030.")
    assert [s.doc_id for s in stream.sources()] == ["doc-2"]


def test_a_number_the_passage_does_not_state_loses_the_citation(verifier: CitationVerifier) -> None:
    stream = check(verifier, "The Joint Statement and 40 documents were signed during the visit [1].")
    assert not stream.cited and stream.removed[0][1] == 1


def test_citations_are_renumbered_in_order_of_appearance(verifier: CitationVerifier) -> None:
    stream = check(verifier, "The Joint Venture Bank is a symbol of economic ties [3]. "
                             "Putin visited Vietnam in June 2024 [1]. The bank matters [3].")
    assert re.findall(r"\[(\d)\]", stream.shown) == ["1", "2"]
    assert [s.doc_id for s in stream.sources()] == ["doc-3", "doc-1"]
    assert [s.number for s in stream.sources()] == [1, 2]


def test_each_source_shows_the_sentence_that_supports_the_claim(verifier: CitationVerifier) -> None:
    stream = check(verifier, "Fifteen documents and a joint statement came out of the visit in 2024 [1].")
    (source,) = stream.sources()
    assert source.supporting == ["The Ambassador also mentioned the Joint Statement and 15 documents "
                                 "signed during the visit."] or source.supporting[0] in VISIT


def test_a_translated_claim_is_supported_by_meaning(verifier: CitationVerifier) -> None:
    vietnamese = CitationVerifier(verifier.passages, verifier.embedder, COMMON, split_sentences, E5.citations,
                                  lang="vi")
    stream = CitationStream(vietnamese, lang="vi")
    stream.feed("Nikolai Murashkin là giám đốc Trung tâm Khoa học và Văn hóa Nga tại Hà Nội [2]. ")
    stream.feed("Trung tâm sẽ tổ chức World Cup năm 2030 [2].")
    stream.close()
    assert stream.shown == ("Nikolai Murashkin là giám đốc Trung tâm Khoa học và Văn hóa Nga tại Hà Nội [1]. "
                            "Trung tâm sẽ tổ chức World Cup năm 2030.")


def test_markers_after_the_full_stop_cite_the_sentence_before(verifier: CitationVerifier) -> None:
    stream = check(verifier, "Putin visited Vietnam in June 2024. [1] The weather was nice. [1]")
    assert stream.shown == "Putin visited Vietnam in June 2024. [1] The weather was nice."


def test_a_wrong_number_is_credited_to_the_source_that_clearly_supports_it(
    verifier: CitationVerifier
) -> None:
    stream = check(verifier, "Nikolai Murashkin is the director of the Russian Center for Science "
                             "and Culture [3].")
    assert [s.doc_id for s in stream.sources()] == ["doc-2"]
    assert stream.shown.endswith("Culture [1].")


def test_an_uncited_sentence_is_credited_only_when_a_source_clearly_supports_it(
    verifier: CitationVerifier
) -> None:
    stream = check(verifier, "Nikolai Murashkin is the director of the Russian Center for Science and "
                             "Culture in Hanoi. The weather in Moscow was cold that winter.")
    assert stream.shown == ("Nikolai Murashkin is the director of the Russian Center for Science and "
                            "Culture in Hanoi. [1] The weather in Moscow was cold that winter.")
    assert stream.attributed == 1


def test_names_from_different_sentences_do_not_support_a_claim(verifier: CitationVerifier) -> None:
    mixed = CitationVerifier(
        [Passage("c9", "doc-9",
                 f"{CENTRE} The weather was mild that week. Ambassador Bezdetko praised the ties.",
                 {"title": "Ties", "lang": "en"})],
        verifier.embedder, COMMON, split_sentences, E5.citations, lang="en")
    stream = CitationStream(mixed)
    stream.feed("The Russian Center for Science and Culture is directed by Bezdetko [1]. ")
    stream.feed("Murashkin directs the Russian Center for Science and Culture [1].")
    stream.close()
    assert stream.shown == ("The Russian Center for Science and Culture is directed by Bezdetko. "
                            "Murashkin directs the Russian Center for Science and Culture [1].")


@pytest.mark.parametrize("step", [1, 4, 1000])
def test_abbreviations_do_not_end_a_sentence(verifier: CitationVerifier, step: int) -> None:
    # the 0.5B model's "…with whom Dr. [1] Ohayon studied." came from ending the claim at "Dr."
    text = ("The director of the Russian Center for Science and Culture in Hanoi is Dr. Nikolai "
            "Murashkin [2]. Mr. Putin visited Vietnam in June 2024 [1].")
    stream = check(verifier, text, step)
    assert stream.shown == ("The director of the Russian Center for Science and Culture in Hanoi is Dr. "
                            "Nikolai Murashkin [1]. Mr. Putin visited Vietnam in June 2024 [2].")
    uncited = check(verifier, "The director of the Russian Center for Science and Culture in Hanoi is "
                              "Dr. Nikolai Murashkin. The weather in Moscow was cold that winter.", step)
    assert uncited.shown == ("The director of the Russian Center for Science and Culture in Hanoi is "
                             "Dr. Nikolai Murashkin. [1] The weather in Moscow was cold that winter.")


def test_a_marker_standing_in_for_the_answer_is_no_citation(verifier: CitationVerifier) -> None:
    """The 0.5B model wrote "The countries ... are [1],[2], and.": the passage shares the sentence's
    words, but the sentence names nothing the passage could support."""
    stream = check(verifier, "The Joint Venture Bank and Vietsovpetro are [3],[1], and. "
                             "Vietsovpetro and the Joint Venture Bank remain symbols of economic ties [3].")
    assert stream.shown == ("The Joint Venture Bank and Vietsovpetro are, and. "
                            "Vietsovpetro and the Joint Venture Bank remain symbols of economic ties [1].")
    assert ("marker used as a word" in {why for _, _, why in stream.removed})
    assert [s.doc_id for s in stream.sources()] == ["doc-3"]
    # a marker after a content word, or a reference "according to [n]", still cites
    kept = check(verifier, "According to [2], Murashkin is the director of the Russian Center for "
                           "Science and Culture in Hanoi.")
    assert "[1]" in kept.shown
