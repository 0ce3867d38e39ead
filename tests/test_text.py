"""Text helpers shared by ingest and answering."""

from __future__ import annotations

from assistant.text import split_sentences


def test_a_title_does_not_end_a_sentence() -> None:
    """ "Ms. Phillips" stays in one sentence (sentencex alone splits after "Ms."), so a quote never
    reads "… Ms. [1] Phillips, who …"; a real sentence end after a title still splits."""
    text = ("Because of the adoption ban, Ms. Phillips, who is a captain, waited. "
            "Then Mr. Smith and Mx. Lee came. The last word went to Ms. Phillips. It rained.")
    assert split_sentences(text, "en") == [
        "Because of the adoption ban, Ms. Phillips, who is a captain, waited.",
        "Then Mr. Smith and Mx. Lee came.",
        "The last word went to Ms. Phillips.",
        "It rained.",
    ]
    assert split_sentences("Đây là câu một. Đây là câu hai.", "vi") == ["Đây là câu một.", "Đây là câu hai."]
