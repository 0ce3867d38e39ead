"""The latest news over real HTTP: questions about what is new are answered by the newest dated
articles, newest first, each cited, with the dates said; nothing recent enough is said so."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import httpx

from assistant.languages import long_date
from assistant.storage import Store
from tests.web.api.test_chat import server
from tests.web.test_app import ADMIN, chat

__all__ = ["server"]
LATEST = ("001_f0321c9b8754cbef.txt", "002_c0aacf7ec5a8a527.txt")  # the dated samples, newest first


def assert_listed_newest_first(result: dict[str, Any]) -> None:
    assert not result["abstained"] and result["sources"]
    dates = [source["date"] for source in result["sources"]]
    assert dates == sorted(dates, reverse=True) and all(dates)
    lines = result["answer"].split("\n")[1:]
    assert len(lines) == len(result["sources"])
    for line, source in zip(lines, result["sources"], strict=True):  # one line each, each cited
        assert line.endswith(f"[{source['number']}]") and source["supporting"][0] in line
        assert source["supporting"][0] in source["passage"]


def test_nothing_from_yesterday_says_so_and_gives_the_latest_with_its_date(server: tuple[str, Store]) -> None:
    yesterday = long_date((date.today() - timedelta(days=1)).isoformat(), "en")  # the server's today
    result = chat(server[0], {"question": "What happened yesterday?"}).json()
    assert result["answer"].startswith(f"Nothing in the articles is from yesterday ({yesterday}); the latest "
                                       "is from 2 April 2025:")
    assert [source["doc_id"] for source in result["sources"]] == list(LATEST)
    assert_listed_newest_first(result)
    assert result["as_of"] == "2025-04-02"


def test_whats_new_and_the_latest_on_a_topic_in_each_language(server: tuple[str, Store]) -> None:
    headings = {"What's new?": "The latest articles, newest first:",
                "What is the latest news on Vietnam and Russia?": "The latest articles, newest first:",
                "Có gì mới về Nga?": "Các bài báo mới nhất, mới nhất trước:",
                "Wat is het laatste nieuws over Vietnam en Rusland?": "De nieuwste artikelen, nieuwste eerst:",
                "Was gibt es Neues über Russland?": "Die neuesten Artikel, die neuesten zuerst:",
                "Что нового о России?": "Последние статьи, сначала самые новые:"}
    for question, heading in headings.items():
        result = chat(server[0], {"question": question}).json()
        assert result["answer"].split("\n")[0] == heading, (question, result["answer"])
        assert result["sources"][0]["doc_id"] == LATEST[0]
        assert_listed_newest_first(result)


def test_a_question_about_what_happened_at_a_time_goes_the_usual_way(server: tuple[str, Store]) -> None:
    result = chat(server[0], {"question": "What did Putin sign last week?"}).json()
    assert not result["answer"].startswith(("Nothing in the articles", "The latest", "The articles from"))


def test_todays_article_heads_the_news_of_today(serve: Callable[..., Any]) -> None:
    today = date.today().isoformat()
    story = {"title": "Harbour of Quortle reopens", "date": today, "lang": "en", "outlet": "Example News",
             "text": "The harbour of Quortle reopened this morning after the storm Zephyrine damaged its "
                     "piers. Harbour master Anneliese Vandermolen said forty ships had been waiting outside."}
    with serve() as (url, _):
        put = httpx.put(f"{url}/api/documents/quortle", json=story, timeout=120,
                        headers={"Authorization": f"Bearer {ADMIN}"})
        assert put.status_code == 200, put.text
        result = chat(url, {"question": "What happened today?"}).json()
        assert result["answer"].startswith(f"The articles from today ({long_date(today, 'en')}), newest first:")
        assert [source["doc_id"] for source in result["sources"]] == ["quortle"]
        assert_listed_newest_first(result)
        news = chat(url, {"question": "What's new?"}).json()
        assert [source["doc_id"] for source in news["sources"]] == ["quortle", *LATEST]


HARBOUR = [  # (id, date, text): the story of a harbour, published out of order
    ("harbour-2", "2024-11-10", "Repairs of the Quortle harbour piers began on Monday, eight months after "
                                "the storm Zephyrine. The works will cost 12 million euros."),
    ("harbour-1", "2024-03-01", "The storm Zephyrine damaged the piers of the Quortle harbour on Friday night. "
                                "Ships were sent to the neighbouring port of Vlieden."),
    ("harbour-0", "2023-06-15", "The Quortle harbour celebrated its centenary with a parade of old ships. "
                                "Ten thousand visitors came to the quays."),
    ("harbour-3", "2025-05-02", "The Quortle harbour reopened to ships on Friday after the repairs of its piers. "
                                "Harbour master Anneliese Vandermolen welcomed the first ferry."),
]


def test_a_timeline_lists_the_dated_articles_of_a_story_oldest_first(serve: Callable[..., Any]) -> None:
    with serve() as (url, _):
        for doc_id, published, text in HARBOUR:
            put = httpx.put(f"{url}/api/documents/{doc_id}", timeout=120, headers={"Authorization": f"Bearer {ADMIN}"},
                            json={"title": text.split(". ")[0], "text": text, "date": published, "lang": "en"})
            assert put.status_code == 200, put.text
        result = chat(url, {"question": "Give me a timeline of the Quortle harbour"}).json()
        assert result["answer"].startswith("Timeline, oldest first:\n")
        cited = [source["doc_id"] for source in result["sources"]]
        assert cited[:4] == ["harbour-0", "harbour-1", "harbour-2", "harbour-3"]
        dates = [source["date"] for source in result["sources"]]
        assert dates == sorted(dates)
        lines = result["answer"].split("\n")[1:]
        assert lines[0] == ("- 15 June 2023: The Quortle harbour celebrated its centenary with a parade of old "
                            "ships. [1]")
        since = chat(url, {"question": "How has the Quortle harbour developed since 2024?"}).json()
        assert [source["doc_id"] for source in since["sources"]][:3] == ["harbour-1", "harbour-2", "harbour-3"]
        assert "harbour-0" not in [source["doc_id"] for source in since["sources"]]
        dutch = chat(url, {"question": "Geef me een tijdlijn van de haven van Quortle"}).json()
        assert dutch["answer"].startswith("Tijdlijn, oudste eerst:\n- 15 juni 2023: ")
