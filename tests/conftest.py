from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from finder.core.library import Library
from finder.core.models.spec import ModelSpec, resolve_model_spec
from finder.core.models.torch_runtime import ClipEmbedder
from tests.helpers import TINY24_CONFIG, TINY_CONFIG


@pytest.fixture(autouse=True)
def _isolated_environment(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No real home directory, no network, no settings leaking in from the shell."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    for name in ("FINDER_DATA_DIR", "FINDER_MODEL", "FINDER_PRETRAINED", "FINDER_PRECISION"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def tiny_spec() -> ModelSpec:
    return resolve_model_spec(str(TINY_CONFIG), "none")


def _loaded(spec: ModelSpec) -> ClipEmbedder:
    embedder = ClipEmbedder(spec, threads=2)
    embedder.load()
    return embedder


@pytest.fixture(scope="session")
def tiny_embedder(tiny_spec: ModelSpec) -> ClipEmbedder:
    """A randomly initialised tiny OpenCLIP model: real code paths, meaningless vectors."""
    return _loaded(tiny_spec)


@pytest.fixture(scope="session")
def tiny24_spec() -> ModelSpec:
    """A second tiny model, of another embedding size: for switching and comparing."""
    return resolve_model_spec(str(TINY24_CONFIG), "none")


@pytest.fixture(scope="session")
def tiny24_embedder(tiny24_spec: ModelSpec) -> ClipEmbedder:
    return _loaded(tiny24_spec)


class CountingEmbedder:
    """Wraps the real embedder and counts what it is asked to encode."""

    def __init__(self, inner: ClipEmbedder) -> None:
        self.inner = inner
        self.images = 0
        self.texts = 0

    @property
    def key(self) -> str:
        return self.inner.key

    @property
    def dim(self) -> int:
        return self.inner.dim

    @property
    def description(self) -> str:
        return self.inner.description

    def load(self) -> None:
        self.inner.load()

    def preprocess(self, image: Any) -> Any:
        return self.inner.preprocess(image)

    def encode_images(self, batch: Sequence[Any]) -> np.ndarray:
        self.images += len(batch)
        return self.inner.encode_images(batch)

    def encode_texts(self, texts: Sequence[str]) -> np.ndarray:
        self.texts += len(texts)
        return self.inner.encode_texts(texts)

    def reset(self) -> None:
        self.images = self.texts = 0


@pytest.fixture
def counting_embedder(tiny_embedder: ClipEmbedder) -> CountingEmbedder:
    return CountingEmbedder(tiny_embedder)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "finder-data"


@pytest.fixture
def library(data_dir: Path, counting_embedder: CountingEmbedder) -> Iterator[Library]:
    lib = Library(data_dir, counting_embedder, writable=True)
    yield lib
    lib.close()


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
