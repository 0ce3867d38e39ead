"""Main-text extraction on saved article pages: the article in, page furniture out, metadata kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.documents import RawDocument
from assistant.errors import SourceError
from assistant.ingest.cleaning import clean
from assistant.ingest.extract import ExtractedArticle, extract_article
from assistant.ingest.sources import read_paths

DATA = Path(__file__).parents[1] / "data"


def page(name: str, url: str | None = None) -> ExtractedArticle:
    return extract_article((DATA / name).read_text(encoding="utf-8"), url=url)


def test_news_page_keeps_the_article_and_its_metadata() -> None:
    article = page("news_page.html")
    assert article.title == "Mekong delta farmers switch to salt-tolerant rice"
    assert article.date == "2025-03-03"
    assert article.outlet == "The Harbour Times"
    assert article.url == "https://harbourtimes.example.com/world/asia/mekong-rice-salt"
    assert article.lang == "en"
    assert article.author == "Linh Tran; Oliver Grant"
    assert article.body.startswith("Farmers across the Mekong delta are replacing their traditional rice")
    assert article.body.endswith("keep seawater out of the main canals during the driest months.")
    assert "\n\nIn Soc Trang province, more than 40,000 hectares" in article.body  # paragraphs kept apart


@pytest.mark.parametrize(
    "furniture",
    ["Mekong delta farmers switch", "By Linh Tran", "3 March 2025", "cookies", "Subscribe", "Home",
     "Share on", "Photo: Harbour Times", "morning briefing", "Topics", "Related stories",
     "Hanoi opens second metro line", "Coffee prices", "Privacy policy", "All rights reserved"],
)
def test_news_page_furniture_stays_out_of_the_body(furniture: str) -> None:
    assert furniture not in page("news_page.html").body


def test_byline_and_date_lines_in_the_text_become_metadata() -> None:
    article = page("nieuws.html")
    assert article.author == "Jan de Vries"
    assert article.date == "2025-02-12"
    assert article.lang == "nl"
    assert article.outlet == "Dagblad Voorbeeld"
    assert article.body.startswith("In Hanoi is woensdag een nieuwe brug over de Rode Rivier geopend.")
    assert article.body.endswith("met de nieuwe brug zou dat de helft korter worden.")
    for furniture in ("Door Jan", "Gepubliceerd", "12 februari", "Lees ook", "Metrolijn", "Reacties",
                      "Voorpagina", "Copyright"):
        assert furniture not in article.body


def test_a_sentence_that_starts_like_a_byline_is_text() -> None:
    markup = ("<html><body><article><h1>Rice exports rise</h1>"
              "<p>By the end of May, Vietnam had exported more rice than in the whole of last year.</p>"
              "<p>Exporters expect prices to stay high while stocks in the region remain low this summer.</p>"
              "</article></body></html>")
    article = extract_article(markup)
    assert article.body.startswith("By the end of May, Vietnam had exported more rice")
    assert article.author == ""


def test_the_outlet_falls_back_to_the_host_of_the_url() -> None:
    markup = ("<html><body><article><p>Representatives of more than sixty countries gathered in Hanoi on "
              "Saturday to sign the first United Nations convention against cybercrime.</p></article></body></html>")
    article = extract_article(markup, url="https://www.example.org/2025/10/25/hanoi-convention")
    assert article.outlet == "example.org"
    assert article.url == "https://www.example.org/2025/10/25/hanoi-convention"
    assert article.date == "2025-10-25"  # from the URL: the page has no date


def test_a_url_given_as_markup_is_not_fetched() -> None:
    # htmldate downloads a string that looks like a URL; extraction must only ever parse.
    article = extract_article("http://127.0.0.1:9/nothing-listens-here")
    assert article.date == ""


def test_html_files_go_through_the_extractor_into_clean_articles() -> None:
    raw = next(iter(read_paths([DATA / "nieuws.html"])))
    assert isinstance(raw, RawDocument)
    article = clean(raw)
    assert (article.title, article.date, article.outlet, article.lang) == (
        "Nieuwe brug over de Rode Rivier geopend", "2025-02-12", "Dagblad Voorbeeld", "nl")
    assert article.text.startswith("In Hanoi is woensdag")


def test_an_html_file_without_article_text_is_reported(tmp_path: Path) -> None:
    (tmp_path / "empty.html").write_text(
        "<html><head><title>Loading</title><script>render()</script></head><body><div id='app'></div></body></html>")
    [item] = list(read_paths([tmp_path / "empty.html"]))
    assert isinstance(item, SourceError)
    assert item.reason == "has no article text"


def test_a_pages_section_comes_from_article_section_or_a_section_meta() -> None:
    body = "<article><h1>Harbour reopens</h1>" + "<p>The harbour of Quortle reopened on Monday after repairs.</p>" * 8
    tagged = extract_article(f'<html><head><meta property="article:section" content="Opinion"></head>'
                             f"<body>{body}</article></body></html>")
    named = extract_article(f'<html><head><meta name="section" content="Sport"></head><body>{body}</article>'
                            "</body></html>")
    plain = extract_article(f"<html><body>{body}</article></body></html>")
    assert (tagged.section, named.section, plain.section) == ("Opinion", "Sport", "")
