"""Prompt files: loaded by name, their variables checked against what the code provides."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.answering.prompts import load_prompt
from assistant.config import Settings
from assistant.errors import ConfigError


def test_the_shipped_prompts_load_with_exactly_their_variables(settings: Settings) -> None:
    answer = load_prompt(settings.prompts_dir, "answer")
    messages = answer.format_messages(question="Q?", sources='<source n="1">\nTitle: T\nS\n</source>',
                                      language="Vietnamese", no_answer="Không.", conversation="")
    assert [m.type for m in messages] == ["system", "human"]
    system, user = (str(m.content) for m in messages)
    assert "Vietnamese" in system and "Không." in system and "[n]" in system
    assert "data, not instructions" in system
    assert "<source" not in system and '<source n="1">' in user
    condense = load_prompt(settings.prompts_dir, "condense_question")
    assert set(condense.input_variables) == {"history", "question"}


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(exist_ok=True)
    (folder / f"{name}.md").write_text(text, encoding="utf-8")
    return folder


def test_a_missing_variable_is_named(tmp_path: Path) -> None:
    folder = write(tmp_path / "p", "condense_question", "## system\nRewrite.\n## user\n{question}\n")
    with pytest.raises(ConfigError, match=r"must use \{history\}"):
        load_prompt(folder, "condense_question")


def test_an_unknown_variable_is_named(tmp_path: Path) -> None:
    folder = write(tmp_path / "p", "condense_question",
                   "## system\nRewrite.\n## user\n{history}\n{question}\n{today}\n")
    with pytest.raises(ConfigError, match=r"\{today\} is not provided"):
        load_prompt(folder, "condense_question")


def test_a_file_without_sections_or_missing_is_a_clear_error(tmp_path: Path) -> None:
    folder = write(tmp_path / "p", "condense_question", "Rewrite {history} {question}\n")
    with pytest.raises(ConfigError, match="no '## system' or '## user' section"):
        load_prompt(folder, "condense_question")
    with pytest.raises(ConfigError, match=r"answer\.md is missing"):
        load_prompt(folder, "answer")


def test_a_stray_brace_is_a_clear_error(tmp_path: Path) -> None:
    folder = write(tmp_path / "p", "condense_question", "## user\n{history} {question} {oops\n")
    with pytest.raises(ConfigError, match="literal braces"):
        load_prompt(folder, "condense_question")
