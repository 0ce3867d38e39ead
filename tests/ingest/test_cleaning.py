"""Cleaning on the real sample articles: boilerplate out, metadata in."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.documents import Article, RawDocument
from assistant.ingest.cleaning import clean
from assistant.ingest.sources import read_paths
from assistant.text import detect_language
from tests.conftest import ARTICLES


@pytest.fixture(scope="module")
def articles() -> dict[str, Article]:
    return {raw.doc_id: clean(raw) for raw in read_paths([ARTICLES]) if isinstance(raw, RawDocument)}


def test_vov_article_loses_follow_prompt_and_related_list(articles: dict[str, Article]) -> None:
    article = articles["000_9816ccc5144c5afd.txt"]
    assert article.title == "Vietnam-Russia Comprehensive Strategic Partnership yields impressive results in 2024"
    assert article.outlet == "VOV.VN"
    assert "Mời quý độc giả" not in article.text
    assert "Related" not in article.text
    assert "Defence Strategy Dialogue" not in article.text  # the related items, repeated twice each
    assert not article.text.startswith("VOV.VN")  # the byline became the outlet
    assert article.text.rstrip().endswith("about 600,000 per year.")
    assert article.lang == "en"


def test_dated_article_gets_its_date_and_sign_off_outlet(articles: dict[str, Article]) -> None:
    article = articles["001_f0321c9b8754cbef.txt"]
    assert article.date == "2025-04-02"
    assert " date " not in article.text[:20]
    assert article.text.startswith("HÀ NỘI")
    assert article.outlet == "Việt Nam News"  # its front matter names the VNS of its sign-off
    assert not article.text.rstrip().endswith("VNS")
    assert articles["002_c0aacf7ec5a8a527.txt"].date == "2025-02-22"


def test_dutch_article_loses_captions_comment_counter_and_source_line(articles: dict[str, Article]) -> None:
    article = articles["003_024cb3686d4085ed.txt"]
    assert article.lang == "nl"
    assert article.url == "https://baoquocte.vn/viet-nam-nga-nhung-doi-tac-tin-cay-trong-the-gioi-doi-thay-325802.html"
    assert article.outlet == "baoquocte.vn"
    for boilerplate in ("Reactie (0)", "Bron:", "(Foto: Nguyen Hong)", "|", "(Bron: BRICS)"):
        assert boilerplate not in article.text
    assert article.title == "Blijf standvastig in het aangezicht van elke uitdaging"
    assert "Joint Venture Bank" in article.text  # the article itself is kept


def test_every_sample_article_keeps_most_of_its_text(articles: dict[str, Article]) -> None:
    for doc_id, article in articles.items():
        raw = (ARTICLES / doc_id).read_text(encoding="utf-8")
        assert 0.45 * len(raw) < len(article.text) <= len(raw), doc_id
        assert article.title, doc_id


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Ai đã tiếp Thứ trưởng Ngoại giao Nga Rudenko sau cuộc tham vấn chính trị tại Hà Nội?", "vi"),
        ("Wanneer vindt de 26e zitting van de intergouvernementele commissie plaats?", "nl"),
        ("When is the convention expected to be signed in Hanoi?", "en"),
        ("What is the price of rice in Hanoi?", "en"),  # short questions: lingua said Shona
        ("and how many were signed?", "en"),
        ("Wer hat den Vertrag unterzeichnet?", "de"),
        ("Кто был лидером по количеству блокировок в Пэнтерс в 2015 году?", "ru"),
    ],
)
def test_language_is_detected(text: str, lang: str) -> None:
    assert detect_language(text) == lang


def test_html_page_yields_article_text_and_metadata() -> None:
    raw = next(r for r in read_paths([Path(__file__).parents[1] / "data" / "article.html"]))
    assert isinstance(raw, RawDocument)
    article = clean(raw)
    assert article.title == "Hanoi hosts the signing of the UN cybercrime convention"
    assert article.date == "2025-10-25"
    assert article.outlet == "Example Daily"
    assert article.url == "https://news.example.com/hanoi-convention"
    assert "sixty countries" in article.text
    for furniture in ("tracker", "Home", "celebrity gossip", "Copyright", "Delegates arrive"):
        assert furniture not in article.text


def test_the_sample_ships_the_metadata_its_text_gives(articles: dict[str, Article]) -> None:
    """Titles, dates where stated, outlets and languages; no URL or date that the text does not give."""
    shown = {doc_id: (a.title, a.date, a.outlet, a.lang) for doc_id, a in articles.items()}
    assert shown == {
        "000_9816ccc5144c5afd.txt": ("Vietnam-Russia Comprehensive Strategic Partnership yields impressive "
                                     "results in 2024", "", "VOV.VN", "en"),
        # no headline: the first sentence, as before (a headline written for them would be invented)
        "001_f0321c9b8754cbef.txt": ("HÀ NỘI – Party General Secretary Tô Lâm reaffirmed that Việt Nam always "
                                     "considers Russia…", "2025-04-02", "Việt Nam News", "en"),
        "002_c0aacf7ec5a8a527.txt": ("HÀ NỘI — Deputy Foreign Minister Lê Thị Thu Hằng and her Russian "
                                     "counterpart A.", "2025-02-22", "Việt Nam News", "en"),
        "003_024cb3686d4085ed.txt": ("Blijf standvastig in het aangezicht van elke uitdaging", "",
                                     "baoquocte.vn", "nl"),
        "004_c372befab5d8349c.txt": ("Chief diplomats work to prepare for Party leader To Lam’s coming trip "
                                     "to Russia", "", "VOV.VN", "en"),
    }
    assert [doc_id for doc_id, a in articles.items() if a.url] == ["003_024cb3686d4085ed.txt"]  # its Bron line
    for doc_id in articles:
        assert (ARTICLES / doc_id).read_text(encoding="utf-8").startswith("---\n"), doc_id  # front matter
