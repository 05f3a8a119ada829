"""Exporting a torch model's two towers for ONNX Runtime, into a model folder
(finder.core.models.model_folder: the layout of the ready exports on the hub).

Only OpenAI-style open_clip CLIPs qualify (causal text tower, default BPE tokenizer,
standard resize/crop); others keep the torch path. The data dir keeps one derived copy
per model (data_dir/onnx/<hash of the key>), made once after the model is loaded with
torch; `finder models export MODEL DIR` writes the same folder anywhere. Either is
written to a temporary folder, checked against torch (cosine >= MIN_COSINE) and only
then renamed into place. torch and open_clip are imported inside `export_to`.
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
from finder.core.models.export_attention import self_attention, standard_blocks, written_out
from finder.core.models.image_prep import PreprocessConfig
from finder.core.models.model_folder import (
    CLIP_VOCAB,
    CONFIG,
    META,
    PREPROCESS,
    TEXTUAL,
    VISUAL,
    is_model_folder,
)
from finder.core.models.onnx_runtime import OnnxEmbedder
from finder.core.models.spec import ModelSpec
from finder.core.models.tokenizer import default_vocab_path
from finder.core.models.torch_runtime import ClipEmbedder

log = logging.getLogger(__name__)

EXPORT_DIR = "onnx"
FORMAT = 2  # bump when the files or their meaning change: old exports are redone
MIN_COSINE = 0.9999  # ONNX Runtime against torch, at export
CHECK_TEXTS = ["a photo of a dog", "an invoice from the hardware store, 2023"]


def export_dir(data_dir: Path, spec: ModelSpec | str) -> Path:
    """Where the export of a model (a spec or its key) lives in the data dir."""
    key = spec if isinstance(spec, str) else spec.key
    return data_dir / EXPORT_DIR / hashlib.sha1(key.encode()).hexdigest()[:16]


def find_export(data_dir: Path, spec: ModelSpec) -> Path | None:
    """The export of this model's weights, if complete and of this format."""
    folder = export_dir(data_dir, spec)
    try:
        meta = json.loads((folder / META).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if meta.get("format") != FORMAT or meta.get("key") != spec.key:
        return None
    return folder if is_model_folder(folder) else None


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
    """Export a loaded torch model into the data dir's copy; returns the folder."""
    final = export_dir(data_dir, embedder.spec)
    final.parent.mkdir(parents=True, exist_ok=True)
    # Left by a process that quit mid-export (exports are made by the data dir's one
    # writer, so none is in progress now).
    for stale in final.parent.glob(".export-*"):
        shutil.rmtree(stale, ignore_errors=True)
    return export_to(embedder, final, replace=True)


def export_to(embedder: ClipEmbedder, final: Path, *, replace: bool = False) -> Path:
    """Write a model folder of `embedder` at `final` (which must not exist unless
    `replace`): written beside it, checked against torch, then renamed into place, so a
    killed process leaves no half folder. UnsupportedModelError says why not."""
    import torch

    embedder.load()
    model = embedder.torch_model
    spec = embedder.spec
    text_cut = _text_cut(embedder)
    prep = PreprocessConfig.from_open_clip(model.visual.preprocess_cfg)
    if next(model.parameters()).dtype != torch.float32:
        raise UnsupportedModelError("only fp32 weights are exported")
    if final.exists() and not replace and any(final.iterdir()):
        raise FileExistsError(f"{final} exists and is not empty: choose a new folder")
    final.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".export-", dir=final.parent))
    try:
        (work / "visual").mkdir()
        (work / "textual").mkdir()
        size = prep.size
        pixels = torch.randn(2, 3, size[0], size[1])
        # Traced on rows cut after their last real token, as the runtime feeds them:
        # the graph takes any length.
        tokens = torch.as_tensor(embedder.torch_tokenizer(CHECK_TEXTS))
        if text_cut is not None:
            tokens = tokens[:, : int(tokens.argmax(dim=-1).max()) + 1]
        # Exported with autograd on: under no_grad nn.MultiheadAttention takes a fused
        # fast path that has no ONNX form.
        with torch.inference_mode(False), torch.enable_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the exporter's deprecation/tracer notes
            visual, textual = _towers(model, text_cut)
            with written_out(model.visual):
                torch.onnx.export(
                    visual,
                    (pixels,),
                    str(work / VISUAL),
                    input_names=["image"],
                    output_names=["embedding"],
                    dynamic_axes={"image": {0: "batch"}, "embedding": {0: "batch"}},
                    dynamo=False,
                    opset_version=17,
                )
            torch.onnx.export(
                textual,
                (tokens,),
                str(work / TEXTUAL),
                input_names=["text"],
                output_names=["embedding"],
                dynamic_axes={"text": {0: "batch", 1: "length"}, "embedding": {0: "batch"}},
                dynamo=False,
                opset_version=17,
            )
        with torch.inference_mode():
            reference_images = model.encode_image(pixels).float().numpy()
            reference_texts = embedder.encode_texts_uncached(CHECK_TEXTS)
        shutil.copyfile(default_vocab_path(), work / CLIP_VOCAB)
        config = _model_config(spec)
        config["embed_dim"] = int(reference_images.shape[1])
        _write_json(work / CONFIG, config)
        _write_json(work / PREPROCESS, prep.to_json())
        meta: dict[str, Any] = {
            "format": FORMAT,
            "key": spec.key,
            "name": spec.name,
            "model": spec.describe(),
            "text_cut": text_cut,
        }
        _write_json(work / META, meta)
        check = OnnxEmbedder(spec, work)
        images = check.encode_images(list(pixels.numpy()))
        texts = check.encode_texts_uncached(CHECK_TEXTS)
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
        _write_json(work / META, meta)
        if final.exists():
            shutil.rmtree(final)
        os.replace(work, final)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    log.info("exported %s for ONNX Runtime to %s", spec.describe(), final)
    return final


