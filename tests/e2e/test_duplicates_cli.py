"""`finder duplicates` end to end: resized and recompressed copies of photos grouped with
their original, the keeper marked, the space of the copies; other pictures left alone."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from PIL import Image

from tests.e2e.test_cli import run_cli
from tests.helpers import draw_photo


def _library(tmp_path: Path) -> tuple[Path, dict[str, Path]]:
    photos = tmp_path / "Pictures"
    original = draw_photo(photos / "2019" / "lisbon.png", "red", size=(800, 600))
    picture = Image.open(original).convert("RGB")
    copies = photos / "exports"
    copies.mkdir(parents=True)
    picture.resize((400, 300), Image.Resampling.LANCZOS).save(copies / "lisbon-small.jpg")
    picture.save(copies / "lisbon-q40.jpg", quality=40)
    shutil.copyfile(original, photos / "lisbon-backup.png")
    for colour in ("blue", "green"):
        draw_photo(photos / f"{colour}.png", colour, size=(800, 600))
    draw_photo(photos / "square.png", "red", size=(800, 600), shape="rectangle")
    files = {
        "original": original,
        "small": copies / "lisbon-small.jpg",
        "q40": copies / "lisbon-q40.jpg",
        "backup": photos / "lisbon-backup.png",
    }
    return photos, files


def test_duplicates_json_and_text(tmp_path: Path) -> None:
    photos, files = _library(tmp_path)
    data = tmp_path / "data"
    code, _, err = run_cli("index", str(photos), data_dir=data)
    assert code == 0, err

    code, out, err = run_cli("duplicates", "--json", data_dir=data)
    assert code == 0, err
    groups = json.loads(out)
    assert len(groups) == 1
    group = groups[0]
    assert {Path(f["path"]).name for f in group["files"]} == {p.name for p in files.values()}
    assert Path(group["keep"]).name in {"lisbon.png", "lisbon-backup.png"}  # largest, PNG
    assert [f["keep"] for f in group["files"]] == [True, False, False, False]
    assert group["reclaimable_bytes"] == sum(f["size"] for f in group["files"][1:])
    assert len(group["copies"]) == 3 and group["exact"] is False

    code, out, err = run_cli("duplicates", data_dir=data)
    assert code == 0, err
    assert "1 group of duplicates (4 files)" in out
    assert "keep" in out and "lisbon-q40.jpg" in out and "square.png" not in out
    for path in files.values():  # nothing touched
        assert path.exists()

    code, out, _ = run_cli("search", "a red circle", "--json", data_dir=data)
    assert code == 0
    shown = json.loads(out)
    names = [Path(r["path"]).name for r in shown]
    lisbon = [r for r in shown if Path(r["path"]).name in {p.name for p in files.values()}]
    assert len(lisbon) == 1, names
    assert len(lisbon[0]["copies"]) == 3
    code, out, _ = run_cli("search", "a red circle", data_dir=data)
    assert code == 0 and "+3 copies: " in out and "lisbon-q40.jpg" in out


def test_no_duplicates_says_so(tmp_path: Path) -> None:
    photos = tmp_path / "Pictures"
    for colour in ("red", "blue"):
        draw_photo(photos / f"{colour}.png", colour)
    data = tmp_path / "data"
    assert run_cli("index", str(photos), data_dir=data)[0] == 0
    code, out, _ = run_cli("duplicates", data_dir=data)
    assert code == 0 and "No duplicates" in out
    code, out, _ = run_cli("duplicates", "--json", data_dir=data)
    assert code == 0 and json.loads(out) == []
