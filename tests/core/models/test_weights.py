"""Model downloads against a fake Hugging Face hub on 127.0.0.1: size first, progress,
resume after a cut, cancel, the standard cache layout, and the offline path."""

from __future__ import annotations

import hashlib
import io
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from finder import cli
from finder.config import hub_from_environ
from finder.core.models import weights
from finder.core.models.weights import DownloadCancelled, DownloadError, DownloadProgress, Hub

REPO = "acme/tiny-clip"
DATA = bytes(range(256)) * 2048  # 512 KiB
ETAG = hashlib.sha256(DATA).hexdigest()
COMMIT = "0123456789abcdef0123456789abcdef01234567"


class FakeHub(ThreadingHTTPServer):
    cut_at: int | None = None  # the next GET sends only this many bytes, then hangs up
    ranges: list[str | None]


class Handler(BaseHTTPRequestHandler):
    server: FakeHub

    def log_message(self, *args: object) -> None:
        pass

    def do_HEAD(self) -> None:  # noqa: N802
        if self.path != f"/{REPO}/resolve/main/open_clip_pytorch_model.bin":
            self.send_response(404)
            self.end_headers()
            return
        # As the hub does for large (LFS) files: to its CDN, another host (this one by
        # another name), so the metadata is read from this answer.
        self.send_response(302)
        self.send_header("Location", f"http://localhost:{self.server.server_address[1]}/cdn/blob")
        self.send_header("X-Linked-Size", str(len(DATA)))
        self.send_header("X-Linked-Etag", f'"{ETAG}"')
        self.send_header("X-Repo-Commit", COMMIT)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:  # noqa: N802
        if self.path != "/cdn/blob":
            self.send_response(404)
            self.end_headers()
            return
        asked = self.headers.get("Range")
        self.server.ranges.append(asked)
        start = int(asked.split("=")[1].rstrip("-")) if asked else 0
        body = DATA[start:]
        self.send_response(206 if asked else 200)
        self.send_header("Content-Length", str(len(body)))
        if asked:
            self.send_header("Content-Range", f"bytes {start}-{len(DATA) - 1}/{len(DATA)}")
        self.end_headers()
        cut, self.server.cut_at = self.server.cut_at, None
        self.wfile.write(body if cut is None else body[:cut])
        self.wfile.flush()
        if cut is not None:
            self.close_connection = True


def _hub() -> Hub:
    """The hub the environment names (the fixtures set HF_ENDPOINT / HF_HUB_OFFLINE)."""
    return hub_from_environ(os.environ)


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeHub]:
    server = FakeHub(("127.0.0.1", 0), Handler)
    server.ranges = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{server.server_address[1]}")
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    # huggingface_hub read HF_HUB_OFFLINE when first imported (the tests set it).
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    # Its chunks are 10 MB: smaller ones, so a test file arrives in several.
    monkeypatch.setattr(constants, "DOWNLOAD_CHUNK_SIZE", 1 << 16)
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def _plan(cache: Path) -> weights.DownloadPlan:
    hub = _hub()
    return weights.plan_download(weights.WeightsSource(REPO), replace(hub, cache_dir=cache))


def test_size_first_then_progress_into_the_standard_cache(hub: FakeHub, tmp_path: Path) -> None:
    from huggingface_hub import try_to_load_from_cache

    plan = _plan(tmp_path)
    (remote,) = plan.files
    assert remote.size == len(DATA) and remote.etag == ETAG and remote.commit == COMMIT
    assert plan.total_bytes == len(DATA)
    seen: list[DownloadProgress] = []
    path = plan.run(progress=seen.append)
    assert path.read_bytes() == DATA
    assert seen[-1].done == seen[-1].total == len(DATA)
    assert [p.done for p in seen] == sorted(p.done for p in seen) and len(seen) > 2
    # huggingface_hub (and so open_clip) finds it without the network.
    found = try_to_load_from_cache(REPO, "open_clip_pytorch_model.bin", cache_dir=tmp_path)
    assert found is not None and Path(found).read_bytes() == DATA


def test_a_cut_download_resumes_where_it_stopped(hub: FakeHub, tmp_path: Path) -> None:
    hub.cut_at = 200_000
    # huggingface_hub resumes a cut transfer itself, asking for the rest.
    path = _plan(tmp_path).run()
    assert path.read_bytes() == DATA
    assert len(hub.ranges) == 2 and hub.ranges[0] is None
    kept = int(str(hub.ranges[1]).removeprefix("bytes=").rstrip("-"))
    assert 0 < kept <= 200_000  # the second request asked for the rest


def test_cancel_keeps_the_partial_file_for_later(hub: FakeHub, tmp_path: Path) -> None:
    plan = _plan(tmp_path)
    cancel = threading.Event()

    def stop_early(p: DownloadProgress) -> None:
        if p.done >= 100_000:
            cancel.set()

    with pytest.raises(DownloadCancelled):
        plan.run(progress=stop_early, cancel=cancel)
    kept = next(tmp_path.rglob("*.incomplete")).stat().st_size
    assert kept < len(DATA)
    assert plan.run().read_bytes() == DATA
    assert hub.ranges[-1] == f"bytes={kept}-"  # the next download resumed


def test_offline_says_so_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    started = time.monotonic()
    with pytest.raises(DownloadError, match="offline"):
        weights.plan_download(
            weights.WeightsSource("laion/CLIP-ViT-B-32-laion2B-s34B-b79K"), _hub()
        )
    err = io.StringIO()
    code = cli.main(["models", "download", "ViT-B-32"], stdout=io.StringIO(), stderr=err)
    assert code == cli.EXIT_FAILURE and "offline" in err.getvalue()
    assert time.monotonic() - started < 1.0


def test_unreachable_hub_fails_fast(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    started = time.monotonic()
    with pytest.raises(DownloadError, match="cannot reach"):
        weights.plan_download(weights.WeightsSource(REPO), _hub())
    assert time.monotonic() - started < 1.0
