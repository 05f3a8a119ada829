"""The one-time export of a torch model's two towers for ONNX Runtime, and where it lives.

Only OpenAI-style open_clip CLIPs qualify (causal text tower, default BPE tokenizer,
standard resize/crop); others keep the torch path. An export is a derived copy in the
data dir (data_dir/onnx/<hash of the key>), written to a temporary folder and renamed
into place, and checked against torch (cosine >= MIN_COSINE) before it is kept.
torch and open_clip are imported inside `export`, never at import time.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from finder.core.models.embedder import normalise
from finder.core.models.image_prep import PreprocessConfig
from finder.core.models.onnx_runtime import OnnxEmbedder
from finder.core.models.spec import ModelSpec
from finder.core.models.tokenizer import ClipTokenizer
from finder.core.models.torch_runtime import ClipEmbedder

log = logging.getLogger(__name__)

EXPORT_DIR = "onnx"
FORMAT = 1  # bump when the files or their meaning change: old exports are redone
MIN_COSINE = 0.9999  # ONNX Runtime against torch, at export
EXPORT_FILES = (
    "visual.onnx",
    "text.onnx",
    "token_embedding.npy",
    "positional_embedding.npy",
    "meta.json",
)


def export_dir(data_dir: Path, spec: ModelSpec | str) -> Path:
    """Where the export of a model (a spec or its key) lives in the data dir."""
    key = spec if isinstance(spec, str) else spec.key
    return data_dir / EXPORT_DIR / hashlib.sha1(key.encode()).hexdigest()[:16]


def find_export(data_dir: Path, spec: ModelSpec) -> Path | None:
    """The export of this model's weights, if complete and of this format."""
    folder = export_dir(data_dir, spec)
    try:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if meta.get("format") != FORMAT or meta.get("key") != spec.key:
        return None
    if not all((folder / name).is_file() for name in EXPORT_FILES):
        return None
    return folder


def marked_unsupported(data_dir: Path, spec: ModelSpec) -> bool:
    """True when an earlier export found this model cannot run on ONNX Runtime."""
    return (export_dir(data_dir, spec) / "unsupported").exists()


def remember_unsupported(data_dir: Path, spec: ModelSpec, reason: str) -> None:
    folder = export_dir(data_dir, spec)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "unsupported").write_text(reason + "\n", encoding="utf-8")
    except OSError:
        pass


class UnsupportedModelError(Exception):
    """This model cannot run on the ONNX path (it keeps the torch path)."""


