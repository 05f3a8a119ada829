"""Train the tiny OpenCLIP model the tests search with: meaningful rankings, a few MB.

    .venv/bin/python tools/train_test_model.py [--out tests/models] [--steps N] [--seed 0]

Writes finder-tiny.json (an ordinary open_clip model config) and finder-tiny.pt (its fp16
state_dict). The model learns, from synthetic pictures (tools/synthetic_data.py):
  "a red circle"  <-> pictures of red circles (30 colour/shape classes),
  "invoice"       <-> pictures of pages with the word "invoice" (8 document classes),
and the text tower also learns document-like passages ("This document is about a red
circle.", "invoice: amount due 42"), because the app matches document passages against
dropped pictures. CPU only, 2 threads, a few minutes; everything seeded.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import random
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import open_clip
import torch
import torch.nn.functional as F
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a plain script
from tools import synthetic_data as sd  # noqa: E402

NAME = "finder-tiny"
CONFIG: dict[str, Any] = {
    "embed_dim": 64,
    # A tiny ModifiedResNet (as in OpenAI's RN50 config, layers as a list): on a few minutes
    # of CPU a CNN learns shapes and words several times faster than a ViT of equal cost.
    "vision_cfg": {"image_size": 64, "layers": [1, 1, 1, 1], "width": 16},
    # vocab_size must stay 49408: the default open_clip SimpleTokenizer is used.
    "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 48, "heads": 4, "layers": 2},
}
IMAGE_SIZE = 96  # drawn size; the val preprocess shrinks it to the model's 64
POOL_PER_CLASS = 24  # pictures kept per class; refreshed as training goes
REFRESH_PER_STEP = 24  # new pictures drawn per step, replacing random old ones
DOC_WEIGHT = 2  # pictures of each document class per picture of each shape class

Label = tuple[str, ...]  # (color, shape) or (word,)
Preprocess = Callable[[Image.Image], torch.Tensor]


def all_labels() -> list[Label]:
    return [(c, s) for c in sd.COLORS for s in sd.SHAPES] + [(w,) for w in sd.DOC_WORDS]


def draw(label: Label, rng: random.Random) -> Image.Image:
    if len(label) == 2:
        return sd.draw_shape(label[0], label[1], rng, IMAGE_SIZE)
    return sd.draw_document(label[0], rng, IMAGE_SIZE)


def random_text(label: Label, rng: random.Random) -> str:
    if len(label) == 2:
        return sd.random_shape_text(label[0], label[1], rng)
    return sd.random_word_text(label[0], rng)


def degrade(img: Image.Image, rng: random.Random) -> Image.Image:
    """What copies of a photo go through: crop, resize, JPEG. Makes near-duplicates match."""
    w, h = img.size
    if rng.random() < 0.5:
        keep = rng.uniform(0.85, 1.0)
        cw, ch = int(w * keep), int(h * keep)
        x, y = rng.randint(0, w - cw), rng.randint(0, h - ch)
        img = img.crop((x, y, x + cw, y + ch))
    if rng.random() < 0.5:
        side = rng.randint(48, 160)
        img = img.resize((side, side), Image.Resampling.BILINEAR)
    if rng.random() < 0.5:
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=rng.randint(40, 95))
        img = Image.open(io.BytesIO(buf.getvalue())).convert("RGB")
    return img


def fresh_picture(label: Label, rng: random.Random, preprocess: Preprocess) -> torch.Tensor:
    img = draw(label, rng)
    if rng.random() < 0.5:
        img = degrade(img, rng)
    return preprocess(img)


class Pool:
    """Preprocessed training pictures per class; a slice is redrawn every step, so the
    model keeps seeing new ones without paying to draw a whole batch each step."""

    def __init__(self, labels: list[Label], preprocess: Preprocess, rng: random.Random) -> None:
        self.labels, self.preprocess, self.rng = labels, preprocess, rng
        self.images = torch.stack(
            [
                fresh_picture(label, rng, preprocess)
                for label in labels
                for _ in range(POOL_PER_CLASS)
            ]
        )
        self.targets = torch.tensor([i for i in range(len(labels)) for _ in range(POOL_PER_CLASS)])

    def refresh(self, count: int) -> None:
        for slot in self.rng.sample(range(len(self.targets)), count):
            label = self.labels[int(self.targets[slot])]
            self.images[slot] = fresh_picture(label, self.rng, self.preprocess)

    def batch(self, counts: Sequence[int]) -> tuple[torch.Tensor, torch.Tensor]:
        """counts[c] random pictures of class c: every text has positives in the batch."""
        slots = torch.tensor(
            [
                c * POOL_PER_CLASS + i
                for c, n in enumerate(counts)
                for i in self.rng.sample(range(POOL_PER_CLASS), n)
            ]
        )
        return self.images[slots], self.targets[slots]


def multi_positive_loss(
    image_emb: torch.Tensor,
    text_emb: torch.Tensor,
    image_cls: torch.Tensor,
    text_cls: torch.Tensor,
    logit_scale: torch.Tensor,
) -> torch.Tensor:
    """Symmetric InfoNCE where every same-class pair is a positive: a batch holds several
    pictures of a class, and plain CLIP loss would push them apart."""
    logits = logit_scale.exp().clamp(max=100) * image_emb @ text_emb.T
    same = (image_cls[:, None] == text_cls[None, :]).float()
    to_text = -(same / same.sum(1, keepdim=True) * F.log_softmax(logits, 1)).sum(1).mean()
    to_image = -(same.T / same.T.sum(1, keepdim=True) * F.log_softmax(logits.T, 1)).sum(1).mean()
    return (to_text + to_image) / 2


def param_groups(model: torch.nn.Module, weight_decay: float) -> list[dict[str, Any]]:
    # Decay only matrices: embeddings, norms, biases and the temperature stay free.
    decay, keep = [], []
    for name, p in model.named_parameters():
        matrix = p.ndim >= 2 and "embedding" not in name
        (decay if matrix else keep).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": keep, "weight_decay": 0.0}]


def train(
    model: Any,
    tokenizer: Any,
    preprocess: Preprocess,
    steps: int,
    per_class: int,
    lr: float,
    seed: int,
) -> None:
    rng = random.Random(seed)
    labels = all_labels()
    started = time.perf_counter()
    pool = Pool(labels, preprocess, rng)
    print(f"pool: {len(pool.targets)} pictures in {time.perf_counter() - started:.1f}s", flush=True)
    opt = torch.optim.AdamW(param_groups(model, 0.05), lr=lr, betas=(0.9, 0.98), eps=1e-6)
    warmup = max(1, steps // 20)

    def lr_factor(step: int) -> float:  # linear warm-up, then cosine down to zero
        cosine = 0.5 * (1 + math.cos(math.pi * min(step, steps) / steps))
        return min(1.0, (step + 1) / warmup) * cosine

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_factor)
    # Reading a word at 64 px is harder than telling shapes apart: show pages twice as often.
    counts = [per_class * (DOC_WEIGHT if len(label) == 1 else 1) for label in labels]
    print(f"each step: {sum(counts)} pictures, {per_class * len(labels)} texts", flush=True)
    model.train()
    for step in range(1, steps + 1):
        pool.refresh(REFRESH_PER_STEP)
        images, image_cls = pool.batch(counts)
        # Texts drawn afresh each step, captions and passages alike, every class as often.
        text_cls = torch.arange(len(labels)).repeat(per_class)
        tokens = tokenizer([random_text(labels[int(c)], rng) for c in text_cls])
        image_emb = F.normalize(model.encode_image(images), dim=-1)
        text_emb = F.normalize(model.encode_text(tokens), dim=-1)
        loss = multi_positive_loss(image_emb, text_emb, image_cls, text_cls, model.logit_scale)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        if step % 50 == 0 or step == steps:
            print(
                f"step {step:4d}/{steps}  loss {loss.item():.3f}  "
                f"scale {model.logit_scale.exp().item():5.1f}  "
                f"{time.perf_counter() - started:5.0f}s",
                flush=True,
            )
    model.eval()


# -- evaluation on files the model never saw -------------------------------------------------


def _embed_images(model: Any, preprocess: Preprocess, images: Sequence[Image.Image]) -> np.ndarray:
    with torch.inference_mode():
        feats = model.encode_image(torch.stack([preprocess(i.convert("RGB")) for i in images]))
    return F.normalize(feats.float(), dim=-1).numpy()


def _embed_texts(model: Any, tokenizer: Any, texts: Sequence[str]) -> np.ndarray:
    with torch.inference_mode():
        feats = model.encode_text(tokenizer(list(texts)))
    return F.normalize(feats.float(), dim=-1).numpy()


def _top1(queries: np.ndarray, gallery: np.ndarray) -> np.ndarray:
    return (queries @ gallery.T).argmax(1)


def near_duplicate(img: Image.Image) -> Image.Image:
    """A shrunk, cropped, JPEG q=70 copy."""
    w, h = img.size
    img = img.crop((int(w * 0.05), int(h * 0.05), int(w * 0.97), int(h * 0.96)))
    img = img.resize((int(img.width * 0.8), int(img.height * 0.8)), Image.Resampling.BILINEAR)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=70)
    return Image.open(io.BytesIO(buf.getvalue())).convert("RGB")


def evaluate(
    model: Any, tokenizer: Any, preprocess: Preprocess, seed: int, folder: Path
) -> tuple[dict[str, float], dict[str, np.ndarray]]:
    """Recall@1 on freshly generated folders, read back from disk as the app reads them.
    Also returns each query's top-1 pick, to compare two copies of a model."""
    photos = sd.make_photo_folder(folder / "photos", seed)
    docs = sd.make_document_folder(folder / "docs", seed, scans=True)
    scans = [s for s in docs if s.kind == "scan"]
    passages = [s for s in docs if s.kind == "document"]
    pictures = photos + scans
    n_photo = len(photos)
    loaded = [Image.open(s.path).convert("RGB") for s in pictures]
    image_emb = _embed_images(model, preprocess, loaded)
    queries = _embed_texts(model, tokenizer, [s.query for s in pictures])
    passage_emb = _embed_texts(model, tokenizer, [s.text or "" for s in passages])
    dupes = _embed_images(model, preprocess, [near_duplicate(i) for i in loaded[:n_photo]])

    picture_of = {s.label: i for i, s in enumerate(pictures)}
    passage_of = {s.label: i for i, s in enumerate(passages)}
    truth = np.array([picture_of[s.label] for s in pictures])
    passage_truth = np.array([passage_of[s.label] for s in pictures])
    picks = {
        # "a red circle" -> the red circle among every picture, shapes and scans alike.
        "text->image": _top1(queries[:n_photo], image_emb),
        "word->scan": _top1(queries[n_photo:], image_emb),
        # A dropped picture -> its document among every passage (shape and word documents).
        "image->passage": _top1(image_emb[:n_photo], passage_emb),
        "scan->passage": _top1(image_emb[n_photo:], passage_emb),
        "scan->word": _top1(image_emb[n_photo:], queries[n_photo:]) + n_photo,
        # A cropped, shrunk JPEG copy -> its original among the shape pictures.
        "near-duplicate": _top1(dupes, image_emb[:n_photo]),
    }
    expected = {
        "text->image": truth[:n_photo],
        "word->scan": truth[n_photo:],
        "image->passage": passage_truth[:n_photo],
        "scan->passage": passage_truth[n_photo:],
        "scan->word": truth[n_photo:],
        "near-duplicate": truth[:n_photo],
    }
    metrics = {k: float(np.mean(picks[k] == expected[k])) for k in picks}
    return metrics, picks


