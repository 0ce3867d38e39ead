"""Fixtures of the ingest tests: the local test site (pages, feeds, robots.txt) on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.web_server import Site, serve_site


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    with serve_site() as running:
        yield running
