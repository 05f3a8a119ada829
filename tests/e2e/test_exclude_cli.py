"""`finder exclude add|remove|list` end to end, and what it does to `finder search` and
`finder index`, with the tiny random model."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.test_cli import run_cli
from tests.helpers import draw_photo, write_text


def _found(data: Path, query: str) -> set[str]:
    code, out, err = run_cli("search", query, "--json", "-k", "20", "--all", data_dir=data)
    assert code == 0, err
    return {Path(r["path"]).name for r in json.loads(out)}


def test_exclude_add_list_remove(tmp_path: Path) -> None:
    pictures, data = tmp_path / "Pictures", tmp_path / "data"
    draw_photo(pictures / "beach.jpg", "blue")
    draw_photo(pictures / "private" / "beach party.jpg", "red")
    write_text(pictures / "build" / "beach.txt", "beach beach beach")
    assert run_cli("index", str(pictures), data_dir=data)[0] == 0
    assert _found(data, "beach") == {"beach.jpg", "beach party.jpg", "beach.txt"}

    code, out, err = run_cli("exclude", "add", "build", data_dir=data)
    assert code == 0, err
    assert "leaving out build in every watched folder" in out
    code, out, err = run_cli("exclude", "add", "private/", "--folder", str(pictures), data_dir=data)
    assert code == 0, err
    assert f"in {pictures.resolve()}" in out
    code, out, _ = run_cli("exclude", "add", "build", data_dir=data)
    assert code == 0 and "already left out" in out

    assert _found(data, "beach") == {"beach.jpg"}  # at once, before any index run

    code, out, _ = run_cli("exclude", "list", "--json", data_dir=data)
    assert code == 0
    assert json.loads(out) == [
        {"pattern": "build", "folder": None},
        {"pattern": "private", "folder": str(pictures.resolve())},
    ]
    code, out, _ = run_cli("exclude", "list", data_dir=data)
    assert code == 0 and "build" in out and "everywhere" in out

    code, out, err = run_cli("index", data_dir=data)
    assert code == 0, err
    assert "2 removed" in out

    code, out, err = run_cli("exclude", "remove", "private", data_dir=data)
    assert code == 1 and "is not left out for every folder" in err  # it is for Pictures
    code, out, err = run_cli(
        "exclude", "remove", "private", "--folder", str(pictures), data_dir=data
    )
    assert code == 0 and "finder index" in out, err
    assert run_cli("index", data_dir=data)[0] == 0
    assert _found(data, "beach") == {"beach.jpg", "beach party.jpg"}


def test_exclude_mistakes_are_one_line(tmp_path: Path) -> None:
    data = tmp_path / "data"
    code, out, err = run_cli(
        "exclude", "add", "raw", "--folder", str(tmp_path / "nope"), data_dir=data
    )
    assert code == 1 and err.startswith("finder: error:") and "not a watched folder" in err
    code, _, err = run_cli("exclude", "add", "  ", data_dir=data)
    assert code == 1 and "names no file or folder" in err
    code, out, _ = run_cli("exclude", "list", data_dir=data)
    assert code == 0 and "nothing is left out" in out
    code, out, _ = run_cli("exclude", "list", "--json", data_dir=data)
    assert code == 0 and json.loads(out) == []
    code, _, err = run_cli("exclude", data_dir=data)  # an action is needed
    assert code == 2
