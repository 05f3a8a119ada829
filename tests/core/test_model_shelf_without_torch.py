"""Without the torch extra, what needs torch says so in one line (a checkpoint, an export),
and the runtime line says there is none yet; a model folder still runs (tests/e2e)."""

from __future__ import annotations

from pathlib import Path

import pytest

from finder.core import model_shelf
from finder.core.models import torch_runtime
from finder.core.models.spec import ModelSpec, ModelUnavailableError
from finder.core.models.torch_runtime import ClipEmbedder


@pytest.fixture
def no_torch(monkeypatch: pytest.MonkeyPatch) -> None:
    for module in (model_shelf, torch_runtime):
        monkeypatch.setattr(module, "torch_installed", lambda: False)


@pytest.mark.usefixtures("no_torch")
def test_what_needs_torch_says_install_finder_torch(tiny_spec: ModelSpec, tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailableError, match=r"install finder\[torch\]"):
        ClipEmbedder(tiny_spec).load()
    with pytest.raises(ModelUnavailableError, match=r"exporting .* needs torch.*finder\[torch\]"):
        model_shelf.export_model(tiny_spec, tmp_path / "folder")
    assert not (tmp_path / "folder").exists()
    assert "torch is not installed" in model_shelf.runtime_of(ClipEmbedder(tiny_spec)).detail
