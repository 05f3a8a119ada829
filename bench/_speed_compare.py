"""bench/model_speed.py --compare: several models' speed on ONNX Runtime, in one run, as
ratios against the first one (ViT-B-32).

Each model runs as finder runs it: exported by finder's own export (reparameterised
first, checked against torch at cosine >= 0.9999) and embedded by OnnxEmbedder; with its
image tower also in dynamic int8 (quantise.quantise_visual, as finder's int8 check
makes it). A model finder's export refuses is measured from bench graphs instead (the
same torch.onnx export of its two towers, checked against torch here too) and says why
it was refused. Random weights: speed does not depend on weight values.

Models are measured round by round, in a rotating order, so a load that comes and goes
on a shared machine falls on each of them; a ratio is taken within each round and the
median of the rounds reported.
"""

from __future__ import annotations

import json
import statistics
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from _common import WORDS, machine
from PIL import Image

from finder.core.models.errors import ModelUnavailableError
from finder.core.models.export import UnsupportedModelError, export, find_export
from finder.core.models.image_prep import PreprocessConfig
from finder.core.models.model_folder import META
from finder.core.models.onnx_runtime import OnnxEmbedder
from finder.core.models.quantise import Int8Embedder, quantise_visual, visual_file
from finder.core.models.reparam import reparameterise
from finder.core.models.spec import ModelSpec, resolve_model_spec
from finder.core.models.torch_runtime import ClipEmbedder

BATCH = 32


def model_folder(name: str, workdir: Path) -> tuple[ModelSpec, Path, dict[str, Any]]:
    """The model's ONNX folder: finder's export, else the bench's graphs (and why)."""
    spec = resolve_model_spec(name, "none")
    data = workdir / "export-data"
    folder = find_export(data, spec)
    info: dict[str, Any] = {"path": "finder export"}
    if folder is None:
        try:
            started = time.perf_counter()
            folder = export(ClipEmbedder(spec, precision="fp32"), data)
            info["export_s"] = round(time.perf_counter() - started, 1)
        except (UnsupportedModelError, ModelUnavailableError, ImportError) as exc:
            # ImportError: SigLIP's Hugging Face tokenizer needs `transformers`.
            folder = workdir / "graphs" / name
            info = {"path": "bench graphs", "finder_export_refused": repr(exc)[:300]}
            if not (folder / META).is_file():
                bench_graphs(name, folder)
    meta = json.loads((folder / META).read_text(encoding="utf-8"))
    info["cosine_vs_torch"] = meta.get("cosine_vs_torch")
    info["text_cut"] = meta.get("text_cut") is not None
    info["visual_mb"] = round(visual_file(folder).stat().st_size / 2**20)
    prep = json.loads((folder / "visual" / "preprocess_cfg.json").read_text(encoding="utf-8"))
    info["image_size"] = prep.get("size")
    return spec, folder, info


def bench_graphs(name: str, folder: Path) -> None:
    """A model folder of `name`'s random-weight towers for a model finder cannot export
    here (SigLIP: its tokenizer is a Hugging Face one, which needs `transformers` and the
    hub). Its tokenizer is a stand-in of the same context length: the text tower's time
    depends on the number of tokens (padded to the context), never on their ids."""
    import open_clip
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers

    from finder.core.models.embedder import normalise

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = open_clip.create_model(name, pretrained=None)
    model = reparameterise(model.eval())
    config = open_clip.get_model_config(name)
    text_cfg = config["text_cfg"]
    context = int(text_cfg.get("context_length", 77))
    prep = PreprocessConfig.from_open_clip(model.visual.preprocess_cfg)
    (folder / "visual").mkdir(parents=True, exist_ok=True)
    (folder / "textual").mkdir(parents=True, exist_ok=True)
    pixels = torch.randn(2, 3, prep.size[0], prep.size[1])
    tokens = torch.randint(1, int(text_cfg.get("vocab_size", 49408)), (2, context))

    class Tower(torch.nn.Module):
        def __init__(self, encode: Any) -> None:
            super().__init__()
            self.model, self.encode = model, encode

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            out: torch.Tensor = self.encode(x)
            return out

    for tower, sample, path, input_name in (
        (Tower(model.encode_image), pixels, folder / "visual" / "model.onnx", "image"),
        (Tower(model.encode_text), tokens, folder / "textual" / "model.onnx", "text"),
    ):
        with torch.inference_mode(False), torch.enable_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                tower.eval(),
                (sample,),
                str(path),
                input_names=[input_name],
                output_names=["embedding"],
                dynamic_axes={input_name: {0: "batch"}, "embedding": {0: "batch"}},
                dynamo=False,
                opset_version=17,
            )
    vocab = {"[PAD]": 0, "[UNK]": 1} | {w: i + 2 for i, w in enumerate(dict.fromkeys(WORDS))}
    stand_in = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    stand_in.pre_tokenizer = pre_tokenizers.Whitespace()
    stand_in.save(str(folder / "textual" / "tokenizer.json"))
    (folder / "textual" / "tokenizer_config.json").write_text('{"pad_token": "[PAD]"}')
    (folder / "config.json").write_text(json.dumps(config))
    (folder / "visual" / "preprocess_cfg.json").write_text(json.dumps(prep.to_json()))
    import onnxruntime as ort

    cosine = 1.0
    with torch.inference_mode():
        for sample, path, input_name, encode in (
            (pixels, folder / "visual" / "model.onnx", "image", model.encode_image),
            (tokens, folder / "textual" / "model.onnx", "text", model.encode_text),
        ):
            session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
            got = normalise(session.run(None, {input_name: sample.numpy()})[0])
            want = normalise(encode(sample).float().numpy())
            cosine = min(cosine, float(np.min(np.sum(got * want, axis=1))))
    meta = {"name": name, "bench_graphs": True, "cosine_vs_torch": round(cosine, 6)}
    (folder / META).write_text(json.dumps(meta, indent=2))


