"""Fixtures of the web tests: a real server per test (``serve``), shared by every module here."""

from tests.web.test_app import serve

__all__ = ["serve"]