def _write_json(path: Path, value: Any) -> None:
    path.write_text(json.dumps(value, indent=2), encoding="utf-8")


def _model_config(spec: ModelSpec) -> dict[str, Any]:
    """open_clip's config of the model (embed_dim, vision_cfg, text_cfg)."""
    import open_clip

    if spec.config_path is not None:
        open_clip.add_model_config(spec.config_path)
    config = open_clip.get_model_config(spec.name)
    copy: dict[str, Any] = json.loads(json.dumps(config or {}))  # plain, JSON-ready
    return copy


def _text_cut(embedder: ClipEmbedder) -> dict[str, Any] | None:
    """How the runtime cuts token rows (the text graph takes any length), or None for a
    text tower that sees the padding (MobileCLIP's has no causal mask): it is exported
    whole and fed rows of the context length. Raises UnsupportedModelError for a
    tokenizer the export does not cover."""
    from open_clip.tokenizer import SimpleTokenizer

    tokenizer = embedder.torch_tokenizer
    if type(tokenizer) is not SimpleTokenizer:
        raise UnsupportedModelError(
            f"its tokenizer ({type(tokenizer).__name__}) is not the default CLIP one"
        )
    if not embedder.encodes_short_text:
        return None  # the fidelity check below still decides whether it is kept
    model = embedder.torch_model
    return {
        "pool": str(model.text_pool_type),
        "eos_id": int(getattr(model, "text_eos_id", 0) or tokenizer.eot_token_id),
    }


def _towers(model: Any, text_cut: dict[str, Any] | None) -> tuple[Any, Any]:
    """The two exported graphs as torch modules (defined here: torch is imported late),
    in eval mode: the exporter puts a module back in the mode it found it in, children
    included, and a new module is in training mode (BatchNorm would then drift)."""
    import torch

    class Method(torch.nn.Module):
        """One of open_clip's own encode methods (encode_image; encode_text on rows
        padded to the context length, for a text tower without a cut)."""

        def __init__(self, name: str) -> None:
            super().__init__()
            self.model = model
            self.name = name

        def forward(self, rows: torch.Tensor) -> torch.Tensor:
            features: torch.Tensor = getattr(self.model, self.name)(rows)
            return features

    if text_cut is None:
        return Method("encode_image").eval(), Method("encode_text").eval()
    cut: dict[str, Any] = text_cut

    class Textual(torch.nn.Module):
        """open_clip's CLIP.encode_text over the rows' own length (any, up to the
        context), pooled at the end-of-text token as `cut` says."""

        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, text: torch.Tensor) -> torch.Tensor:
            length = text.shape[1]
            x = model.token_embedding(text) + model.positional_embedding[:length]
            mask = model.attn_mask[:length, :length]
            for block in model.transformer.resblocks:
                x = x + block.ls_1(self_attention(block, block.ln_1(x), mask))
                x = x + block.ls_2(block.mlp(block.ln_2(x)))
            x = model.ln_final(x)
            if cut["pool"] == "argmax":
                eot = text.argmax(dim=-1)
            else:
                eot = (text == cut["eos_id"]).int().argmax(dim=-1)
            x = x[torch.arange(x.shape[0]), eot]
            projection = model.text_projection
            features: torch.Tensor = (
                projection(x) if isinstance(projection, torch.nn.Linear) else x @ projection
            )
            return features

    # The written-out attention above serves open_clip's plain blocks only.
    if not standard_blocks(model):
        raise UnsupportedModelError("its text tower has custom attention blocks")
    return Method("encode_image").eval(), Textual().eval()
