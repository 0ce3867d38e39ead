"""Rendering for the chat UI: untrusted text comes out as text, citations link to their sources."""

from __future__ import annotations

import json
from html.parser import HTMLParser

import pytest

from assistant.web.ui_render import (
    EMPTY_SOURCES,
    answer_html,
    conversation_json,
    conversation_markdown,
    example_questions,
    highlight,
    question_html,
    safe_url,
    short_title,
    source_card,
    sources_html,
    stats_html,
)

PAYLOAD = "<script>alert(1)</script><img src=x onerror=alert(2)>"


class Elements(HTMLParser):
    """Every start tag and its attributes, as a browser's parser would see them."""

    def __init__(self, markup: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(markup)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def names(self) -> set[str]:
        return {tag for tag, _ in self.tags}

    def all_text(self) -> str:
        return "".join(self.text)


def source(number: int = 1, **overrides: object) -> dict[str, object]:
    base: dict[str, object] = {
        "number": number, "doc_id": "004_c372befab5d8349c.txt", "chunk_id": "004#h#8",
        "title": "Chief diplomats prepare a trip", "outlet": "VOV.VN", "date": "2025-04-02",
        "url": "https://vov.vn/article", "lang": "en",
        "passage": "First sentence here.\nThe convention will be signed in Hanoi in October. Last one.",
        "supporting": ["The convention will be signed in Hanoi in October."],
    }
    base.update(overrides)
    return base


def test_answer_citations_link_to_their_source_cards_only() -> None:
    answer = {"answer": "Signed in Hanoi [1]. Unknown [7].", "sources": [source(1)]}
    parsed = Elements(answer_html(answer, turn=3))
    links = [attrs for tag, attrs in parsed.tags if tag == "a"]
    assert [link["href"] for link in links] == ["#nwa-src-3-1"]  # [7] cites nothing: plain text
    assert links[0]["class"] == "nwa-cite"
    assert parsed.all_text() == "Signed in Hanoi [1]. Unknown [7]."


def test_a_finished_answer_says_how_current_it_is() -> None:
    answer = {"answer": "Signed in Hanoi [1].", "sources": [source(1)], "as_of": "2025-04-02",
              "as_of_label": "As of 2 April 2025"}
    assert Elements(answer_html(answer, 0)).all_text().endswith("As of 2 April 2025")
    assert "As of" not in answer_html(answer, None)  # not while it streams
    assert "nwa-as-of" not in answer_html({**answer, "as_of": None, "as_of_label": ""}, 0)


def test_streaming_answer_has_no_links_yet() -> None:
    assert "<a" not in answer_html({"answer": "Partial [1]"}, None)


def test_model_and_question_text_is_escaped() -> None:
    answer = {"answer": f"Look {PAYLOAD} [1]", "sources": [source(1, title=PAYLOAD)], "notice": PAYLOAD}
    parsed = Elements(answer_html(answer, 0))
    assert parsed.names() <= {"a", "br", "small"}
    assert PAYLOAD in parsed.all_text()
    assert Elements(question_html(PAYLOAD)).names() == set()
    assert Elements(question_html(PAYLOAD)).all_text() == PAYLOAD


def test_source_card_shows_metadata_and_marks_the_supporting_sentence() -> None:
    card = source_card(source(2), turn=0)
    parsed = Elements(card)
    details = [attrs for tag, attrs in parsed.tags if tag == "details"]
    assert details[0]["id"] == "nwa-src-0-2"
    text = parsed.all_text()
    for value in ("[2]", "Chief diplomats prepare a trip", "VOV.VN", "2025-04-02", "https://vov.vn/article",
                  "004_c372befab5d8349c.txt"):
        assert value in text
    assert '<mark class="nwa-support">The convention will be signed in Hanoi in October.</mark>' in card
    link = next(attrs for tag, attrs in parsed.tags if tag == "a")
    assert link["href"] == "https://vov.vn/article" and "noopener" in (link["rel"] or "")


def test_source_card_shows_a_long_title_shortened_and_in_full_in_its_fields() -> None:
    title = "Talks on the cybercrime convention continue in Hanoi as the delegation of J.R. Smith arrives today"
    card = source_card(source(1, title=title), turn=0)
    assert '<span class="nwa-title" title="' + title + '">Talks on the cybercrime convention continue in Hanoi ' \
           'as the delegation of…</span>' in card
    assert f"<dt>Title</dt><dd>{title}</dd>" in card
    assert "<dt>Title</dt>" not in source_card(source(1), turn=0)  # a short title is shown whole, once


@pytest.mark.parametrize(("title", "limit", "shown"), [
    ("Chief diplomats prepare a trip", 80, "Chief diplomats prepare a trip"),
    ("Chief diplomats prepare a trip", 20, "Chief diplomats…"),  # the cut falls inside "prepare"
    ("Chief diplomats prepare a trip", 23, "Chief diplomats prepare…"),  # the cut falls on a space
    ("Interview with A. Nguyen on trade", 17, "Interview with…"),  # never "Interview with A.…"
    ("Interview with J.R. Smith on trade", 20, "Interview with…"),
    ("Interview with J. R. Smith on trade", 20, "Interview with…"),
    ("Trade talks with the U.S. and Japan", 25, "Trade talks with the…"),
    ("A visit by Dr. Lan to the hospital", 14, "A visit by…"),
    ("Reform – what changes in April", 8, "Reform…"),  # no dangling dash
    ("Hanoi, Da Nang and Hue prepare", 7, "Hanoi…"),  # nor a dangling comma
    ("The minister met J.R.…", 80, "The minister met…"),  # cut upstream right after an initial
    ("HÀ NỘI — The minister said that…", 80, "HÀ NỘI — The minister said that…"),
    ("Supercalifragilistic", 5, "Super…"),  # one long word: no boundary to cut at
    ("  Spaces\n inside   a title ", 80, "Spaces inside a title"),
])
def test_short_title_cuts_between_words_never_after_an_initial(title: str, limit: int, shown: str) -> None:
    assert short_title(title, limit) == shown


def test_source_card_with_payloads_in_every_field_has_only_our_tags() -> None:
    hostile = source(1, title=PAYLOAD, outlet=PAYLOAD, date=PAYLOAD, doc_id=PAYLOAD, lang=PAYLOAD,
                     url="javascript:alert(3)", passage=f"Before {PAYLOAD} after.", supporting=[PAYLOAD])
    parsed = Elements(source_card(hostile, 0))
    ours = {"details", "summary", "span", "div", "dl", "dt", "dd", "blockquote", "mark", "br"}
    assert parsed.names() <= ours
    assert not any(name.startswith("on") for _, attrs in parsed.tags for name in attrs)
    assert "javascript:" not in source_card(hostile, 0)
    # as text, escaped: the title, outlet · date · lang in the summary, outlet, date, id in the fields, the passage
    assert parsed.all_text().count(PAYLOAD) == 8


def test_safe_url_keeps_only_http_links() -> None:
    assert safe_url("https://example.org/a?b=1") == "https://example.org/a?b=1"
    assert safe_url("http://example.org") == "http://example.org"
    for bad in ("javascript:alert(1)", "JAVASCRIPT:alert(1)", "data:text/html,<b>", "//evil", "", None, "ftp://x"):
        assert safe_url(bad) is None


def test_highlight_tolerates_whitespace_and_merges_overlaps() -> None:
    passage = "Alpha beta.\nGamma   delta epsilon. Zeta."
    marked = highlight(passage, ["Gamma delta epsilon.", "delta epsilon. Zeta."])
    assert marked.count("<mark") == 1
    assert marked.startswith("Alpha beta.<br><mark")
    assert highlight("a < b", ["not there"]) == "a &lt; b"


def test_sources_panel_lists_latest_turn_first_and_open() -> None:
    turns = [
        {"question": "first?", "answer": {"answer": "x [1]", "sources": [source(1)]}},
        {"question": "second?", "answer": {"answer": "none", "sources": []}},
    ]
    panel = sources_html(turns)
    assert panel.index('data-turn="1"') < panel.index('data-turn="0"')
    assert '<details class="nwa-turn" data-turn="1" open>' in panel
    assert '<details class="nwa-turn" data-turn="0">' in panel
    assert "the articles do not answer" in panel
    assert sources_html([]) == EMPTY_SOURCES


def test_stats_are_escaped() -> None:
    stats = {"documents": 2, "chunks": 9, "languages": {"en": 1, PAYLOAD: 1}, "outlets": {PAYLOAD: 2},
             "date_range": ["2025-01-01", "2025-02-01"], "embedding_model": "m"}
    parsed = Elements(stats_html(stats, {"up": 3, "down": 1, "total": 4}))
    assert parsed.names() <= {"table", "tr", "th", "td"}
    assert PAYLOAD in parsed.all_text() and "3 helpful · 1 not helpful" in parsed.all_text()
    assert "nwa-error" in stats_html(None, None, "index is down")


def test_stats_show_each_feeds_last_sync_escaped() -> None:
    feeds = [{"url": "https://news.test/rss", "title": PAYLOAD, "status": "ok", "error": "",
              "checked_at": "2026-12-02T10:00:00+00:00", "articles_added": 4},
             {"url": "https://news.test/gone", "title": "", "status": "error",
              "error": "returned HTTP 404 Not Found; check the address", "checked_at": None, "articles_added": 0}]
    parsed = Elements(stats_html({"documents": 4}, None, feeds=feeds))
    assert parsed.names() <= {"table", "tr", "th", "td"}
    text = parsed.all_text()
    assert f"Feed {PAYLOAD}" in text and "ok · 2026-12-02T10:00:00+00:00 · 4 articles added" in text
    assert ("Feed https://news.test/gone" in text
            and "error: returned HTTP 404 Not Found; check the address · never checked · 0 articles added" in text)


def test_example_questions_use_real_headlines_in_their_language() -> None:
    docs = [
        {"doc_id": "a", "title": "Chief diplomats prepare a trip", "lang": "en", "date": "2025-04-02",
         "opening": "The chief diplomats met in Moscow."},
        {"doc_id": "b", "title": "HÀ NỘI — The minister said that…", "lang": "en", "date": "2025-05-01",
         "opening": "HÀ NỘI — The minister said that the plan works."},
        {"doc_id": "c", "title": "Blijf standvastig", "lang": "nl", "date": "",
         "opening": "De vorming van betrekkingen."},
    ]
    questions = example_questions(docs)
    assert questions == ["What does the article “Chief diplomats prepare a trip” report?",
                         "Wat meldt het artikel “Blijf standvastig”?"]
    only_openings = [docs[1]]
    assert example_questions(only_openings) == [
        "What does the article “HÀ NỘI — The minister said that” report?"]
    assert example_questions([]) == []


def test_example_questions_keep_an_initial_whole() -> None:
    docs = [{"doc_id": "a", "title": "Talks with J.R.", "lang": "en", "date": "", "opening": "x"},
            {"doc_id": "b", "title": "Prices rise.", "lang": "fr", "date": "", "opening": "x"},
            {"doc_id": "c", "title": "Meeting with A.…", "lang": "nl", "date": "", "opening": "x"}]
    assert example_questions(docs) == ["What does the article “Talks with J.R.” report?",
                                       "Que rapporte l’article « Prices rise » ?",
                                       "Wat meldt het artikel “Meeting with”?"]


def test_exports_carry_questions_answers_and_sources() -> None:
    turns = [{"turn_id": "t1", "question": f"Q {PAYLOAD}?",
              "answer": {"answer": "Signed in Hanoi [1].", "sources": [source(1)], "notice": ""}}]
    markdown = conversation_markdown(turns, "conv-1")
    assert "## 1. Q &lt;script&gt;" in markdown  # a Markdown viewer shows the text, runs nothing
    assert "Signed in Hanoi [1]." in markdown
    assert "- [1] Chief diplomats prepare a trip (VOV.VN, 2025-04-02) <https://vov.vn/article>" in markdown
    assert "  > The convention will be signed in Hanoi in October." in markdown
    data = json.loads(conversation_json(turns, "conv-1"))
    assert data["conversation_id"] == "conv-1"
    assert data["turns"][0]["question"] == f"Q {PAYLOAD}?"  # JSON keeps the exact text
    assert data["turns"][0]["answer"]["sources"][0]["doc_id"] == "004_c372befab5d8349c.txt"


def test_a_refusals_related_articles_show_apart_and_are_never_citations() -> None:
    from assistant.web.ui_render import RELATED_HEADING, announcement, related_html

    refusal = {"answer": "The articles do not say who won.", "abstained": True, "sources": [], "related": [
        {"number": 1, "doc_id": "tour-1997", "title": "The Tour de France of 1997 <b>", "url": "https://news.example/t",
         "outlet": "Example", "date": "1997-07-28"},
        {"number": 2, "doc_id": "bikes", "title": "Racing bikes", "url": "javascript:alert(1)"}]}
    shown = answer_html(refusal, 0)
    assert RELATED_HEADING in shown and "nwa-cite" not in shown and "[1]" not in shown
    assert '<a class="nwa-link" href="https://news.example/t"' in shown and "&lt;b&gt;" in shown
    assert "javascript" not in shown and '<span class="nwa-related-title">Racing bikes</span>' in shown
    panel = sources_html([{"question": "Who won?", "answer": refusal}])
    assert "No sources" in panel and RELATED_HEADING in panel and 'class="nwa-source"' not in panel
    assert related_html({"answer": "x"}) == "" and RELATED_HEADING not in answer_html({"answer": "x"}, 0)
    assert announcement(refusal) == "Answer: The articles do not say who won."
    assert announcement({"answer": "Yes [1].", "sources": [{"number": 1}]}) == "Answer: Yes [1]. 1 source."
