"""Prompts as files: ``prompts/<name>.md`` → a LangChain ChatPromptTemplate with checked variables.

A prompt file is Markdown whose ``## system`` and ``## user`` headings start the messages (text
before the first heading is a note for people and is not sent). Variables are ``{name}``; a
literal brace is ``{{`` or ``}}``.

    template = load_prompt(settings.prompts_dir, "answer")
    messages = template.format_messages(question=..., sources=..., language=..., no_answer=...)
"""

from __future__ import annotations

import re
from pathlib import Path

from langchain_core.prompts import ChatPromptTemplate

from assistant.errors import ConfigError

# The variables each prompt must use, exactly: a prompt that leaves one out (or asks for one the
# code does not provide) fails when it is loaded, not in the middle of a conversation.
PROMPT_VARIABLES: dict[str, frozenset[str]] = {
    "answer": frozenset({"question", "sources", "language", "no_answer", "conversation"}),
    "condense_question": frozenset({"history", "question"}),
    "judge": frozenset({"question"}),
}
HEADING = re.compile(r"^##\s+(system|user)\s*$", re.IGNORECASE | re.MULTILINE)
ROLES = {"system": "system", "user": "human"}


def load_prompt(prompts_dir: Path, name: str) -> ChatPromptTemplate:
    """The prompt ``name`` from ``prompts_dir``; a ConfigError says what is wrong with the file."""
    path = prompts_dir / f"{name}.md"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(f"The prompt file {path} is missing; restore it or set PROMPTS_DIR.") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"The prompt file {path} cannot be read as UTF-8 text: {exc}") from exc
    messages = parse_messages(text, path)
    try:
        template = ChatPromptTemplate.from_messages(messages)
    except (ValueError, KeyError) as exc:
        raise ConfigError(f"The prompt file {path} is not a valid template ({exc}); "
                          "write literal braces as {{ and }}.") from exc
    expected = PROMPT_VARIABLES.get(name)
    if expected is not None:
        found = set(template.input_variables)
        missing, unknown = sorted(expected - found), sorted(found - expected)
        if missing or unknown:
            problems = []
            if missing:
                problems.append(f"it must use {', '.join('{' + v + '}' for v in missing)}")
            if unknown:
                problems.append(f"{', '.join('{' + v + '}' for v in unknown)} is not provided")
            raise ConfigError(f"The prompt file {path} does not fit the code: {'; '.join(problems)}.")
    return template


def parse_messages(text: str, path: Path) -> list[tuple[str, str]]:
    """(role, template) pairs from the ``## system`` / ``## user`` sections of a prompt file."""
    headings = list(HEADING.finditer(text))
    if not headings:
        raise ConfigError(f"The prompt file {path} has no '## system' or '## user' section.")
    messages = []
    for number, heading in enumerate(headings):
        end = headings[number + 1].start() if number + 1 < len(headings) else len(text)
        body = text[heading.end():end].strip()
        if not body:
            raise ConfigError(f"The '## {heading.group(1)}' section of {path} is empty.")
        messages.append((ROLES[heading.group(1).lower()], body))
    if messages[-1][0] != "human":
        raise ConfigError(f"The prompt file {path} must end with a '## user' section.")
    return messages
