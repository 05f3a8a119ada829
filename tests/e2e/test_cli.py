"""The CLI end to end, on folders the tests generate, with the tiny random model."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from finder import cli
from tests.helpers import TINY_CONFIG, draw_photo, write_encrypted_pdf, write_pdf, write_text


def run_cli(*args: str, data_dir: Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(
        ["--help"]
        if not args
        else [
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


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path]:
    photos, docs = tmp_path / "Pictures", tmp_path / "Documents"
    for color in ("red", "green", "blue"):
        draw_photo(photos / f"{color}.jpg", color)
    (photos / "broken.jpg").write_bytes(b"\xff\xd8\xff garbage")
    write_text(docs / "receipt.txt", "receipt from the hardware store")
    write_pdf(docs / "tax.pdf", ["tax return 2023", "deductions and income"])
    write_encrypted_pdf(docs / "locked.pdf", "private")
    return photos, docs


def test_index_search_status_in_process(folders: tuple[Path, Path], tmp_path: Path) -> None:
    photos, docs = folders
    data = tmp_path / "data"
    code, out, err = run_cli("index", str(photos), str(docs), data_dir=data)
    assert code == 0, err
    assert "5 added" in out and "2 could not be indexed" in out
    assert "broken.jpg" in out and "encrypted PDF" in out
    assert "random model weights" in err  # the loud warning

    code, out, _ = run_cli("index", data_dir=data)
    assert code == 0 and "0 added" in out and "7 unchanged" in out

    code, out, _ = run_cli(
        "search", "tax return 2023", "--kind", "docs", "--json", "-k", "5", data_dir=data
    )
    results = json.loads(out)
    assert code == 0 and {Path(r["path"]).name for r in results} == {"receipt.txt", "tax.pdf"}
    for r in results:
        assert r["kind"] == "document" and isinstance(r["score"], float)
        assert r["snippet"] and "page" in r
    assert next(r for r in results if r["path"].endswith("tax.pdf"))["page"] in (1, 2)

    code, out, _ = run_cli(
        "search", "--image", str(photos / "red.jpg"), "--kind", "photos", "--json", data_dir=data
    )
    results = json.loads(out)
    assert results[0]["path"] == str(photos / "red.jpg") and results[0]["kind"] == "photo"
    assert "snippet" not in results[0]

    code, out, _ = run_cli("search", "a red circle", "-k", "3", data_dir=data)
    assert (
        code == 0
        and len([ln for ln in out.splitlines() if ln.strip()[:2].rstrip(".").isdigit()]) == 3
    )

    code, out, _ = run_cli("status", data_dir=data)
    assert code == 0
    assert "3 photos, 2 documents" in out and "2 files could not be read" in out
    assert str(photos) in out and "random weights" in out

    code, out, _ = run_cli("status", "--json", data_dir=data)
    status = json.loads(out)
    assert status["vectors"] == {"image": 3 + 2, "text": 3}  # photos, tax.pdf's 2 pages

    code, out, _ = run_cli("remove", str(photos), data_dir=data)
    assert code == 0 and "untouched" in out
    assert (photos / "red.jpg").exists()
    code, out, _ = run_cli("search", "red", "--kind", "photos", "--json", data_dir=data)
    assert json.loads(out) == []


def test_bad_arguments_and_failures_exit_nonzero(tmp_path: Path) -> None:
    data = tmp_path / "data"
    code, _, err = run_cli("search", data_dir=data)
    assert code == 2 and "either a text query or --image" in err
    code, _, err = run_cli("search", "x", "-k", "0", data_dir=data)
    assert code == 2
    code, _, err = run_cli("index", str(tmp_path / "missing"), data_dir=data)
    assert code == 1 and err.strip().endswith("no such folder")
    code, _, err = run_cli("search", "--image", str(tmp_path / "none.png"), data_dir=data)
    assert code == 1 and "no such image file" in err
    out, err_io = io.StringIO(), io.StringIO()
    code = cli.main(
        [
            "search",
            "x",
            "--data-dir",
            str(data),
            "--model",
            "ViT-B-32",
            "--pretrained",
            str(tmp_path / "missing.pt"),
        ],
        stdout=out,
        stderr=err_io,
    )
    assert code == 1 and "does not exist" in err_io.getvalue()


def _finder(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "finder", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def test_console_entry_point_with_environment_configuration(
    folders: tuple[Path, Path], tmp_path: Path
) -> None:
    photos, _ = folders
    env = {
        **os.environ,
        "FINDER_DATA_DIR": str(tmp_path / "env-data"),
        "FINDER_MODEL": str(TINY_CONFIG),
        "FINDER_PRETRAINED": "none",
    }
    done = _finder("index", "-q", str(photos), env=env)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "env-data" / "catalog.sqlite3").is_file()
    found = _finder("search", "blue", "--kind", "photos", "--json", env=env)
    assert found.returncode == 0, found.stderr
    assert len(json.loads(found.stdout)) == 3
    # Missing real weights: one clear line, non-zero exit, no traceback.
    env.pop("FINDER_MODEL"), env.pop("FINDER_PRETRAINED")
    # (--model: without it the data dir's own model, the tiny one, would answer.)
    failed = _finder("search", "blue", "--model", "ViT-B-32", env=env)
    assert failed.returncode == 1
    assert failed.stderr.count("\n") == 1 and "not on disk" in failed.stderr
    assert "Traceback" not in failed.stderr


def test_a_second_indexer_is_refused_with_the_holders_pid(
    folders: tuple[Path, Path], tmp_path: Path
) -> None:
    from finder.core.store.lock import WriterLock

    data = tmp_path / "data"
    with WriterLock(data):
        code, _, err = run_cli("index", str(folders[0]), data_dir=data)
    assert code == 1 and f"pid {os.getpid()}" in err


def test_finder_never_writes_into_the_users_folders(
    folders: tuple[Path, Path], tmp_path: Path
) -> None:
    def snapshot() -> dict[str, tuple[int, int]]:
        return {
            str(p): (p.stat().st_size, p.stat().st_mtime_ns)
            for root in folders
            for p in sorted(root.rglob("*"))
        }

    before = snapshot()
    data = tmp_path / "data"
    run_cli("index", *map(str, folders), data_dir=data)
    run_cli("search", "red", data_dir=data)
    run_cli("remove", str(folders[0]), data_dir=data)
    assert snapshot() == before
