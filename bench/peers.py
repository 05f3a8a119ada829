"""finder against its peers, in one run: photos/s of `finder index` (OCR on, as installed),
`finder index --no-ocr`, rclip, and the LangChain `OpenCLIPEmbeddings.embed_image` loop.

Each tool runs as its own process on a folder of generated 12 MP JPEGs (photo-like, no
text), once with a small and once with a large folder; the difference cancels start-up
(imports, model load), so photos/s = (large - small) / (t_large - t_small). The tools run
interleaved, round after round (the cores are shared: load drifts), and each figure is
the median over rounds; the ratios are computed within each round first.

Weights: no real weights are reachable here, and speed does not depend on their values,
so each tool runs random weights of its real architecture: finder `--pretrained none`
(ViT-B-32), the LangChain loop open_clip ViT-B-32 with `pretrained=None`, rclip its own
ViT-B-32 model files with random values where it cannot download them (see rclip_prep).

finder's one-time work (the ONNX export, the int8 decision) is made once in a template
data dir and copied into each run's fresh data dir, as an installed finder has it after
its first start; each run indexes into a fresh data dir.

    python bench/peers.py                        # 20 and 100 photos, 2 rounds
    python bench/peers.py --small 8 --large 24 --rounds 1   # quick
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import emit, machine, photo

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
SOURCE = ROOT  # the finder tree the runs import (--source: a snapshot of it)
MODEL = ["--model", "ViT-B-32", "--pretrained", "none"]

# The LangChain loop, as langchain_experimental.open_clip.OpenCLIPEmbeddings.embed_image
# writes it (every file opened with PIL, then one image at a time: preprocess, encode_image
# without no_grad, normalise, tolist), after __init__'s create_model_and_transforms.
LANGCHAIN_LOOP = r"""
import sys, open_clip, torch
from PIL import Image as _PILImage
torch.manual_seed(0)
model, _, preprocess = open_clip.create_model_and_transforms(
    model_name="ViT-B-32", pretrained=None)  # checkpoint="openai" in real use
model.eval()
uris = sys.argv[1:]
pil_images = [_PILImage.open(uri) for uri in uris]
image_features = []
for pil_image in pil_images:
    preprocessed_image = preprocess(pil_image).unsqueeze(0)
    embeddings_tensor = model.encode_image(preprocessed_image)
    norm = embeddings_tensor.norm(p=2, dim=1, keepdim=True)
    normalized_embeddings_tensor = embeddings_tensor.div(norm)
    embeddings_list = normalized_embeddings_tensor.squeeze(0).tolist()
    image_features.append(embeddings_list)
