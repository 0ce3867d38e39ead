"""Settings composed by concern: every variable of .env.example is a field, every field is in one part."""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from pathlib import Path

import pytest

from assistant.config import PARTS, PROJECT_ROOT, Settings

NOT_SETTINGS = {"LOG_LEVEL"}  # read by the CLI from the environment before Settings exist


def example_variables() -> set[str]:
    text = (PROJECT_ROOT / ".env.example").read_text(encoding="utf-8")
    return set(re.findall(r"^#?\s?([A-Z][A-Z0-9_]+)=", text, flags=re.MULTILINE))


def test_every_variable_of_the_env_example_is_a_field_of_one_part(monkeypatch: pytest.MonkeyPatch,
                                                                  tmp_path: Path) -> None:
    variables = example_variables()
    assert len(variables) > 60
    fields = set(Settings.model_fields)
    assert {name.lower() for name in variables - NOT_SETTINGS} <= fields
    owners = Counter(field.name for part in PARTS.values() for field in dataclasses.fields(part))
    assert set(owners) == fields, (fields - set(owners), set(owners) - fields)  # none left out, none extra
    assert [name for name, times in owners.items() if times > 1] == []  # none in two parts
    monkeypatch.setenv("TOP_K", "9")  # a part's value comes from the same variable as before
    monkeypatch.setenv("FETCH_USER_AGENT", "Tester/1")
    settings = Settings(_env_file=None, chroma_path=tmp_path)  # type: ignore[call-arg]
    assert (settings.retrieval.top_k, settings.fetch.fetch_user_agent, settings.index.chroma_path) == (
        9, "Tester/1", tmp_path)
    for name, part in PARTS.items():
        value = getattr(settings, name)
        assert type(value) is part
        assert all(getattr(value, f.name) == getattr(settings, f.name) for f in dataclasses.fields(part))


def test_a_part_is_immutable() -> None:
    retrieval = Settings(_env_file=None).retrieval  # type: ignore[call-arg]
    with pytest.raises(dataclasses.FrozenInstanceError):
        retrieval.top_k = 10  # type: ignore[misc]
    assert Settings(_env_file=None, top_k=7).retrieval == dataclasses.replace(retrieval, top_k=7)  # type: ignore[call-arg]
