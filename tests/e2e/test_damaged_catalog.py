"""A damaged or emptied catalog is one clear line from the CLI, never a traceback, and
never a silent fresh start that drops the old vector index (issue #15 items 8 and 9)."""

from __future__ import annotations

import io
import shutil
import sqlite3
from pathlib import Path

import pytest

from finder import cli
from finder.core.library import Library
from finder.core.store.layout import CATALOG_FILE, INDEX_DIR
from tests.conftest import CountingEmbedder
from tests.helpers import TINY_CONFIG, draw_photo, write_text


def _run_cli(*args: str, data_dir: Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(
        [
            args[0],
            "--data-dir",
            str(data_dir),
            "--model",
            str(TINY_CONFIG),
            "--pretrained",
            "none",
            *args[1:],
        ],
        stdout=out,
        stderr=err,
    )
    return code, out.getvalue(), err.getvalue()


def _folder(tmp_path: Path) -> Path:
    root = tmp_path / "stuff"
    for i in range(12):
        write_text(root / f"note{i}.txt", f"note number {i} about the garden " * 10)
    for color in ("red", "green", "blue"):
        draw_photo(root / f"{color}.png", color)
    return root


@pytest.fixture
def indexed(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    code, _, err = _run_cli("index", str(_folder(tmp_path)), data_dir=data)
    assert code == 0, err
    return data


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def _one_clear_line(err: str, *words: str) -> str:
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert last.startswith("finder: error: the catalog ")
    for word in words:
        assert word in last
    return last


def _damage_page(catalog: Path, table: str) -> None:
    """Scribble over the first page of a table's b-tree, as a bad disk sector would."""
    db = sqlite3.connect(catalog)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    page = db.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0]
    size = db.execute("PRAGMA page_size").fetchone()[0]
    db.close()
    with open(catalog, "r+b") as f:
        f.seek((page - 1) * size)
        f.write(b"\x0d\xff\xff\xff" * 64)


@pytest.mark.parametrize("table", ["files", "items", "roots"])
def test_a_damaged_catalog_page_is_one_line_saying_what_to_do(indexed: Path, table: str) -> None:
    _damage_page(indexed / CATALOG_FILE, table)
    for command in (("status",), ("index",), ("search", "garden")):
        code, _, err = _run_cli(*command, data_dir=indexed)
        assert code == 1, (command, err)
        line = _one_clear_line(err, "is damaged", "from a backup", "finder index")
        assert str(indexed / CATALOG_FILE) in line


def test_a_catalog_that_is_not_a_database_is_one_line(indexed: Path) -> None:
    catalog = indexed / CATALOG_FILE
    with open(catalog, "r+b") as f:
        f.write(b"this is no longer an SQLite file" * 4)
    for command in (("status",), ("index",)):
        code, _, err = _run_cli(*command, data_dir=indexed)
        assert code == 1
        _one_clear_line(err, "is damaged")


def test_a_catalog_truncated_to_nothing_is_reported_and_the_index_kept(indexed: Path) -> None:
    index = indexed / INDEX_DIR
    before = _snapshot(index)
    assert before
    (indexed / CATALOG_FILE).write_bytes(b"")
    for command in (("status",), ("index",), ("search", "garden"), ("status", "--json")):
        code, out, err = _run_cli(*command, data_dir=indexed)
        assert code == 1, (command, out, err)
        line = _one_clear_line(err, "lost what it had", " items (", f"mv {index} {index}.old")
        assert "folders none yet" not in out and "0 files seen" not in out, line
    assert _snapshot(index) == before  # nothing of the old index was dropped

    # The way out it names: set the old index aside, index the folders again.
    shutil.move(index, indexed / "index.old")
    code, out, err = _run_cli("index", str(indexed.parent / "stuff"), data_dir=indexed)
    assert code == 0, err
    assert _run_cli("status", data_dir=indexed)[0] == 0


def test_a_first_run_whose_wal_was_lost_is_reported(
    tmp_path: Path, counting_embedder: CountingEmbedder
) -> None:
    data = tmp_path / "data"
    catalog = data / CATALOG_FILE
    library = Library(data, counting_embedder, writable=True)
    try:
        library.add_folder(_folder(tmp_path))
        library.index()  # commits go to the -wal file; the index is saved
        assert Path(f"{catalog}-wal").stat().st_size > 0
        before_checkpoint = catalog.read_bytes()  # what a kill would leave in the file
    finally:
        library.close()
    catalog.write_bytes(before_checkpoint)
    for suffix in ("-wal", "-shm"):
        Path(f"{catalog}{suffix}").unlink(missing_ok=True)
    code, out, err = _run_cli("status", data_dir=data)
    assert code == 1, out
    _one_clear_line(err, "lost what it had")
    code, out, err = _run_cli("index", data_dir=data)
    assert code == 1 and "0 files seen" not in out
    _one_clear_line(err, "lost what it had")