assert len(image_features) == len(uris)
"""


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--small", type=int, default=20, help="photos in the small run")
    p.add_argument("--large", type=int, default=100, help="photos in the large run")
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--size", default="4000x3000")
    p.add_argument("--quality", type=int, default=86, help="JPEG quality (86: ~2.7 MB)")
    p.add_argument(
        "--photos",
        type=Path,
        help="a folder of JPEGs to use instead of generated ones (bench/real_photos.py)",
    )
    p.add_argument("--rclip-python", default="/tmp/rclip-venv/bin/python")
    p.add_argument("--tools", default="finder,finder_no_ocr,rclip,langchain", help="which to run")
    p.add_argument(
        "--source", default=str(ROOT), help="the finder source tree to run (default: this one)"
    )
    p.add_argument("--workdir", default=str(Path(tempfile.gettempdir()) / "finder-bench"))
    args = p.parse_args()
    global SOURCE
    SOURCE = Path(args.source).resolve()
    size = (int(args.size.split("x")[0]), int(args.size.split("x")[1]))
    work = Path(args.workdir) / "peers"
    if args.photos:
        photos = sorted(args.photos.glob("*.jpg"))[: args.large]
        if len(photos) < args.large:
            raise SystemExit(f"{args.photos} holds {len(photos)} JPEGs; --large is {args.large}")
    else:
        photos = make_photos(work / f"photos-{args.size}-q{args.quality}", args.large, size, args)
    folders = {
        n: linked(photos[:n], work / "runs" / f"photos-{n}") for n in (args.small, args.large)
    }
    tools = args.tools.split(",")
    result: dict[str, Any] = {
        "benchmark": "peers",
        "machine": machine(),
        "data": {
            "photos": [args.small, args.large],
            "size": args.size,
            "source": str(args.photos) if args.photos else "generated",
            "mean_photo_mb": round(statistics.mean(f.stat().st_size for f in photos) / 2**20, 2),
        },
        "method": "photos/s = (large - small) / (t_large - t_small), tools interleaved, "
        "median over rounds",
    }
    runners: dict[str, Any] = {}
    skipped: dict[str, str] = {}
    if "finder" in tools or "finder_no_ocr" in tools:
        template = finder_template(work, folders[args.small])
        result["finder_template"] = template["info"]
        if "finder" in tools:
            runners["finder"] = lambda folder: run_finder(template["dir"], folder, ocr=True)
        if "finder_no_ocr" in tools:
            runners["finder_no_ocr"] = lambda folder: run_finder(template["dir"], folder, ocr=False)
    if "rclip" in tools:
        reason = rclip_prep(args.rclip_python, work)
        if reason:
            skipped["rclip"] = reason
        else:
            runners["rclip"] = lambda folder: run_rclip(args.rclip_python, work, folder)
    if "langchain" in tools:
        runners["langchain"] = run_langchain

    seconds: dict[str, dict[int, list[float]]] = {
        t: {args.small: [], args.large: []} for t in runners
    }
    for _ in range(args.rounds):
        for n in (args.small, args.large):
            for name, runner in runners.items():
                seconds[name][n].append(runner(folders[n]))
    # A round where the large run took no longer than the small one (a load spike during
    # the small run) says nothing: None, left out of the medians.
    per_round = {
        name: [
            (args.large - args.small) / (big - small) if big > small else None
            for small, big in zip(times[args.small], times[args.large], strict=True)
        ]
        for name, times in seconds.items()
    }
    result["photos_per_s"] = {n: median(v) for n, v in per_round.items()}
    result["photos_per_s_each_round"] = {n: rounded(v) for n, v in per_round.items()}
    result["seconds"] = {
        n: {str(k): [round(x, 2) for x in v] for k, v in t.items()} for n, t in seconds.items()
    }
    result["ratios"] = ratios(per_round)
    if skipped:
        result["skipped"] = skipped
    result["machine"]["loadavg_after"] = machine()["loadavg_1_5_15"]
    emit(result)


def median(values: list[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return round(statistics.median(kept), 2) if kept else None


def rounded(values: list[float | None]) -> list[float | None]:
    return [None if v is None else round(v, 2) for v in values]


def ratios(per_round: dict[str, list[float | None]]) -> dict[str, Any]:
    """Each ratio within a round (the same load for both), then the median of rounds."""
    pairs = [
        ("finder_vs_rclip", "finder", "rclip"),
        ("finder_vs_langchain", "finder", "langchain"),
        ("finder_no_ocr_vs_rclip", "finder_no_ocr", "rclip"),
        ("finder_no_ocr_vs_langchain", "finder_no_ocr", "langchain"),
        ("finder_vs_finder_no_ocr", "finder", "finder_no_ocr"),
    ]
    out: dict[str, Any] = {}
    for name, a, b in pairs:
        if a in per_round and b in per_round:
            each = [
                x / y if x is not None and y is not None else None
                for x, y in zip(per_round[a], per_round[b], strict=True)
            ]
            out[name] = median(each)
            out[name + "_each_round"] = rounded(each)
    return out


# -- the photos ---------------------------------------------------------------------------


def make_photos(folder: Path, count: int, size: tuple[int, int], args: Any) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        path = folder / f"IMG_{i:05d}.jpg"
        if not path.exists():
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(photo(i, size, quality=args.quality))
            tmp.rename(path)
        paths.append(path)
    return paths


def linked(files: list[Path], folder: Path) -> Path:
    """A folder holding exactly `files` (hard links: the same bytes, no copying)."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for f in files:
        try:
            (folder / f.name).hardlink_to(f)
        except OSError:
            shutil.copy2(f, folder / f.name)
    return folder