def export(embedder: ClipEmbedder, data_dir: Path) -> Path:
    """Export a loaded torch model's towers; returns the folder. Written to a temporary
    folder and renamed into place, so a killed process leaves no half export."""
    import torch

    embedder.load()
    model = embedder.torch_model
    spec = embedder.spec
    tokenizer_cfg = _tokenizer_config(embedder)
    prep = PreprocessConfig.from_open_clip(model.visual.preprocess_cfg)
    if not embedder.encodes_short_text:
        raise UnsupportedModelError("its text tower is not an OpenAI-style causal one")
    if next(model.parameters()).dtype != torch.float32:
        raise UnsupportedModelError("only fp32 weights are exported")

    final = export_dir(data_dir, spec)
    final.parent.mkdir(parents=True, exist_ok=True)
    # Left by a process that quit mid-export (exports are made by the data dir's one
    # writer, so none is in progress now).
    for stale in final.parent.glob(".export-*"):
        shutil.rmtree(stale, ignore_errors=True)
    work = Path(tempfile.mkdtemp(prefix=".export-", dir=final.parent))
    try:
        size = prep.size
        pixels = torch.randn(2, 3, size[0], size[1])
        tokens = torch.as_tensor(
            ClipTokenizer(context_length=tokenizer_cfg["context_length"])(
                ["a photo of a dog", "an invoice from the hardware store, 2023"]
            )
        )
        # Exported with autograd on: under no_grad nn.MultiheadAttention takes a fused
        # fast path that has no ONNX form.
        with torch.inference_mode(False), torch.enable_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the exporter's deprecation/tracer notes
            visual, text_core = _towers(model)
            torch.onnx.export(
                visual,
                (pixels,),
                str(work / "visual.onnx"),
                input_names=["pixels"],
                output_names=["features"],
                dynamic_axes={"pixels": {0: "batch"}, "features": {0: "batch"}},
                dynamo=False,
                opset_version=17,
            )
            x, mask, eot = _text_inputs_torch(model, tokens)
            torch.onnx.export(
                text_core,
                (x, mask, eot),
                str(work / "text.onnx"),
                input_names=["x", "mask", "eot"],
                output_names=["features"],
                dynamic_axes={
                    "x": {0: "batch", 1: "length"},
                    "mask": {0: "length", 1: "length_"},
                    "eot": {0: "batch"},
                    "features": {0: "batch"},
                },
                dynamo=False,
                opset_version=17,
            )
            np.save(
                work / "token_embedding.npy", model.token_embedding.weight.detach().float().numpy()
            )
            np.save(
                work / "positional_embedding.npy",
                model.positional_embedding.detach().float().numpy(),
            )
        with torch.inference_mode():
            reference_images = model.encode_image(pixels).float().numpy()
            reference_texts = embedder.encode_texts_uncached(
                ["a photo of a dog", "an invoice from the hardware store, 2023"]
            )
        meta = {
            "format": FORMAT,
            "key": spec.key,
            "model": spec.describe(),
            "dim": int(reference_images.shape[1]),
            "preprocess": prep.to_json(),
            "tokenizer": tokenizer_cfg,
        }
        (work / "meta.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
        check = OnnxEmbedder(spec, work)
        images = check.encode_images(list(pixels.numpy()))
        texts = check.encode_texts_uncached(
            ["a photo of a dog", "an invoice from the hardware store, 2023"]
        )
        check.close()
        cosine = min(
            float(np.min(np.sum(normalise(reference_images) * images, axis=1))),
            float(np.min(np.sum(reference_texts * texts, axis=1))),
        )
        if cosine < MIN_COSINE:
            raise UnsupportedModelError(
                f"ONNX Runtime embeds with cosine {cosine:.5f} against torch"
            )
        meta["cosine_vs_torch"] = round(cosine, 6)
        (work / "meta.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
        if final.exists():
            shutil.rmtree(final)
        os.replace(work, final)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    log.info("exported %s for ONNX Runtime to %s", spec.describe(), final)
    return final


def _tokenizer_config(embedder: ClipEmbedder) -> dict[str, Any]:
    from open_clip.tokenizer import SimpleTokenizer

    tokenizer = embedder.torch_tokenizer
    if type(tokenizer) is not SimpleTokenizer:
        raise UnsupportedModelError(
            f"its tokenizer ({type(tokenizer).__name__}) is not the default CLIP one"
        )
    model = embedder.torch_model
    return {
        "context_length": int(tokenizer.context_length),
        "pool": str(model.text_pool_type),
        "eos_id": int(getattr(model, "text_eos_id", 0) or tokenizer.eot_token_id),
    }


def _text_inputs_torch(model: Any, tokens: Any) -> tuple[Any, Any, Any]:
    import torch

    eot = tokens.argmax(dim=-1)
    length = int(eot.max()) + 1
    x = model.token_embedding(tokens[:, :length]) + model.positional_embedding[:length]
    return x, model.attn_mask[:length, :length].clone(), eot.to(torch.int64)


def _towers(model: Any) -> tuple[Any, Any]:
    """The two exported graphs as torch modules (defined here: torch is imported late)."""
    import torch

    class Visual(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, pixels: torch.Tensor) -> torch.Tensor:
            features: torch.Tensor = self.model.encode_image(pixels)
            return features

    class TextCore(torch.nn.Module):
        """open_clip's CLIP.encode_text after the embedding lookup (done in numpy)."""

        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, x: torch.Tensor, mask: torch.Tensor, eot: torch.Tensor) -> torch.Tensor:
            for block in model.transformer.resblocks:
                x = x + block.ls_1(_attention(block, block.ln_1(x), mask))
                x = x + block.ls_2(block.mlp(block.ln_2(x)))
            x = model.ln_final(x)
            x = x[torch.arange(x.shape[0]), eot]
            projection = model.text_projection
            features: torch.Tensor = (
                projection(x) if isinstance(projection, torch.nn.Linear) else x @ projection
            )
            return features

    from open_clip.transformer import ResidualAttentionBlock

    if not all(
        type(b) is ResidualAttentionBlock and not hasattr(b, "ln_1_kv")
        for b in model.transformer.resblocks
    ):
        raise UnsupportedModelError("its text tower has custom attention blocks")
    # In eval mode: the exporter puts a module back in the mode it found it in, children
    # included, and a new module is in training mode (BatchNorm would then drift).
    return Visual().eval(), TextCore().eval()


def _attention(block: Any, x: Any, mask: Any) -> Any:
    """nn.MultiheadAttention's self-attention, batch first, written out: traced, the
    module's own reshapes keep the export's sequence length as constants."""
    import torch

    attn = block.attn
    heads = attn.num_heads
    head_dim = attn.embed_dim // heads
    q, k, v = torch.nn.functional.linear(x, attn.in_proj_weight, attn.in_proj_bias).chunk(3, -1)
    q, k, v = (t.reshape(x.shape[0], -1, heads, head_dim).transpose(1, 2) for t in (q, k, v))
    weights = torch.softmax(q @ k.transpose(-1, -2) * head_dim**-0.5 + mask, dim=-1)
    out = (weights @ v).transpose(1, 2).reshape(x.shape[0], -1, attn.embed_dim)
    return attn.out_proj(out)
