"""Which CLIP to use: model names, config JSONs, checkpoints, the key of the weights."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from finder.config import Environment
from finder.core.models.spec import (
    DEFAULT_MODEL,
    DEFAULT_PRETRAINED,
    ModelSpec,
    ModelUnavailableError,
    resolve_model_spec,
)
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


def test_a_checkpoint_named_as_the_model_uses_the_config_beside_it(tmp_path: Path) -> None:
    from finder.core.models.spec import ModelUnavailableError, resolve_model_spec
    from tests.helpers import TINY_CONFIG

    finder_tiny = TINY_CONFIG.parent / "finder-tiny.pt"
    spec = resolve_model_spec(str(finder_tiny))
    assert spec.name == "finder-tiny" and spec.checkpoint_file == finder_tiny.resolve()
    lone = tmp_path / "lone.pt"
    lone.write_bytes(b"x")
    with pytest.raises(ModelUnavailableError, match="is a checkpoint: name its model"):
        resolve_model_spec(str(lone))
