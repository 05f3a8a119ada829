"""Resident memory of a search process: before torch, with the model loaded and idle.

Each precision runs in a fresh child process, so one's memory does not hide another's.
Prints JSON.

    python bench/memory.py                     # ViT-B-32, fp32 and the auto choice
    python bench/memory.py --precisions fp32,bf16
"""

from __future__ import annotations

import argparse
import gc
import json
import subprocess
import sys
from typing import Any

from _common import current_rss_mb, emit, machine, peak_rss_mb


def measure(model: str, pretrained: str, precision: str) -> dict[str, Any]:
    out: dict[str, Any] = {"start": current_rss_mb()}
    from finder.core.models.spec import resolve_model_spec
    from finder.core.models.torch_runtime import ClipEmbedder

    embedder = ClipEmbedder(resolve_model_spec(model, pretrained), precision=precision)
    import torch  # noqa: F401  (what importing torch alone costs)

    out["torch_imported"] = current_rss_mb()
    embedder.load()
    out["model_loaded"] = current_rss_mb()
    from PIL import Image

    embedder.encode_images([embedder.preprocess(Image.new("RGB", (640, 480), "gray"))])
    embedder.encode_texts(["a dog on a beach"])
    gc.collect()
    out["idle_after_queries"] = current_rss_mb()
    out["peak"] = peak_rss_mb()
    out["precision"] = embedder.precision_in_use
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", default="ViT-B-32")
    p.add_argument("--pretrained", default="none")
    p.add_argument("--precisions", default="fp32,auto")
    p.add_argument("--child", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        print(json.dumps(measure(args.model, args.pretrained, args.child)))
        return
    result: dict[str, Any] = {
        "benchmark": "memory",
        "machine": machine(),
        "model": f"{args.model} ({args.pretrained})",
        "rss_mb": {},
    }
    for precision in args.precisions.split(","):
        child = subprocess.run(
            [
                sys.executable,
                __file__,
                "--model",
                args.model,
                "--pretrained",
                args.pretrained,
                "--child",
                precision,
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        result["rss_mb"][precision] = json.loads(child.stdout.strip().splitlines()[-1])
    emit(result)


if __name__ == "__main__":
    main()
