"""The CLI prints a file whose name is not valid UTF-8 (text and --json) without
crashing, on an output as strict as a UTF-8 terminal's."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

from finder import cli
from tests.helpers import TINY_CONFIG, draw_photo


def run_strict(*args: str, data_dir: Path) -> tuple[int, str]:
    raw = io.BytesIO()
    out = io.TextIOWrapper(raw, encoding="utf-8", errors="strict")
    common = ["--data-dir", str(data_dir), "--model", str(TINY_CONFIG), "--pretrained", "none"]
    code = cli.main([args[0], *common, *args[1:]], stdout=out, stderr=io.StringIO())
    out.flush()
    return code, raw.getvalue().decode("utf-8")


def test_search_prints_an_undecodable_name(tmp_path: Path) -> None:
    root = tmp_path / "old-drive"
    draw_photo(root / "tmp.jpg", "red")
    os.rename(os.fsencode(root / "tmp.jpg"), os.path.join(os.fsencode(root), b"caf\xe9.jpg"))
    data = tmp_path / "data"
    code, out = run_strict("index", str(root), data_dir=data)
    assert code == 0 and "1 added" in out, out

    code, out = run_strict("search", "caf", data_dir=data)
    assert code == 0
    assert "caf\ufffd.jpg" in out

    code, out = run_strict("search", "caf", "--json", data_dir=data)
    assert code == 0
    paths = [r["path"] for r in json.loads(out)]
    assert str(root / "caf\ufffd.jpg") in paths

    code, out = run_strict("status", "--json", data_dir=data)
    assert code == 0 and json.loads(out)["photos"] == 1
