"""Ready exports (Immich's layout on the hub) downloaded against a fake hub on 127.0.0.1:
sized first, progress, resumed after a cancel, a corrupt file refused; then run by ONNX
Runtime with no export step. A model with none published falls back to its weights."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from finder.core.model_shelf import plan_weights_download, weights_on_disk
from finder.core.models import catalogue
from finder.core.models.model_folder import is_model_folder
from finder.core.models.onnx_runtime import OnnxEmbedder
from finder.core.models.ready import find_ready, ready_repo
from finder.core.models.runtime import open_embedder
from finder.core.models.spec import ModelSpec
from finder.core.models.weights import DownloadCancelled, DownloadError, DownloadProgress, Hub
from tests.core.models.ready_fixture import DIM, RepoHub, repo_files, serve, write_model_folder

ENTRY = catalogue.MODELS[0]  # ViT-B-32 laion2b_s34b_b79k
REPO = ready_repo(ENTRY.name, ENTRY.pretrained)
LARGE = "visual/model.onnx"


@pytest.fixture
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    return repo_files(write_model_folder(tmp_path_factory.mktemp("published")))


@pytest.fixture
def hub(files: dict[str, bytes], monkeypatch: pytest.MonkeyPatch) -> Iterator[RepoHub]:
    from huggingface_hub import constants

    # huggingface_hub read HF_HUB_OFFLINE when first imported (the tests set it), and
    # its chunks are 10 MB: smaller ones, so a test file arrives in several.
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "DOWNLOAD_CHUNK_SIZE", 1 << 14)
    yield from serve({REPO: files})


def _hub(server: RepoHub, cache: Path) -> Hub:
    return Hub(f"http://127.0.0.1:{server.server_address[1]}", cache, offline=False)


def test_a_published_export_is_downloaded_and_runs_without_an_export(
    hub: RepoHub, files: dict[str, bytes], tmp_path: Path
) -> None:
    settings = _hub(hub, tmp_path / "cache")
    assert repr(ready_repo("xlm-roberta-base-ViT-B-32", "laion5b_s13b_b90k")).startswith(
        "'immich-app/XLM-Roberta-Base-ViT-B-32__"
    )
    plan = plan_weights_download(ENTRY, settings)
    # Size first: every file of the layout (the optional ones it lacks are skipped).
    assert plan.folder and plan.total_bytes == sum(len(b) for b in files.values())
    assert sorted(f.filename for f in plan.files) == sorted(files)
    seen: list[DownloadProgress] = []
    folder = plan.run(progress=seen.append)
    assert is_model_folder(folder)
    assert seen[-1].overall_done == seen[-1].overall_total == plan.total_bytes
    assert [p.overall_done for p in seen] == sorted(p.overall_done for p in seen)
    spec = ModelSpec(ENTRY.name, ENTRY.pretrained)
    assert find_ready(spec, settings.cache_dir) == folder
    assert weights_on_disk(ENTRY, settings) == folder

    embedder = open_embedder(spec, tmp_path / "data", precision="fp32", hub=settings)
    assert isinstance(embedder, OnnxEmbedder) and embedder.key == ENTRY.key
    texts = embedder.encode_texts(["a red circle", "A Photo of a BLUE circle!", "x " * 50])
    assert texts.shape == (3, DIM)
    assert np.allclose(np.linalg.norm(texts, axis=1), 1.0, atol=1e-5)
    # The graph takes one image at a time (Immich's fixed batch): three still work.
    pictures = [Image.new("RGB", (90, 60), c) for c in ("red", "green", "blue")]
    images = embedder.encode_images([embedder.preprocess(p) for p in pictures])
    one = embedder.encode_images([embedder.preprocess(pictures[1])])
    assert images.shape == (3, DIM) and np.allclose(one[0], images[1], atol=1e-6)
    assert embedder.dim == DIM and embedder.folder == folder
    assert not embedder.owned  # a damaged download is reported, never deleted by the runtime


def test_a_cancelled_download_resumes_where_it_stopped(hub: RepoHub, tmp_path: Path) -> None:
    settings = _hub(hub, tmp_path / "cache")
    plan = plan_weights_download(ENTRY, settings)
    cancel = threading.Event()

    def stop_in_the_large_file(p: DownloadProgress) -> None:
        if p.filename == LARGE and p.done >= 100_000:
            cancel.set()

    with pytest.raises(DownloadCancelled):
        plan.run(progress=stop_in_the_large_file, cancel=cancel)
    kept = next((tmp_path / "cache").rglob("*.incomplete")).stat().st_size
    large = next(f for f in plan.files if f.filename == LARGE)
    assert 0 < kept < large.size
    hub.ranges.clear()
    folder = plan.run()
    assert is_model_folder(folder)
    assert (LARGE, f"bytes={kept}-") in hub.ranges  # the rest only
    assert not list((tmp_path / "cache").rglob("*.incomplete"))


def test_a_cut_transfer_is_resumed_by_the_same_download(hub: RepoHub, tmp_path: Path) -> None:
    hub.cut_at = 50_000  # the first file's transfer breaks off
    folder = plan_weights_download(ENTRY, _hub(hub, tmp_path / "cache")).run()
    assert is_model_folder(folder)
    assert any(asked and asked.startswith("bytes=") for _, asked in hub.ranges)


def test_a_corrupt_file_is_refused_and_fetched_again(
    hub: RepoHub, files: dict[str, bytes], tmp_path: Path
) -> None:
    settings = _hub(hub, tmp_path / "cache")
    plan = plan_weights_download(ENTRY, settings)
    hub.corrupt.add(LARGE)  # the right size, the wrong bytes
    with pytest.raises(DownloadError, match="damaged.*sha256"):
        plan.run()
    assert find_ready(ModelSpec(ENTRY.name, ENTRY.pretrained), settings.cache_dir) is None
    assert not any(
        p.read_bytes() != files[LARGE]
        for p in (tmp_path / "cache").rglob("*")
        if p.is_file() and p.stat().st_size == len(files[LARGE])
    )  # nothing damaged is kept
    hub.corrupt.clear()
    assert (plan.run() / LARGE).read_bytes() == files[LARGE]


def test_with_none_published_the_weights_are_downloaded(tmp_path: Path) -> None:
    from huggingface_hub import constants

    weights = b"weights" * 1000
    entry = replace(ENTRY, hf_hub="acme/clip-weights")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(constants, "HF_HUB_OFFLINE", False)
        for server in serve({"acme/clip-weights": {"open_clip_model.safetensors": weights}}):
            plan = plan_weights_download(entry, _hub(server, tmp_path / "cache"))
            assert not plan.folder and [f.filename for f in plan.files] == [
                "open_clip_model.safetensors"
            ]
            assert plan.run().read_bytes() == weights


def test_the_apps_download_button_then_runs_the_ready_export(hub: RepoHub, tmp_path: Path) -> None:
    from finder.core.library import Library
    from finder.core.models.torch_runtime import ClipEmbedder

    settings = _hub(hub, tmp_path / "cache")
    spec = ModelSpec(ENTRY.name, ENTRY.pretrained)
    library = Library.open(tmp_path / "data", spec, writable=True, precision="fp32", hub=settings)
    try:
        assert isinstance(library.embedder, ClipEmbedder)  # nothing on disk yet
        assert library.model_missing()
        folder = Path(library.download_model())
        assert isinstance(library.embedder, OnnxEmbedder) and library.embedder.folder == folder
        assert not library.model_missing()
        assert library.search_text("a red circle") is not None
    finally:
        library.close()


def test_finder_models_download_fetches_the_ready_export(
    hub: RepoHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    from finder import cli

    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{hub.server_address[1]}")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(
        ["models", "download", ENTRY.name, "--data-dir", str(tmp_path / "d")],
        stdout=out,
        stderr=err,
    )
    assert code == 0, err.getvalue()
    assert "Ready ONNX model at" in out.getvalue()
    assert find_ready(ModelSpec(ENTRY.name, ENTRY.pretrained), tmp_path / "cache") is not None


def test_a_ready_clip_export_tokenizes_with_finders_clip_bpe(tmp_path: Path) -> None:
    import gzip

    from finder.core.models.model_folder import read_folder
    from finder.core.models.tokenizer import ClipTokenizer, default_vocab_path

    folder = write_model_folder(tmp_path / "clip")
    textual = folder / "textual"
    # What Hugging Face's CLIPTokenizer saves: its merges.txt holds open_clip's merges.
    with gzip.open(default_vocab_path()) as vocab:
        (textual / "merges.txt").write_bytes(vocab.read())
    (textual / "tokenizer_config.json").write_text('{"tokenizer_class": "CLIPTokenizer"}')
    tokenizer = read_folder(folder).tokenizer()
    assert isinstance(tokenizer, ClipTokenizer)
    texts = ["a red circle", "Café Zürich 🙂, an invoice from 2023"]
    reference = ClipTokenizer(context_length=tokenizer.context_length)
    assert (tokenizer(texts) == reference(texts)).all()
