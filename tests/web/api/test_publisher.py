"""The publisher API on a real server: a CMS adds, updates and removes articles by id."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from tests.web.test_app import ADMIN, assert_error, chat

ADMIN_HEADERS = {"Authorization": f"Bearer {ADMIN}"}
STORY = {
    "title": "Oosthaven opens a floating library",
    "text": "The town of Oosthaven opened a floating library on the old ferry Marijke on Saturday. "
            "Librarian Joke Verbeek said the boat holds 12,000 books and will visit six villages every month.",
    "url": "https://news.example/oosthaven-library",
    "date": "2026-11-28",
    "lang": "en",
    "outlet": "Example News",
}


def put(url: str, doc_id: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.put(f"{url}/api/documents/{doc_id}", json=body, timeout=120,
                     headers=ADMIN_HEADERS if headers is None else headers)


def test_put_is_idempotent_and_an_update_replaces_the_old_version(serve: Callable[..., Any]) -> None:
    with serve() as (url, _):
        first = put(url, "cms-4711", STORY)
        assert first.status_code == 200, first.text
        assert first.json()["status"] == "added" and first.json()["chunks"] >= 1
        again = put(url, "cms-4711", STORY)
        assert again.json() == {"id": "cms-4711", "status": "unchanged", "chunks": 0, "answers": []}
        answer = chat(url, {"question": "How many books does the floating library in Oosthaven hold?"}).json()
        assert answer["sources"][0]["doc_id"] == "cms-4711"
        assert answer["sources"][0]["date"] == "2026-11-28"
        assert answer["sources"][0]["url"] == STORY["url"]
        assert "12,000" in answer["answer"]

        updated = put(url, "cms-4711", {**STORY, "text": STORY["text"].replace("12,000", "15,500")})
        assert updated.json()["status"] == "updated"
        answer = chat(url, {"question": "How many books does the floating library in Oosthaven hold?"}).json()
        assert "15,500" in answer["answer"] and "12,000" not in answer["answer"]
        assert [s["doc_id"] for s in answer["sources"]] == ["cms-4711"]


def test_put_html_extracts_the_article(serve: Callable[..., Any]) -> None:
    page = ("<html><head><title>Site</title><meta property='og:title' content='Quortle harbour reopens'>"
            "</head><body><nav><a href='/'>Home</a> <a href='/sport'>Sport</a></nav><article>"
            "<h1>Quortle harbour reopens</h1><p>The harbour of Quortle reopened on Monday after the storm "
            "Zephyrine damaged its piers.</p><p>Harbour master Anneliese Vandermolen said forty ships "
            "had been waiting outside.</p></article><footer>© Example</footer></body></html>")
    with serve() as (url, _):
        done = put(url, "https://news.example/quortle", {"html": page, "date": "2026-11-30"})
        assert done.status_code == 200, done.text
        answer = chat(url, {"question": "Who is the harbour master of Quortle?"}).json()
    assert answer["sources"][0]["doc_id"] == "https://news.example/quortle"
    assert answer["sources"][0]["title"] == "Quortle harbour reopens"
    assert "Vandermolen" in answer["answer"]
    assert "Sport" not in answer["sources"][0]["passage"]


def test_delete_removes_the_article_and_unknown_ids_are_404(serve: Callable[..., Any]) -> None:
    with serve() as (url, _):
        assert put(url, "cms-4711", STORY).status_code == 200
        gone = httpx.delete(f"{url}/api/documents/cms-4711", headers=ADMIN_HEADERS, timeout=60)
        assert gone.status_code == 200
        assert gone.json()["status"] == "deleted" and gone.json()["chunks"] >= 1
        answer = chat(url, {"question": "How many books does the floating library in Oosthaven hold?"}).json()
        assert "cms-4711" not in [s["doc_id"] for s in answer["sources"]]
        again = assert_error(httpx.delete(f"{url}/api/documents/cms-4711", headers=ADMIN_HEADERS), 404,
                             "DocumentNotFound", "No article 'cms-4711' is indexed")
        assert "folder" not in again["message"] and "deleted already" in again["message"]


def test_bad_requests_are_refused_with_reasons(serve: Callable[..., Any]) -> None:
    with serve() as (url, _):
        assert_error(put(url, "cms-1", STORY, headers={}), 401, "AdminRequired", "ADMIN_TOKEN")
        assert_error(put(url, "cms-1", STORY, headers={"Authorization": "Bearer wrong"}), 401, "AdminRequired")
        both = put(url, "cms-1", {**STORY, "html": "<p>x</p>"})
        assert_error(both, 422, "InvalidRequest", 'exactly one of them')
        assert_error(put(url, "cms-1", {"title": "No body"}), 422, "InvalidRequest", '"text" or as "html"')
        assert_error(put(url, "cms-1", {**STORY, "date": "28/11/2026"}), 422, "InvalidRequest", "date")
        assert_error(put(url, "cms-1", {"html": "<html><body><nav>Home</nav></body></html>"}), 422,
                     "SourceError", "has no")
        invalid = httpx.put(f"{url}/api/documents/cms-1", content=b"{not json", headers={
            **ADMIN_HEADERS, "Content-Type": "application/json"})
        assert_error(invalid, 422, "InvalidRequest", "not valid JSON")
    with serve(admin_token=None) as (url, _):
        assert_error(put(url, "cms-1", STORY, headers={"Authorization": "Bearer x"}), 403, "AdminRequired",
                     "disabled")


def test_a_correction_supersedes_the_wrong_figure_until_it_is_removed(serve: Callable[..., Any]) -> None:
    question = "How many books does the floating library in Oosthaven hold?"
    correction = {**STORY, "title": "Correction: Oosthaven's floating library holds 1,200 books",
                  "text": STORY["text"].replace("12,000", "1,200") + " An earlier version gave the wrong figure.",
                  "date": "2026-11-29", "supersedes": "cms-4711"}
    with serve() as (url, _):
        assert put(url, "cms-4711", STORY).json()["status"] == "added"
        assert_error(put(url, "cms-4712", {**correction, "supersedes": "cms-0000"}), 404, "DocumentNotFound",
                     "No article 'cms-0000' is indexed to be superseded")
        assert_error(put(url, "cms-4711", {**correction}), 400, "QuestionError", "cannot supersede itself")
        assert put(url, "cms-4712", correction).json()["status"] == "added"
        for asked in (question, "What did the librarian Joke Verbeek say about 12,000 books?"):
            answer = chat(url, {"question": asked}).json()
            assert "cms-4711" not in answer["retrieved_doc_ids"] and "12,000" not in answer["answer"]
        answer = chat(url, {"question": question}).json()
        assert answer["sources"][0]["doc_id"] == "cms-4712" and "1,200" in answer["answer"]
        assert answer["sources"][0]["supersedes"] == "cms-4711"
        assert answer["revision_label"] == "Corrected on 29 November 2026"
        assert answer["as_of"] == "2026-11-29"

        update = put(url, "cms-4713", {**STORY, "text": STORY["text"] + " It now visits seven villages.",
                                       "date": "2026-12-01", "supersedes": "cms-4712", "revision": "update"})
        assert update.json()["status"] == "added"
        answer = chat(url, {"question": question}).json()
        assert answer["sources"][0]["doc_id"] == "cms-4713"
        assert answer["revision_label"] == "Updated on 1 December 2026"

        # the successors removed, the first version is quotable again
        for doc_id in ("cms-4713", "cms-4712"):
            assert httpx.delete(f"{url}/api/documents/{doc_id}", headers=ADMIN_HEADERS, timeout=60).status_code == 200
        answer = chat(url, {"question": question}).json()
        assert answer["sources"][0]["doc_id"] == "cms-4711" and answer["revision_label"] == ""
