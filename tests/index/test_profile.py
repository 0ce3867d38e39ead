"""Embedder profiles: the shipped e5 one, a round trip through TOML, and an embedder without one."""

from __future__ import annotations

import logging
import tomllib
from dataclasses import asdict, replace
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.errors import ConfigError
from assistant.index import profile as profiles
from assistant.index.profile import load_profile, profile_for, write_profile


def openai_settings(**overrides: object) -> Settings:
    return Settings(_env_file=None, embedding_provider="openai", embedding_model="text-embedding-3-small",  # type: ignore[call-arg]
                    openai_base_url="http://127.0.0.1:9/v1", **overrides)


def test_the_e5_profile_is_the_one_shipped_beside_it_value_for_value() -> None:
    """The default embedder reads its file's every threshold (BENCHMARKS.md names the values)."""
    e5 = profile_for(Settings(_env_file=None).embedding)  # type: ignore[call-arg]
    shipped = tomllib.loads((profiles.PROFILES / "multilingual-e5-small.toml").read_text(encoding="utf-8"))
    assert e5.name == "multilingual-e5-small" and e5.calibrated
    assert list(e5.abstention.weights) == shipped["abstention"]["weights"]
    assert list(e5.abstention.feature_means) == shipped["abstention"]["feature_means"]
    assert list(e5.abstention.feature_scales) == shipped["abstention"]["feature_scales"]
    assert len(e5.abstention.weights) == len(e5.abstention.feature_means) + 1  # a bias, then one per feature
    for section in ("floors", "ranking", "citations", "topics"):
        assert asdict(getattr(e5, section)) == shipped[section], section


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


def test_the_e5_profile_has_its_answer_kind_model_and_a_borrowed_profile_none(tmp_path: Path) -> None:
    """The model reads e5's vectors: another embedder borrowing e5's thresholds must not read its
    vectors with it; a model read back is the one written; one fitted for other vectors says so."""
    e5 = load_profile("multilingual-e5-small")
    assert e5.answer_kinds is not None and e5.answer_kinds.means.shape == (384,)
    assert "number" in e5.answer_kinds.kinds and "" in e5.answer_kinds.kinds
    assert profile_for(openai_settings().embedding).answer_kinds is None
    write_profile(e5, tmp_path / "copy.toml")
    profiles.write_answer_kinds(e5.answer_kinds, profiles.kinds_path(tmp_path / "copy.toml"))
    again = load_profile(tmp_path / "copy.toml").answer_kinds
    assert again is not None and again.kinds == e5.answer_kinds.kinds
    assert again.threshold == pytest.approx(e5.answer_kinds.threshold)
    vector = [0.05] * 384
    assert again.probabilities(vector) == pytest.approx(e5.answer_kinds.probabilities(vector))
    with pytest.raises(ConfigError, match="384 dimensions, the embedder's vectors 1536"):
        e5.answer_kinds.predict([0.0] * 1536)
    profiles.kinds_path(tmp_path / "copy.toml").write_bytes(b"not a model")
    with pytest.raises(ConfigError, match=r"cannot be read.*fit_answer_kinds"):
        load_profile(tmp_path / "copy.toml")


def test_a_profile_without_the_abstention_languages_reads_every_language_as_fitted(tmp_path: Path) -> None:
    """`languages` is optional (profiles written before it, or by a fit that did not record them)."""
    shipped = (profiles.PROFILES / "multilingual-e5-small.toml").read_text(encoding="utf-8")
    assert 'languages = ["de", "en", "ru", "vi"]' in shipped
    (tmp_path / "old.toml").write_text(shipped.replace('languages = ["de", "en", "ru", "vi"]\n', ""))
    old = load_profile(tmp_path / "old.toml").abstention
    assert old.languages == () and old.fitted_on("ja") and old.fitted_on("en")
    e5 = load_profile("multilingual-e5-small").abstention
    assert e5.fitted_on("ru") and not e5.fitted_on("ja")
    (tmp_path / "extra.toml").write_text(shipped.replace("[abstention]\n", "[abstention]\nsurprise = 1\n"))
    with pytest.raises(ConfigError, match=r"\[abstention\] table with exactly weights.*optionally languages"):
        load_profile(tmp_path / "extra.toml")
