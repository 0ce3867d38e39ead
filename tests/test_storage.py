"""Conversations and feedback survive a restart and unknown turns are refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.errors import ConfigError, DocumentNotFound
from assistant.storage import Store, TurnNotFound


def answer_dict(text: str) -> dict:
    return {"answer": text, "sources": [{"number": 1, "doc_id": "a.txt", "passage": "<script>x</script>"}],
            "abstained": False}


def test_turns_and_feedback_survive_reopening(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'nested' / 'assistant.db'}"
    store = Store.open(url)
    first = store.save_turn("conv-1", "Who?", answer_dict("Him [1]."), "api")
    second = store.save_turn("conv-1", "And when?", answer_dict("In 2020 [1]."), "widget")
    store.save_turn("conv-2", "Other", answer_dict("Else."), "ui")
    store.add_feedback(first, 1, "good")
    store.add_feedback(second, -1)
    store.close()

    reopened = Store.open(url)
    turns = reopened.conversation("conv-1")
    assert [t["question"] for t in turns] == ["Who?", "And when?"]
    assert [t["turn_id"] for t in turns] == [first, second]
    assert turns[0]["answer"] == answer_dict("Him [1].")
    assert [t["source"] for t in turns] == ["api", "widget"]
    assert [t["feedback"] for t in turns] == [1, -1]
    assert reopened.feedback_counts() == {"up": 1, "down": 1, "total": 2}
    assert reopened.conversation("unknown") == []


def test_latest_feedback_wins_in_the_conversation(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'a.db'}")
    turn = store.save_turn("c", "q", answer_dict("a"), "openai")
    store.add_feedback(turn, 1)
    store.add_feedback(turn, -1)
    assert store.conversation("c")[0]["feedback"] == -1
    assert store.feedback_counts() == {"up": 1, "down": 1, "total": 2}


def test_feedback_on_an_unknown_turn_is_refused_and_stores_nothing(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'a.db'}")
    with pytest.raises(TurnNotFound, match="turn_id") as caught:
        store.add_feedback("no-such-turn", 1)
    assert isinstance(caught.value, DocumentNotFound)
    assert store.feedback_counts() == {"up": 0, "down": 0, "total": 0}


def test_bad_rating_and_source_are_rejected(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'a.db'}")
    turn = store.save_turn("c", "q", answer_dict("a"), "ui")
    with pytest.raises(ValueError, match="rating"):
        store.add_feedback(turn, 5)
    with pytest.raises(ValueError, match="source"):
        store.save_turn("c", "q", answer_dict("a"), "email")


def test_a_bad_database_url_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        Store.open("not a url")
