"""`finder models` / `finder compare` end to end with two tiny random models, the
catalogue's figures, and a model switch killed midway (SIGKILL) that resumes."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from finder import cli
from finder.core.library import INDEX_DIR
from finder.core.models import catalogue
from finder.core.models.recommendation import Machine, recommend
from finder.core.models.switching import load_state
from finder.core.store.catalog import Catalog
from finder.core.store.model_store import index_dir
from tests.e2e.test_crash import wait_for
from tests.helpers import TINY24_CONFIG, TINY_CONFIG, draw_photo, write_text

REPO = Path(__file__).resolve().parents[2]
TINY24 = TINY24_CONFIG
A_KEY, B_KEY = "tiny-random@random-seed0", "tiny-random-24@random-seed0"


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(args), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def _folder(tmp_path: Path, photos: int = 4) -> Path:
    root = tmp_path / "pics"
    for i in range(photos):
        draw_photo(
            root / f"p{i}.png",
            ["red", "blue", "green", "yellow"][i % 4],
            shape="circle" if i % 2 else "square",
        )
    write_text(root / "note.txt", "a picnic by the lake " * 20)
    return root


def test_catalogue_lists_every_model_with_its_figures() -> None:
    import open_clip

    names = {(m.name, m.pretrained) for m in catalogue.MODELS}
    for wanted in [
        ("ViT-B-32", "laion2b_s34b_b79k"),
        ("ViT-B-32", "openai"),
        ("ViT-B-16", "laion2b_s34b_b88k"),
        ("ViT-L-14", "laion2b_s32b_b82k"),
        ("ViT-B-16-SigLIP", "webli"),
        ("MobileCLIP-S1", "datacompdr"),
        ("xlm-roberta-base-ViT-B-32", "laion5b_s13b_b90k"),
    ]:
        assert wanted in names
    for m in catalogue.MODELS:
        cfg = open_clip.get_pretrained_cfg(m.name, m.pretrained)
        assert cfg["hf_hub"].rstrip("/") == m.hf_hub  # where open_clip looks for it
        assert open_clip.get_model_config(m.name)["embed_dim"] == m.embed_dim
        text_cfg = open_clip.get_model_config(m.name)["text_cfg"]
        assert m.hub_tokenizer == text_cfg.get("hf_tokenizer_name")
        assert m.download_bytes > 100e6
        known = [m.imagenet, m.flickr_r1, m.flickr_r5, m.coco_r1, m.coco_r5]
        assert all(v is None for v in known) or all(0 < v < 1 for v in known)  # type: ignore
    # Spot checks against open_clip's tables (see the module's sources).
    assert catalogue.get("ViT-B-32").imagenet == 0.6656
    assert catalogue.get("ViT-B-16-SigLIP").coco_r5 == 0.7244
    small = Machine(cores=2, memory_gb=8, native_bf16=False)
    assert recommend(small)[0].key == "ViT-B-32@laion2b_s34b_b79k"
    big = Machine(cores=32, memory_gb=64, native_bf16=True)
    assert recommend(big)[0].name == "ViT-L-14"


def test_measured_speed_is_read_back(tmp_path: Path) -> None:
    speed = catalogue.MeasuredSpeed(12.5, 90.0, 2, 3.1, "fp32", "2025-01-01T00:00:00")
    catalogue.record_speed(tmp_path, "ViT-B-32@laion2b_s34b_b79k", speed)
    assert catalogue.measured_speeds(tmp_path) == {"ViT-B-32@laion2b_s34b_b79k": speed}


def test_models_use_compare_switch_back_and_delete(tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    a = ["--model", str(TINY_CONFIG), "--pretrained", "none"]
    assert run("index", str(_folder(tmp_path)), "--no-ocr", "--data-dir", data, *a)[0] == 0
    assert load_state(Path(data)).active.key == A_KEY  # type: ignore[union-attr]

    code, out, err = run(
        "models", "use", str(TINY24), "--pretrained", "none", "-q", "--data-dir", data
    )
    assert code == 0, err
    assert "Now using tiny-random-24" in out and "5 files re-embedded" in out
    code, out, _ = run("status", "--data-dir", data)
    assert "tiny-random-24" in out and "switching" not in out

    code, out, _ = run("models", "--json", "--data-dir", data)
    listing = json.loads(out)
    rows = {r["key"]: r for r in listing["models"]}
    assert rows[B_KEY]["active"] and rows[A_KEY]["index"]["complete"]
    assert len(rows) == len(catalogue.MODELS) + 2 and listing["recommended"]["key"]
    code, out, _ = run("models", "--data-dir", data)
    assert code == 0 and "ViT-B-16-SigLIP webli \u2020" in out and "Recommended here" in out

    code, out, err = run(
        "compare",
        "a red square",
        "--models",
        f"{TINY_CONFIG}@none,{TINY24}@none",
        "-k",
        "3",
        "--data-dir",
        data,
    )
    assert code == 0, err
    assert "tiny-random (random weights)" in out and out.count("\n") >= 4

    code, out, _ = run("models", "use", f"{TINY_CONFIG}@none", "--data-dir", data)
    assert code == 0 and "its index is complete" in out  # instant: nothing embedded

    b_dir = index_dir(Path(data) / INDEX_DIR, B_KEY)
    assert b_dir.is_dir()
    code, out, _ = run("models", "delete", B_KEY, "--data-dir", data)
    assert code == 0 and "freed" in out and not b_dir.exists()
    code, _, err = run("models", "delete", A_KEY, "--data-dir", data)
    assert code == 1 and "answers searches" in err


def test_a_killed_switch_resumes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "data"
    folder = _folder(tmp_path, photos=12)
    a = ["--model", str(TINY_CONFIG), "--pretrained", "none"]
    assert run("index", str(folder), "--no-ocr", "--data-dir", str(data), *a)[0] == 0
    marker = tmp_path / "paused"
    # The child switches to B in small batches and, once one batch is committed, says so
    # and waits to be killed.
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
        import threading
        from pathlib import Path
        from finder.core.models.spec import resolve_model_spec
        from finder.core.models.torch_runtime import ClipEmbedder
        from finder.core.indexing.indexer import IndexerConfig
        from finder.core.library import Library
        from finder.core.models.switching import ModelChoice, begin_switch
        a = resolve_model_spec({str(TINY_CONFIG)!r}, "none")
        b = resolve_model_spec({str(TINY24)!r}, "none")
        lib = Library(Path({str(data)!r}), ClipEmbedder(a, threads=1), writable=True,
                      ocr=False, indexer_config=IndexerConfig(image_batch=2, text_batch=4))
        begin_switch(lib.data_dir, lib._catalog, ModelChoice.of(a), ModelChoice.of(b))
        def pause(p):
            if p.phase == "embedding" and p.done:
                Path({str(marker)!r}).write_text(str(p.done))
                threading.Event().wait()
        lib.embed_with(ClipEmbedder(b, threads=1), progress=pause)
        """),
        ],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(lambda: marker.exists() or child.poll() is not None, what="the first batch")
        assert marker.exists(), child.communicate()[1]
    finally:
        child.send_signal(signal.SIGKILL)
        child.communicate(timeout=30)
    catalog = Catalog(data / "catalog.sqlite3")
    done, total = catalog.model_progress(B_KEY)
    catalog.close()
    assert 0 < done < total == 13
    assert load_state(data).target.key == B_KEY  # type: ignore[union-attr]
    code, out, _ = run("status", "--data-dir", str(data))
    assert f"{done}/{total} files embedded" in out

    # `finder index` (with the active model) continues the switch from where it stopped.
    code, out, err = run("index", "-q", "--no-ocr", "--data-dir", str(data))
    assert code == 0, err
    assert f"{total - done} files re-embedded; it now answers searches" in out
    assert load_state(data).active.key == B_KEY  # type: ignore[union-attr]
