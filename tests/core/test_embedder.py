from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from finder.config import Environment, hub_from_environ
from finder.core.models.spec import (
    DEFAULT_MODEL,
    DEFAULT_PRETRAINED,
    ModelSpec,
    ModelUnavailableError,
    resolve_model_spec,
)
from finder.core.models.torch_runtime import ClipEmbedder
from tests.helpers import TINY_CONFIG


def test_defaults_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = resolve_model_spec()
    assert (spec.name, spec.pretrained) == (DEFAULT_MODEL, DEFAULT_PRETRAINED)
    monkeypatch.setenv("FINDER_MODEL", str(TINY_CONFIG))
    monkeypatch.setenv("FINDER_PRETRAINED", "none")
    environment = Environment.from_environ(os.environ)  # the front ends' reading of it
    spec = resolve_model_spec(environment.model, environment.pretrained)
    assert spec.name == "tiny-random" and spec.is_random
    assert spec.key == "tiny-random@random-seed0"


def test_config_json_finds_checkpoint_beside_it(tmp_path: Path) -> None:
    config = tmp_path / "mini.json"
    shutil.copy(TINY_CONFIG, config)
    with pytest.raises(ModelUnavailableError, match="no checkpoint beside"):
        resolve_model_spec(str(config))
    (tmp_path / "mini.pt").write_bytes(b"weights")
    spec = resolve_model_spec(str(config))
    assert spec.checkpoint_file == tmp_path / "mini.pt"
    assert spec.key.startswith("mini@file-mini-")


def test_checkpoint_key_changes_with_the_weights(tmp_path: Path) -> None:
    ckpt = tmp_path / "w.pt"
    ckpt.write_bytes(b"a" * 100)
    first = ModelSpec("ViT-B-32", str(ckpt)).key
    ckpt.write_bytes(b"b" * 100)
    assert ModelSpec("ViT-B-32", str(ckpt)).key != first


def test_missing_files_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailableError, match="does not exist"):
        resolve_model_spec(str(tmp_path / "nope.json"))
    with pytest.raises(ModelUnavailableError, match="does not exist"):
        resolve_model_spec("ViT-B-32", str(tmp_path / "nope.pt"))


def test_missing_weights_fail_fast_with_model_and_location() -> None:
    # HOME is a fresh temp dir (conftest), so the Hugging Face cache is empty.
    embedder = ClipEmbedder(
        resolve_model_spec(DEFAULT_MODEL, DEFAULT_PRETRAINED), hub=hub_from_environ(os.environ)
    )
    started = time.monotonic()
    with pytest.raises(ModelUnavailableError) as info:
        embedder.load()
    assert time.monotonic() - started < 30  # no network retries
    message = str(info.value)
    assert "ViT-B-32" in message and "laion2b_s34b_b79k" in message
    assert "Hugging Face cache" in message and "--pretrained" in message
    with pytest.raises(ModelUnavailableError, match="no network|download"):
        embedder.download()  # HF_HUB_OFFLINE=1 in tests


def test_unknown_tag_lists_known_ones() -> None:
    with pytest.raises(ModelUnavailableError, match="known tags: .*laion2b"):
        ClipEmbedder(ModelSpec("ViT-B-32", "no-such-tag")).load()


def test_embeddings_are_normalised_float32(tiny_embedder: ClipEmbedder) -> None:
    texts = tiny_embedder.encode_texts(["a red circle", "an invoice", "x"])
    images = tiny_embedder.encode_images(
        [tiny_embedder.preprocess(Image.new("RGB", (50, 80), c)) for c in ("red", "blue")]
    )
    for out, rows in ((texts, 3), (images, 2)):
        assert out.dtype == np.float32 and out.shape == (rows, tiny_embedder.dim)
        assert np.allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)
    assert tiny_embedder.encode_texts([]).shape == (0, tiny_embedder.dim)


def test_random_weights_are_the_same_in_every_process(
    tiny_spec: ModelSpec, tiny_embedder: ClipEmbedder
) -> None:
    # Indexing and searching run in different processes: the random model must match.
    again = ClipEmbedder(tiny_spec)
    np.testing.assert_allclose(
        again.encode_texts(["hello"]), tiny_embedder.encode_texts(["hello"]), atol=1e-6
    )


def test_checkpoint_file_is_loaded(tmp_path: Path, tiny_embedder: ClipEmbedder) -> None:
    import torch

    config = tmp_path / "saved-tiny.json"
    shutil.copy(TINY_CONFIG, config)
    torch.save(tiny_embedder._model.state_dict(), tmp_path / "saved-tiny.pt")
    loaded = ClipEmbedder(resolve_model_spec(str(config)))
    np.testing.assert_allclose(
        loaded.encode_texts(["a dog"]), tiny_embedder.encode_texts(["a dog"]), atol=1e-5
    )
    (tmp_path / "saved-tiny.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ModelUnavailableError, match="cannot load"):
        ClipEmbedder(resolve_model_spec(str(config))).load()
