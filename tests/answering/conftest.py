"""Fixtures of the answering tests: the scripted OpenAI-compatible stub as the model."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.openai_stub import OpenAIStub


@pytest.fixture
def stub() -> Iterator[OpenAIStub]:
    with OpenAIStub() as server:
        yield server
