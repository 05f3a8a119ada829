"""`--model DIR` end to end: a model folder in Immich's layout (no torch needed), and one
written by `finder models export` (torch, checked against it), index and search."""

from __future__ import annotations

import io
import json
from pathlib import Path

from finder import cli
from tests.core.models.ready_fixture import write_model_folder
from tests.helpers import TINY_CONFIG, draw_photo


def _run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def _pictures(folder: Path) -> Path:
    for color in ("red", "green", "blue"):
        draw_photo(folder / f"{color}.png", color)
    return folder


def _index_and_search(model: Path, tmp_path: Path) -> list[dict[str, object]]:
    data = str(tmp_path / "data")
    pictures = _pictures(tmp_path / "pictures")
    # The model before the command, as a global flag, and the data dir after it.
    code, out, err = _run("--model", str(model), "index", str(pictures), "--data-dir", data)
    assert code == 0, err
    code, out, err = _run(
        "--model", str(model), "search", "a red circle", "--json", "--data-dir", data
    )
    assert code == 0, err
    code, status, err = _run("status", "--model", str(model), "--data-dir", data)
    assert code == 0 and "model folder" in status and "ONNX Runtime" in status, status
    results: list[dict[str, object]] = json.loads(out)
    return results


def test_a_folder_in_the_ready_layout_indexes_and_searches(tmp_path: Path) -> None:
    (tmp_path / "pictures").mkdir()
    model = write_model_folder(tmp_path / "my-model")
    results = _index_and_search(model, tmp_path)
    assert len(results) == 3


def test_an_exported_folder_indexes_and_searches(tmp_path: Path) -> None:
    (tmp_path / "pictures").mkdir()
    model = tmp_path / "exported"
    code, out, err = _run("models", "export", str(TINY_CONFIG), str(model), "--pretrained", "none")
    assert code == 0, err
    assert "cosine 1.0" in out or "cosine 0.9999" in out, out
    meta = json.loads((model / "finder.json").read_text())
    assert meta["cosine_vs_torch"] >= 0.9999
    assert len(_index_and_search(model, tmp_path)) == 3
    # A folder that is there already is not written over.
    code, out, err = _run("models", "export", str(TINY_CONFIG), str(model), "--pretrained", "none")
    assert code == 1 and "not empty" in err, err


def test_a_folder_that_is_not_a_model_says_what_it_lacks(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    code, out, err = _run("--model", str(tmp_path / "empty"), "status")
    assert code == 1 and "lacks config.json" in err, err
