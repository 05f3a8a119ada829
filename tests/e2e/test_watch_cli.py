"""`finder watch` finishes a model switch left unfinished, then indexes with the new model;
a switch whose weights are missing waits, and watching goes on. Real child processes,
stopped with SIGTERM, with two tiny random models."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from finder.core.models.spec import resolve_model_spec
from finder.core.models.switching import (
    ModelChoice,
    ModelState,
    begin_switch,
    load_state,
    save_state,
)
from finder.core.store.catalog import Catalog
from tests.e2e.test_crash import _Lines, wait_for
from tests.e2e.test_models_cli import A_KEY, B_KEY, TINY24, run
from tests.helpers import TINY_CONFIG, draw_photo, write_text

REPO = Path(__file__).resolve().parents[2]
A = ModelChoice.of(resolve_model_spec(str(TINY_CONFIG), "none"))
B = ModelChoice.of(resolve_model_spec(str(TINY24), "none"))


@pytest.fixture
def indexed(tmp_path: Path) -> tuple[Path, Path]:
    """A folder indexed with model A (the active one): (folder, data dir)."""
    root, data = tmp_path / "pics", tmp_path / "data"
    for i, color in enumerate(["red", "blue", "green"]):
        draw_photo(root / f"p{i}.png", color)
    write_text(root / "note.txt", "a picnic by the lake " * 20)
    code, _, err = run(
        "index",
        str(root),
        "--no-ocr",
        "--data-dir",
        str(data),
        "--model",
        str(TINY_CONFIG),
        "--pretrained",
        "none",
    )
    assert code == 0, err
    return root, data


class Watch:
    """`finder watch` in a child process (the data dir's active model), read as it goes."""

    def __init__(self, data: Path) -> None:
        self.child = subprocess.Popen(
            [sys.executable, "-m", "finder", "watch", "--no-ocr", "--data-dir", str(data)],
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self.out = _Lines(self.child.stdout)  # type: ignore[arg-type]
        self.err = _Lines(self.child.stderr)  # type: ignore[arg-type]

    def wait_for(self, text: str) -> None:
        try:
            wait_for(lambda: self.out.has(text) or self.child.poll() is not None, what=text)
        except AssertionError as exc:  # what the watcher said tells why
            said = "".join(self.out.lines + self.err.lines)
            raise AssertionError(f"{exc}; the watcher said:\n{said}") from None
        assert self.out.has(text), "".join(self.out.lines + self.err.lines)

    def stop(self) -> int:
        self.child.send_signal(signal.SIGTERM)
        code = self.child.wait(timeout=60)
        self.out.join()
        self.err.join()
        return code


@pytest.fixture
def watching(indexed: tuple[Path, Path]) -> Iterator[list[Watch]]:
    started: list[Watch] = []
    yield started
    for watch in started:
        if watch.child.poll() is None:
            watch.child.kill()
            watch.child.wait(timeout=30)


def _embedded_by(data: Path, key: str) -> set[str]:
    catalog = Catalog(data / "catalog.sqlite3", readonly=True)
    try:
        model_id = catalog.find_model_id(key)
        ids = catalog.embedded_file_ids(model_id) if model_id is not None else set()
        rows = catalog._db.execute("SELECT id, path FROM files").fetchall()
        return {Path(path).name for file_id, path in rows if file_id in ids}
    finally:
        catalog.close()


def _found(data: Path, image: Path, *model: str) -> set[str]:
    """What an image search finds (random weights: which one ranks first means nothing)."""
    code, out, err = run(
        "search",
        "--image",
        str(image),
        "--kind",
        "photos",
        "--json",
        "--all",
        "-k",
        "10",
        "--data-dir",
        str(data),
        *model,
    )
    assert code == 0, err
    return {Path(r["path"]).name for r in json.loads(out)}


def test_watch_finishes_a_switch_then_indexes_with_the_new_model(
    indexed: tuple[Path, Path], watching: list[Watch]
) -> None:
    root, data = indexed
    catalog = Catalog(data / "catalog.sqlite3")
    begin_switch(data, catalog, A, B)
    catalog.close()
    draw_photo(root / "while-switching.png", "teal")  # new since the last run
    watch = Watch(data)
    watching.append(watch)
    watch.wait_for("switching to tiny-random-24 (none): embedding in the background")
    watch.wait_for("tiny-random-24 (none) now answers searches")
    state = load_state(data)
    assert state.active == B and state.target is None
    draw_photo(root / "after.png", "purple", shape="circle")
    wait_for(
        lambda: "after.png" in _embedded_by(data, B_KEY),
        what="the new model to index a picture added after it took over",
    )
    assert watch.stop() == 0
    assert any("stopped watching" in line for line in watch.err.lines)

    everything = {"p0.png", "p1.png", "p2.png", "note.txt", "while-switching.png"}
    assert _embedded_by(data, B_KEY) == everything | {"after.png"}
    assert _embedded_by(data, A_KEY) == everything  # the old model kept up meanwhile
    assert "after.png" in _found(data, root / "after.png")  # searches use the new model
    a = ["--model", str(TINY_CONFIG), "--pretrained", "none"]
    assert "while-switching.png" in _found(data, root / "after.png", *a)
    code, out, _ = run("status", "--data-dir", str(data))
    assert "tiny-random-24" in out and "switching" not in out


def test_a_switch_without_its_weights_waits_and_watching_goes_on(
    indexed: tuple[Path, Path], watching: list[Watch], tmp_path: Path
) -> None:
    root, data = indexed
    missing = ModelChoice(str(TINY24), str(tmp_path / "gone.pt"), "tiny-random-24@gone")
    save_state(data, ModelState(A, missing))
    watch = Watch(data)
    watching.append(watch)
    watch.wait_for("is on hold")
    # After the catch-up scan: a file it meets half-written is an error, then "updated".
    watch.wait_for("all folders up to date")
    draw_photo(root / "new.png", "teal")
    watch.wait_for("1 added")
    assert watch.stop() == 0
    assert load_state(data).target == missing  # still to do, once the weights are there
    assert "new.png" in _embedded_by(data, A_KEY)
