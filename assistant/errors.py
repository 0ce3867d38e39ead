"""The assistant's exceptions; each message says what to do next.

    AssistantError
    ├── ConfigError       a setting is missing or wrong
    ├── SourceError       a file or record cannot be read as an article
    ├── IndexNotReady     the index is unreachable, empty, or built with another embedding model
    ├── QuestionError     a question is empty, too long, or otherwise unusable
    └── ModelError        the language model failed (down, slow, rate-limited, broken stream)

Bugs stay ValueError / TypeError. Only the edges (CLI, API) render these for people.
"""

from __future__ import annotations


class AssistantError(Exception):
    """Base of every error the assistant reports to a person."""


class ConfigError(AssistantError):
    """A setting is missing or invalid."""


class SourceError(AssistantError):
    """A document cannot be read (binary, broken, empty, unsupported)."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class IndexNotReady(AssistantError):
    """The index cannot be used as it is."""


class QuestionError(AssistantError):
    """The question cannot be answered as asked."""


class ModelError(AssistantError):
    """The language model endpoint failed.

    ``str(error)`` is for the operator (the log): which endpoint, what to change. ``reader`` says what
    happened without naming the server, for the people who read the answers, in English;
    ``for_reader(lang)`` in their language (``reason`` is its key in assistant/languages, with ``values``).
    """

    def __init__(self, message: str, reader: str = "", reason: str = "", **values: str) -> None:
        super().__init__(message)
        self.reason, self.values = reason, values
        self.reader = reader or (self.for_reader("en") if reason else message)

    def for_reader(self, lang: str) -> str:
        """What happened, in the reader's language (the English ``reader`` when there is no ``reason``)."""
        if not self.reason:
            return self.reader
        from assistant.languages import say  # languages reads text, which reads the errors

        return say(self.reason, lang, **self.values)


class DocumentNotFound(AssistantError):
    """No document with that id is in the index."""
