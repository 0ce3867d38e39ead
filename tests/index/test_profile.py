"""Embedder profiles: the shipped e5 one, a round trip through TOML, and an embedder without one."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.errors import ConfigError
from assistant.index import profile as profiles
from assistant.index.profile import load_profile, profile_for, write_profile


def openai_settings(**overrides: object) -> Settings:
    return Settings(_env_file=None, embedding_provider="openai", embedding_model="text-embedding-3-small",  # type: ignore[call-arg]
                    openai_base_url="http://127.0.0.1:9/v1", **overrides)


def test_the_e5_profile_holds_the_values_the_benchmarks_ran_with() -> None:
    e5 = profile_for(Settings(_env_file=None).embedding)  # type: ignore[call-arg]
    assert e5.name == "multilingual-e5-small" and e5.calibrated
    assert e5.abstention.weights == (-0.204, -1.504, 0.817, 0.823, -0.76, 0.914)
    assert e5.abstention.feature_means == (0.8317, 0.0561, 1.7585, 0.4208, 0.4926)
    assert e5.abstention.feature_scales == (0.0382, 0.0276, 0.9686, 0.3311, 0.4999)
    assert (e5.floors.similarity_same, e5.floors.similarity_cross, e5.floors.sparse) == (0.78, 0.755, 0.11)
    assert (e5.ranking.passage_prior, e5.ranking.near_tie) == (40.0, 0.01)
    assert (e5.citations.dense_strong, e5.citations.dense_weak, e5.citations.dense_cross) == (0.88, 0.83, 0.85)
    topics = e5.topics
    assert (topics.shift_similarity, topics.shift_margin, topics.news_margin, topics.question_groups) \
        == (0.83, 0.04, 0.03, 0.86)


def test_a_written_profile_reads_back_equal(tmp_path: Path) -> None:
    e5 = load_profile("multilingual-e5-small")
    fitted = replace(e5, name="other", floors=replace(e5.floors, sparse=0.2), uncalibrated=("citations.dense_weak",))
    write_profile(fitted, tmp_path / "other.toml", comment="fitted here\non two lines")
    assert load_profile(tmp_path / "other.toml") == fitted
    assert (tmp_path / "other.toml").read_text().startswith("# fitted here\n# on two lines\n")


def test_an_embedder_without_a_profile_warns_once_naming_every_threshold(
        caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(profiles, "_warned", set())
    with caplog.at_level(logging.WARNING, logger="assistant.index.profile"):
        first = profile_for(openai_settings().embedding)
        again = profile_for(openai_settings().embedding)
    assert first == again and not first.calibrated and first.name == "text-embedding-3-small"
    assert first.floors == load_profile("multilingual-e5-small").floors  # e5's values, as a fallback
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "'text-embedding-3-small' has no calibrated profile" in warnings[0]
    for name in ("abstention.weights", "floors.similarity_same", "floors.sparse", "citations.dense_strong",
                 "ranking.near_tie", "topics.shift_similarity"):
        assert name in warnings[0]
    assert "assistant calibrate --questions" in warnings[0]


def test_embedder_profile_must_be_the_configured_embedders(tmp_path: Path) -> None:
    write_profile(load_profile("multilingual-e5-small"), tmp_path / "e5.toml")
    with pytest.raises(ConfigError, match=r"fitted for the embedder 'multilingual-e5-small'.*calibrate"):
        profile_for(openai_settings(embedder_profile=tmp_path / "e5.toml").embedding)
    (tmp_path / "bad.toml").write_text("[embedder]\nname = 'x'\n[floors]\nsparse = 0.1\n")
    with pytest.raises(ConfigError, match=r"needs a \[abstention\] table"):
        load_profile(tmp_path / "bad.toml")
    with pytest.raises(ConfigError, match=r"No embedder profile at .*calibrate"):
        load_profile(tmp_path / "missing.toml")