def timed(command: list[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> float:
    started = time.perf_counter()
    done = subprocess.run(
        command, env={**os.environ, **(env or {})}, cwd=cwd, capture_output=True, text=True
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{command[:4]}... exit {done.returncode}: {done.stderr[-2000:]}")
    return elapsed


# -- finder ---------------------------------------------------------------------------------


def finder_template(work: Path, folder: Path) -> dict[str, Any]:
    """A data dir after finder's first start on these photos: the ONNX export (and what
    else is kept once per model) made; the catalog and index are dropped."""
    template = work / "finder-template"
    if not (template / "onnx").is_dir():
        shutil.rmtree(template, ignore_errors=True)
        data = work / "finder-template-work"
        shutil.rmtree(data, ignore_errors=True)
        started = time.perf_counter()
        finder(["index", str(folder), "--no-ocr", "-q"], data)
        template.mkdir(parents=True)
        for kept in ("onnx", "precision"):
            if (data / kept).exists():
                shutil.copytree(data / kept, template / kept)
        shutil.rmtree(data, ignore_errors=True)
        (template / "first-start-s.txt").write_text(f"{time.perf_counter() - started:.1f}")
    status = finder_status(template, folder)
    return {
        "dir": template,
        "info": {
            "first_start_s": float((template / "first-start-s.txt").read_text()),
            "runtime": status.get("runtime"),
        },
    }


def finder_status(template: Path, folder: Path) -> dict[str, Any]:
    data = Path(tempfile.mkdtemp(prefix="finder-peers-"))
    try:
        copy_template(template, data)
        out = subprocess.run(
            finder_command(["status", "--json"], data),
            capture_output=True,
            text=True,
            cwd=SOURCE,
            env={**os.environ, "PYTHONPATH": str(SOURCE)},
        )
        try:
            parsed: dict[str, Any] = json.loads(out.stdout)
            return parsed
        except ValueError:
            return {}
    finally:
        shutil.rmtree(data, ignore_errors=True)


def copy_template(template: Path, data: Path) -> None:
    data.mkdir(parents=True, exist_ok=True)
    for kept in template.iterdir():
        if kept.is_dir():
            shutil.copytree(kept, data / kept.name)


def finder_command(args: list[str], data: Path) -> list[str]:
    return [PYTHON, "-m", "finder", args[0], "--data-dir", str(data), *MODEL, *args[1:]]


def finder(args: list[str], data: Path) -> float:
    return timed(finder_command(args, data), {"PYTHONPATH": str(SOURCE)}, cwd=SOURCE)


def run_finder(template: Path, folder: Path, *, ocr: bool) -> float:
    data = Path(tempfile.mkdtemp(prefix="finder-peers-"))
    try:
        copy_template(template, data)
        return finder(["index", str(folder), "-q", *([] if ocr else ["--no-ocr"])], data)
    finally:
        shutil.rmtree(data, ignore_errors=True)


# -- rclip ----------------------------------------------------------------------------------


RCLIP_SUBDIR = "ViT-B-32-256-datacomp_s34b_b86k"  # rclip.model_download.MODEL_SUBDIR
# rclip's model files with random values (no network here): its architecture
# (open_clip ViT-B-32-256), its input and output names, exported as fp32 ONNX.
RCLIP_RANDOM_WEIGHTS = r"""
import gzip, os, shutil, sys, open_clip, torch
out = sys.argv[1]
os.makedirs(os.path.join(out, "tokenizer"), exist_ok=True)
torch.manual_seed(0)
torch.backends.mha.set_fastpath_enabled(False)  # the fused kernel has no ONNX form
model = open_clip.create_model("ViT-B-32-256", pretrained=None).eval()
class Visual(torch.nn.Module):
    def __init__(self, m): super().__init__(); self.m = m
    def forward(self, input): return self.m.encode_image(input)
class Textual(torch.nn.Module):
    def __init__(self, m): super().__init__(); self.m = m
    def forward(self, input): return self.m.encode_text(input)
with torch.no_grad():
    torch.onnx.export(Visual(model), (torch.randn(2, 3, 256, 256),),
        os.path.join(out, "visual.onnx.tmp"), input_names=["input"], output_names=["output"],
        dynamic_axes={"input": {0: "b"}, "output": {0: "b"}}, dynamo=False, opset_version=17)
    torch.onnx.export(Textual(model), (torch.zeros(2, 77, dtype=torch.int64),),
        os.path.join(out, "textual.onnx.tmp"), input_names=["input"], output_names=["output"],
        dynamic_axes={"input": {0: "b"}, "output": {0: "b"}}, dynamo=False, opset_version=17)
os.replace(os.path.join(out, "textual.onnx.tmp"), os.path.join(out, "textual.onnx"))
os.replace(os.path.join(out, "visual.onnx.tmp"), os.path.join(out, "visual.onnx"))
vocab = os.path.join(os.path.dirname(open_clip.__file__), "bpe_simple_vocab_16e6.txt.gz")
shutil.copy(vocab, os.path.join(out, "tokenizer", "bpe_simple_vocab_16e6.txt.gz"))
"""


def rclip_prep(python: str, work: Path) -> str:
    """'' when rclip can run here; else why not (the JSON says so)."""
    if not Path(python).exists():
        return f"rclip is not installed ({python} missing): pip install rclip into its own venv"
    probe = subprocess.run(
        [python, "-c", "import rclip.model_download as m; print(m.MODEL_SUBDIR)"],
        capture_output=True,
        text=True,
    )
    if probe.returncode != 0:
        return f"rclip does not import: {probe.stderr.strip()[-300:]}"
    if probe.stdout.strip() != RCLIP_SUBDIR:
        return f"rclip's model is {probe.stdout.strip()}, not {RCLIP_SUBDIR}: update bench"
    models = rclip_models(work)
    if not (models / "visual.onnx").is_file():
        done = subprocess.run(
            [PYTHON, "-c", RCLIP_RANDOM_WEIGHTS, str(models)], capture_output=True, text=True
        )
        if done.returncode != 0:
            return f"rclip's model could not be made with random weights: {done.stderr[-300:]}"
    return ""


def rclip_models(work: Path) -> Path:
    return work / "rclip-models" / RCLIP_SUBDIR


def run_rclip(python: str, work: Path, folder: Path) -> float:
    """rclip indexes the current folder before its first search: a fresh data dir (its
    database) each run, its model files linked in (RCLIP_DATADIR holds both)."""
    data = Path(tempfile.mkdtemp(prefix="rclip-peers-"))
    try:
        models = rclip_models(work)
        (data / RCLIP_SUBDIR).mkdir()
        for name in ("visual.onnx", "textual.onnx"):
            (data / RCLIP_SUBDIR / name).symlink_to(models / name)
        (data / "tokenizer").symlink_to(models / "tokenizer")
        env = {"RCLIP_DATADIR": str(data), "HF_HUB_OFFLINE": "1"}
        return timed([python, "-m", "rclip", "-f", "-t", "1", "a photo"], env, cwd=folder)
    finally:
        shutil.rmtree(data, ignore_errors=True)


# -- the LangChain loop ---------------------------------------------------------------------


def run_langchain(folder: Path) -> float:
    photos = sorted(str(p) for p in folder.glob("*.jpg"))
    return timed([PYTHON, "-c", LANGCHAIN_LOOP, *photos])


if __name__ == "__main__":
    main()
