"""A small library indexed by the CLI with the trained tiny model (finder-tiny), shared by
the LangChain and MCP tests; the model is named the way users name it, by FINDER_MODEL
and FINDER_PRETRAINED."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from finder import cli
from tests.helpers import draw_photo, write_pdf, write_text

MODELS = Path(__file__).resolve().parent.parent / "models"
FINDER_TINY = {
    "FINDER_MODEL": str(MODELS / "finder-tiny.json"),
    "FINDER_PRETRAINED": str(MODELS / "finder-tiny.pt"),
    # The index runs on torch: no one-time ONNX export (a minute on a busy machine);
    # tests/core/models/test_export.py covers the export of this model.
    "FINDER_BACKEND": "torch",
}


def build_library(root: Path) -> tuple[Path, Path]:
    """(the folder of files, the data dir) with photos, a note and a PDF indexed."""
    files, data = root / "files", root / "data"
    for color in ("red", "green", "blue", "yellow"):
        draw_photo(files / f"{color}.png", color)
        draw_photo(files / f"{color}-square.png", color, shape="square")
    write_text(files / "note.txt", "a red circle drawn on a white page")
    write_pdf(files / "tax.pdf", ["tax return 2023", "deductions and income"])
    out, err = io.StringIO(), io.StringIO()
    args = ["index", str(files), "--data-dir", str(data), "--no-ocr", "-q"]
    args += [
        "--model",
        FINDER_TINY["FINDER_MODEL"],
        "--pretrained",
        FINDER_TINY["FINDER_PRETRAINED"],
    ]
    code = cli.main([*args, "--backend", "torch"], stdout=out, stderr=err)
    assert code == 0, err.getvalue()
    return files, data


@pytest.fixture(scope="session")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return build_library(tmp_path_factory.mktemp("library"))


@pytest.fixture
def finder_tiny(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in FINDER_TINY.items():
        monkeypatch.setenv(name, value)
