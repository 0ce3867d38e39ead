"""Server-side conversations over real HTTP: a follow-up by conversation_id alone, who may continue one,
expiry, and an explicit history winning (uvicorn, the chain, Chroma and SQLite, as served)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import openai
import pytest
from sqlalchemy import update

from assistant.service import Assistant
from assistant.storage import ConversationRow, Store
from assistant.web.app import create_app
from tests.web.test_app import ALLOWED, assert_error, chat, index_copy, served

BLOG = "http://blog.test:8080"
FIRST = "Who is Gennady Bezdetko?"
FOLLOW_UP = "Which Vietnamese leader received him?"
RECEIVED = "001_f0321c9b8754cbef.txt"  # Tô Lâm received the ambassador


@pytest.fixture(scope="module")
def server(sample_index_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Store]]:
    settings = index_copy(sample_index_dir, tmp_path_factory.mktemp("conversations"),
                          sites=f"news={ALLOWED};blog={BLOG}", conversation_ttl_hours=24)
    store = Store.open(settings.database_url)
    with served(create_app(settings, Assistant.open(settings), store, with_ui=False), settings) as url:
        yield url, store
    store.close()


def widget(base: str, origin: str, site_key: str) -> dict[str, str]:
    """The headers of a widget session of ``site_key`` on a page of ``origin``."""
    token = httpx.post(f"{base}/api/widget/session", json={"site_key": site_key},
                       headers={"Origin": origin}, timeout=10).json()["token"]
    return {"Origin": origin, "X-Widget-Token": token}


def test_a_follow_up_by_conversation_id_alone_reads_the_stored_turns(server: tuple[str, Store]) -> None:
    base, store = server
    first = chat(base, {"question": FIRST}).json()
    alone = chat(base, {"question": FOLLOW_UP}).json()
    assert alone["retrieved_doc_ids"][0] != RECEIVED  # without the conversation it is another question
    second = chat(base, {"question": FOLLOW_UP, "conversation_id": first["conversation_id"]}).json()
    assert second["conversation_id"] == first["conversation_id"]
    assert second["retrieved_doc_ids"][0] == RECEIVED and not second["abstained"]
    assert "Tô Lâm" in second["answer"] and second["sources"][0]["doc_id"] == RECEIVED
    assert [t["turn_id"] for t in store.conversation(first["conversation_id"])] == \
        [first["turn_id"], second["turn_id"]]


def test_conversation_ids_are_unguessable(server: tuple[str, Store]) -> None:
    base, _ = server
    ids = {chat(base, {"question": FIRST}).json()["conversation_id"] for _ in range(3)}
    assert len(ids) == 3
    assert all(len(conversation) >= 32 for conversation in ids)  # 192 random bits, URL-safe base64


def test_an_unknown_conversation_is_a_404_that_says_what_to_do(server: tuple[str, Store]) -> None:
    base, _ = server
    for body in ({"question": FOLLOW_UP, "conversation_id": "made-up-id"},
                 {"question": FOLLOW_UP, "conversation_id": "made-up-id",
                  "history": [{"role": "user", "content": FIRST}]}):
        assert_error(chat(base, body), 404, "ConversationNotFound", "Leave out conversation_id")


def test_a_widget_conversation_continues_only_in_that_sites_sessions(server: tuple[str, Store]) -> None:
    base, _ = server
    news = widget(base, ALLOWED, "news")
    first = chat(base, {"question": FIRST}, **news).json()
    again = chat(base, {"question": FOLLOW_UP, "conversation_id": first["conversation_id"]},
                 **widget(base, ALLOWED, "news"))  # a new session of the same site
    assert again.status_code == 200 and again.json()["retrieved_doc_ids"][0] == RECEIVED
    unknown = chat(base, {"question": FOLLOW_UP, "conversation_id": "made-up-id"}, **news).json()
    for other in (widget(base, BLOG, "blog"), {}):  # another site's widget, a server's call
        refused = chat(base, {"question": FOLLOW_UP, "conversation_id": first["conversation_id"]}, **other)
        error = assert_error(refused, 404, "ConversationNotFound")
        assert error["message"].replace(first["conversation_id"], "made-up-id") == unknown["error"]["message"]
    api = chat(base, {"question": FIRST}).json()  # and an API conversation is not a widget's
    assert_error(chat(base, {"question": FOLLOW_UP, "conversation_id": api["conversation_id"]}, **news),
                 404, "ConversationNotFound")


def test_a_conversation_expires_ttl_hours_after_its_last_turn(server: tuple[str, Store]) -> None:
    base, store = server
    first = chat(base, {"question": FIRST}).json()
    with store.engine.begin() as connection:  # its last turn, a day and an hour ago
        connection.execute(update(ConversationRow)
                           .where(ConversationRow.conversation_id == first["conversation_id"])
                           .values(last_active_at=datetime.now(UTC) - timedelta(hours=25)))
    assert_error(chat(base, {"question": FOLLOW_UP, "conversation_id": first["conversation_id"]}),
                 404, "ConversationNotFound", "expired (24 hours after its last turn)")


def test_an_explicit_history_wins_over_the_stored_turns(server: tuple[str, Store]) -> None:
    base, _ = server
    first = chat(base, {"question": FIRST}).json()
    history = [{"role": "user", "content": "Which United Nations convention will be signed in Hanoi?"},
               {"role": "assistant", "content": "The first United Nations Convention against Cybercrime."}]
    second = chat(base, {"question": "When is it expected to be signed?", "history": history,
                         "conversation_id": first["conversation_id"]}).json()
    assert second["retrieved_doc_ids"][0] == "003_024cb3686d4085ed.txt" and "oktober" in second["answer"]


def test_the_openai_api_continues_a_stored_conversation(server: tuple[str, Store]) -> None:
    base, _ = server
    client = openai.OpenAI(base_url=f"{base}/v1", api_key="unused", max_retries=0)
    first = client.chat.completions.create(model="news-assistant", messages=[{"role": "user", "content": FIRST}])
    conversation_id = (first.model_extra or {})["conversation_id"]
    second = client.chat.completions.create(model="news-assistant", messages=[
        {"role": "user", "content": FOLLOW_UP}], extra_body={"conversation_id": conversation_id})
    assert (second.model_extra or {})["conversation_id"] == conversation_id
    assert (second.model_extra or {})["sources"][0]["doc_id"] == RECEIVED
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="news-assistant", messages=[{"role": "user", "content": FOLLOW_UP}],
                                       extra_body={"conversation_id": "made-up-id"})


@pytest.mark.parametrize(("question", "as_of", "label"), [
    ("Who is Gennady Bezdetko?", "2025-04-02", "As of 2 April 2025"),
    ("Ai đã tiếp Thứ trưởng Ngoại giao Nga Rudenko?", "2025-02-22", "Tính đến 22 tháng 2, 2025"),
    ("Who directs the Russian Center for Science and Culture in Vietnam?", None, ""),  # an undated article
])
def test_every_answer_says_how_current_it_is(server: tuple[str, Store], question: str, as_of: str | None,
                                             label: str) -> None:
    base, _ = server
    result = chat(base, {"question": question}).json()
    assert not result["abstained"]
    assert result["as_of"] == as_of and result["as_of_label"] == label
    assert result["as_of"] == max((s["date"] for s in result["sources"] if s["date"]), default=None)


def test_a_refusal_is_as_of_nothing(server: tuple[str, Store]) -> None:
    result = chat(server[0], {"question": "What is the recipe for lasagne?"}).json()
    assert result["abstained"] and result["as_of"] is None and result["as_of_label"] == ""