def int8_file(folder: Path, workdir: Path, name: str) -> Path:
    path = workdir / "int8" / f"{name}.onnx"
    if not path.is_file():
        quantise_visual(visual_file(folder), path)
    return path


def images_per_s(embedder: Any, picture: Any, images: int) -> float:
    started = time.perf_counter()
    for start in range(0, images, BATCH):
        embedder.encode_images([picture] * min(BATCH, images - start))
    return images / (time.perf_counter() - started)


def query_ms(embedder: Any, queries: int, salt: int) -> list[float]:
    times = []
    for i in range(queries):
        started = time.perf_counter()
        embedder.encode_texts_uncached([f"a photo of a dog on a beach number {salt}-{i}"])
        times.append((time.perf_counter() - started) * 1000)
    return times


def measure(embedder: Any, images: int, queries: int, salt: int) -> tuple[float, float]:
    """(images/s, query p50 ms) of a freshly opened embedder, warmed up first (its
    sessions made, first runs paid), then closed: one model in memory at a time."""
    try:
        picture = embedder.preprocess(Image.new("RGB", (640, 480), (120, 160, 200)))
        embedder.encode_images([picture] * 4)
        embedder.encode_texts_uncached(["warm up"])
        speed = images_per_s(embedder, picture, images)
        return speed, statistics.median(query_ms(embedder, queries, salt))
    finally:
        embedder.close()


def compare(names: list[str], workdir: Path, rounds: int, images: int, queries: int) -> dict:
    """Measure `names` round by round; ratios against names[0]."""
    runs: dict[str, dict[str, Any]] = {}
    for name in names:  # exported and quantised before any timing
        spec, folder, info = model_folder(name, workdir)
        int8 = int8_file(folder, workdir, name)
        runs[name] = {"info": info, "spec": spec, "folder": folder, "int8": int8}
        runs[name] |= {"fp32_ips": [], "int8_ips": [], "query_ms": []}
    for r in range(rounds):
        order = names[r % len(names) :] + names[: r % len(names)]
        for name in order:
            run = runs[name]
            fp32, query = measure(OnnxEmbedder(run["spec"], run["folder"]), images, queries, r)
            int8, _ = measure(Int8Embedder(run["spec"], run["folder"], run["int8"]), images, 1, r)
            run["fp32_ips"].append(fp32)
            run["int8_ips"].append(int8)
            run["query_ms"].append(query)
    base = runs[names[0]]
    out: dict[str, Any] = {}
    for name in names:
        run = runs[name]

        def ratio(key: str, run: dict[str, Any] = run) -> float:
            pairs = zip(run[key], base[key], strict=True)
            return round(statistics.median(a / b for a, b in pairs), 2)

        own = zip(run["int8_ips"], run["fp32_ips"], strict=True)
        out[name] = run["info"] | {
            "fp32_images_per_s_x": ratio("fp32_ips"),
            "int8_images_per_s_x": ratio("int8_ips"),
            "int8_vs_own_fp32_x": round(statistics.median(a / b for a, b in own), 2),
            "query_p50_time_x": ratio("query_ms"),
            "absolute (shared machine, for orientation only)": {
                "fp32_images_per_s": round(statistics.median(run["fp32_ips"]), 2),
                "int8_images_per_s": round(statistics.median(run["int8_ips"]), 2),
                "query_p50_ms": round(statistics.median(run["query_ms"]), 1),
            },
        }
    return {
        "reference": names[0],
        "rounds": rounds,
        "images_per_round": images,
        "batch": BATCH,
        "queries_per_round": queries,
        "machine": machine(),
        "models": out,
    }
