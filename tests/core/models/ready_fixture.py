"""A small model folder in Immich's layout, written without torch (onnx.helper and the
tokenizers library), and a fake Hugging Face hub on 127.0.0.1 that serves repositories
of files: large ones (.onnx) the way the hub serves LFS files (a redirect to its CDN,
the sha256 as etag), small ones directly."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np

IMAGE_SIZE = 64
CONTEXT = 6
DIM = 8
WORDS = ["<pad>", "<unk>", "a", "red", "green", "blue", "photo", "of", "circle"]


def write_model_folder(folder: Path, seed: int = 0) -> Path:
    """config.json, visual/ and textual/ as Immich publishes them: graphs with a fixed
    batch of 1, "text" as int32, a WordLevel tokenizer.json."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    from tokenizers import Tokenizer, models, pre_tokenizers

    rng = np.random.default_rng(seed)
    (folder / "visual").mkdir(parents=True, exist_ok=True)
    (folder / "textual").mkdir(parents=True, exist_ok=True)

    def save(graph: onnx.GraphProto, path: Path) -> None:
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        model.ir_version = 8
        onnx.save(model, str(path))

    pixels = 3 * IMAGE_SIZE * IMAGE_SIZE
    visual_w = numpy_helper.from_array(rng.standard_normal((pixels, DIM)).astype(np.float32), "w")
    save(
        helper.make_graph(
            [
                helper.make_node("Flatten", ["image"], ["flat"], axis=1),
                helper.make_node("MatMul", ["flat", "w"], ["embedding"]),
            ],
            "visual",
            [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, 64, 64])],
            [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, [1, DIM])],
            [visual_w],
        ),
        folder / "visual" / "model.onnx",
    )
    text_w = numpy_helper.from_array(rng.standard_normal((CONTEXT, DIM)).astype(np.float32), "w")
    save(
        helper.make_graph(
            [
                helper.make_node("Cast", ["text"], ["ids"], to=TensorProto.FLOAT),
                helper.make_node("MatMul", ["ids", "w"], ["embedding"]),
            ],
            "textual",
            [helper.make_tensor_value_info("text", TensorProto.INT32, [1, CONTEXT])],
            [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, [1, DIM])],
            [text_w],
        ),
        folder / "textual" / "model.onnx",
    )
    tokenizer = Tokenizer(models.WordLevel({w: i for i, w in enumerate(WORDS)}, unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.save(str(folder / "textual" / "tokenizer.json"))
    _json(folder / "textual" / "tokenizer_config.json", {"pad_token": "<pad>"})
    _json(
        folder / "config.json",
        {
            "embed_dim": DIM,
            "vision_cfg": {"image_size": IMAGE_SIZE},
            "text_cfg": {"context_length": CONTEXT, "tokenizer_kwargs": {"clean": "lower"}},
        },
    )
    _json(
        folder / "visual" / "preprocess_cfg.json",
        {
            "size": [IMAGE_SIZE, IMAGE_SIZE],
            "mode": "RGB",
            "mean": [0.48145466, 0.4578275, 0.40821073],
            "std": [0.26862954, 0.26130258, 0.27577711],
            "interpolation": "bicubic",
            "resize_mode": "shortest",
        },
    )
    return folder


def _json(path: Path, value: object) -> None:
    path.write_text(json.dumps(value), encoding="utf-8")


def repo_files(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


COMMIT = "fedcba9876543210fedcba9876543210fedcba98"


class RepoHub(ThreadingHTTPServer):
    """repos: {"org/name": {"path/in/repo": bytes}}. corrupt: paths served with other
    bytes (same size). cut_at: the next longer answer stops after this many bytes."""

    repos: dict[str, dict[str, bytes]]
    corrupt: set[str]
    cut_at: int | None
    ranges: list[tuple[str, str | None]]


class _Handler(BaseHTTPRequestHandler):
    server: RepoHub

    def log_message(self, *args: object) -> None:
        pass

    def _find(self) -> tuple[str, str] | None:
        for repo in self.server.repos:
            prefix = f"/{repo}/resolve/main/"
            if self.path.startswith(prefix):
                name = self.path[len(prefix) :]
                if name in self.server.repos[repo]:
                    return repo, name
        return None

    def do_HEAD(self) -> None:  # noqa: N802
        found = self._find()
        if found is None:
            self.send_response(404)
            self.send_header("X-Error-Code", "EntryNotFound")
            self.end_headers()
            return
        repo, name = found
        data = self.server.repos[repo][name]
        if name.endswith(".onnx"):  # LFS: to the CDN (another host name), sha256 as etag
            self.send_response(302)
            port = self.server.server_address[1]
            self.send_header("Location", f"http://localhost:{port}/cdn/{repo}/{name}")
            self.send_header("X-Linked-Size", str(len(data)))
            self.send_header("X-Linked-Etag", f'"{hashlib.sha256(data).hexdigest()}"')
        else:
            self.send_response(200)
            self.send_header("ETag", f'"{hashlib.sha1(data).hexdigest()}"')
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Repo-Commit", COMMIT)
        self.end_headers()

    def do_GET(self) -> None:  # noqa: N802
        if self.path.startswith("/cdn/"):
            repo, _, name = self.path[len("/cdn/") :].partition("/")
            owner, _, rest = name.partition("/")
            repo, name = f"{repo}/{owner}", rest
        else:
            found = self._find()
            if found is None:
                self.send_response(404)
                self.end_headers()
                return
            repo, name = found
        data = self.server.repos[repo][name]
        if name in self.server.corrupt:
            data = bytes(b ^ 0xFF for b in data)
        asked = self.headers.get("Range")
        self.server.ranges.append((name, asked))
        start = int(asked.split("=")[1].rstrip("-")) if asked else 0
        body = data[start:]
        self.send_response(206 if asked else 200)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Repo-Commit", COMMIT)
        if asked:
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.end_headers()
        cut = self.server.cut_at
        if cut is not None and cut < len(body):  # the next answer long enough is cut
            self.server.cut_at = None
        else:
            cut = None
        self.wfile.write(body if cut is None else body[:cut])
        self.wfile.flush()
        if cut is not None:
            self.close_connection = True


def serve(repos: dict[str, dict[str, bytes]]) -> Iterator[RepoHub]:
    server = RepoHub(("127.0.0.1", 0), _Handler)
    server.repos, server.corrupt, server.cut_at, server.ranges = repos, set(), None, []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
