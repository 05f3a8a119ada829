"""`finder index` and `finder search` with the default model before its weights are
downloaded: names and text are indexed and found by keywords, with a note, exit 0."""

from __future__ import annotations

import io
from pathlib import Path

from finder import cli
from tests.helpers import draw_photo, write_text


def run_cli(*args: str, data_dir: Path) -> tuple[int, str, str]:
    """The default model; the tests' home has an empty weights cache."""
    out, err = io.StringIO(), io.StringIO()
    code = cli.main([args[0], "--data-dir", str(data_dir), *args[1:]], stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_index_and_search_without_the_models_weights(tmp_path: Path) -> None:
    folder = tmp_path / "Stuff"
    draw_photo(folder / "green_star.png", "green")
    write_text(folder / "letter.txt", "the plumber's invoice for the kitchen sink")
    data = tmp_path / "data"

    code, out, err = run_cli("index", "--no-ocr", str(folder), data_dir=data)
    assert code == 0, err
    assert "2 added" in out
    assert "Meaning search waits for the CLIP model" in out
    assert "finder models download ViT-B-32@laion2b_s34b_b79k" in out

    code, out, err = run_cli("search", "plumber", data_dir=data)
    assert code == 0, err
    assert "letter.txt" in out and "Meaning search waits" in err
    code, out, err = run_cli("search", "star", data_dir=data)
    assert code == 0, err
    assert "green_star.png" in out