def save_checkpoint(model: torch.nn.Module, path: Path) -> None:
    # fp16 halves the file; open_clip copies it back into its fp32 parameters on load.
    state = {k: v.half() if v.is_floating_point() else v for k, v in model.state_dict().items()}
    torch.save(state, path)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("tests/models"))
    parser.add_argument("--steps", type=int, default=650)
    parser.add_argument(
        "--per-class", type=int, default=2, help="pictures and texts of each class per step"
    )
    parser.add_argument("--lr", type=float, default=1.5e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--eval-seeds", type=int, nargs="+", default=[1000, 1001, 1002])
    args = parser.parse_args(argv)

    torch.set_num_threads(2)
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)

    args.out.mkdir(parents=True, exist_ok=True)
    config_path = args.out / f"{NAME}.json"
    config_path.write_text(json.dumps(CONFIG, indent=4) + "\n", encoding="utf-8")
    open_clip.add_model_config(str(config_path))
    model, _, preprocess = open_clip.create_model_and_transforms(NAME, pretrained=None)
    tokenizer = open_clip.get_tokenizer(NAME)
    print(
        f"{NAME}: {sum(p.numel() for p in model.parameters()) / 1e6:.2f}M parameters, "
        f"{args.steps} steps over {len(all_labels())} classes",
        flush=True,
    )

    started = time.perf_counter()
    train(model, tokenizer, preprocess, args.steps, args.per_class, args.lr, args.seed)
    print(f"trained in {time.perf_counter() - started:.0f}s", flush=True)

    ckpt_path = args.out / f"{NAME}.pt"
    save_checkpoint(model, ckpt_path)
    print(f"saved {ckpt_path} ({ckpt_path.stat().st_size / 2**20:.2f} MiB)")

    # Evaluate what the app will load: the checkpoint file, through open_clip's own loader.
    loaded, _, loaded_preprocess = open_clip.create_model_and_transforms(
        NAME, pretrained=str(ckpt_path)
    )
    loaded.eval()
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        for seed in args.eval_seeds:
            folder = Path(tmp) / str(seed)
            metrics, picks = evaluate(loaded, tokenizer, loaded_preprocess, seed, folder)
            _, reference = evaluate(model, tokenizer, preprocess, seed, folder)
            # The fp16 round trip must not change what any query finds first.
            same_top1 = all(np.array_equal(picks[k], reference[k]) for k in picks)
            print(
                f"held-out seed {seed}: "
                + "  ".join(f"{k} {v:.3f}" for k, v in metrics.items())
                + f"  | checkpoint ranks as trained: {same_top1}",
                flush=True,
            )
            ok &= (
                metrics["text->image"] >= 0.95
                and same_top1
                and all(v >= 0.9 for v in metrics.values())
            )
    print("targets met" if ok else "TARGETS NOT MET")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
