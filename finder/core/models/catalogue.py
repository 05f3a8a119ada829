"""The OpenCLIP models finder offers, with their cost and their published quality.

Quality figures are copied from open_clip's published results tables (zero-shot, by
LAION's CLIP_benchmark), never estimated:
  - ImageNet-1k zero-shot top-1 and parameter counts: docs/openclip_results.csv
    (mlfoundations/open_clip at f862f86cd92123615a8695ce8bcb6ecc066af452);
  - Flickr30k and MSCOCO text-to-image retrieval recall@1/@5 and GFLOPs per image+text:
    docs/openclip_retrieval_results.csv (at 05e7db4987eda177906dc164b4c3ebeb39a9991a).
MobileCLIP is in neither table: its figures come from Apple's own evaluation with the
same benchmark suite and the same keys (apple/ml-mobileclip, results/mobileclip_s1.jsonl
and mobileclip_s2.jsonl at a2e4041a50d4052b966ff6150747f5b7b6acf415, and MobileCLIP2's
results/mobileclip2_s0.jsonl, mobileclip2_s2.jsonl and mobileclip2_b.jsonl at
e15d36effd4cd9832b25f5c0063a5b8b279826cd: "imagenet1k" acc1, Flickr and MSCOCO
"image_retrieval_recall@1/@5"); its GFLOPs are unknown (None), and its parameter count
was counted with open_clip 3.3.0 (create_model, no weights).
The download size is an estimate, params x 4 bytes (the checkpoints are float32);
`finder models download` shows the exact size before it starts.

Measured speed on this machine is written by bench/model_speed.py into
data_dir/model_speed.json and read here; nothing here imports torch.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from finder.core.models.weights import WeightsSource

log = logging.getLogger(__name__)

SPEED_FILE = "model_speed.json"
SOURCE = (
    "open_clip docs/openclip_results.csv @f862f86 (ImageNet, params); "
    "docs/openclip_retrieval_results.csv @05e7db4 (Flickr30k, MSCOCO, GFLOPs); "
    "MobileCLIP: apple/ml-mobileclip results/*.jsonl @a2e4041, MobileCLIP2 @e15d36e"
)


@dataclass(frozen=True)
class CatalogModel:
    name: str  # open_clip model name
    pretrained: str  # open_clip pretrained tag
    hf_hub: str  # where open_clip fetches the weights: "org/repo" (its pretrained cfg)
    embed_dim: int
    params_m: float  # millions of parameters
    gflops: float | None  # per image + text, from the retrieval table
    imagenet: float | None  # zero-shot top-1, 0..1
    flickr_r1: float | None  # Flickr30k text->image recall@1
    flickr_r5: float | None
    coco_r1: float | None  # MSCOCO 5k text->image recall@1
    coco_r5: float | None
    hub_tokenizer: str | None = None  # a Hugging Face tokenizer repo: needs the hub once
    hub_text_config: str | None = None  # a Hugging Face text tower whose config it fetches
    languages: str = "English"
    note: str = ""

    @property
    def key(self) -> str:
        """ModelSpec.key of these weights (names their vectors and index)."""
        return f"{self.name}@{self.pretrained}"

    @property
    def download_bytes(self) -> int:
        return int(self.params_m * 1e6 * 4)

    @property
    def needs_hub(self) -> bool:
        return bool(self.hub_tokenizer or self.hub_text_config)

    @property
    def text_repos(self) -> tuple[str, ...]:
        """Hub repos of the tokenizer or text-tower config it fetches besides its weights."""
        return tuple(dict.fromkeys(r for r in (self.hub_tokenizer, self.hub_text_config) if r))

    @property
    def weights(self) -> WeightsSource:
        """Where its weights (and tokenizer files) come from: finder.core.models.weights."""
        return WeightsSource(self.hf_hub, text_repos=self.text_repos)


MODELS: tuple[CatalogModel, ...] = (
    CatalogModel(
        "ViT-B-32",
        "laion2b_s34b_b79k",
        "laion/CLIP-ViT-B-32-laion2B-s34B-b79K",
        512,
        151.28,
        14.78,
        0.6656,
        0.6678,
        0.8838,
        0.3934,
        0.6543,
        note="finder's default: the cheapest of the well-known CLIPs",
    ),
    CatalogModel(
        "ViT-B-32",
        "openai",
        "timm/vit_base_patch32_clip_224.openai",
        512,
        151.28,
        14.78,
        0.6332,
        0.5878,
        0.8356,
        0.3044,
        0.5594,
        note="the original OpenAI CLIP",
    ),
    CatalogModel(
        "ViT-B-16",
        "laion2b_s34b_b88k",
        "laion/CLIP-ViT-B-16-laion2B-s34B-b88K",
        512,
        149.62,
        41.09,
        0.7023,
        0.6984,
        0.9038,
        0.4231,
        0.6770,
        note="finer detail than B-32, about 3x its compute",
    ),
    CatalogModel(
        "ViT-L-14",
        "laion2b_s32b_b82k",
        "laion/CLIP-ViT-L-14-laion2B-s32B-b82K",
        768,
        427.62,
        175.33,
        0.7525,
        0.7552,
        0.9286,
        0.4651,
        0.7108,
        note="large: best quality here, for workstations",
    ),
    CatalogModel(
        "ViT-B-16-SigLIP",
        "webli",
        "timm/ViT-B-16-SigLIP",
        768,
        203.16,
        46.44,
        0.7604,
        0.7468,
        0.9230,
        0.4778,
        0.7244,
        hub_tokenizer="timm/ViT-B-16-SigLIP",
        note="SigLIP: among the best retrieval of the base-sized models",
    ),
    CatalogModel(
        "MobileCLIP-S1",
        "datacompdr",
        "apple/MobileCLIP-S1-OpenCLIP",
        512,
        84.97,
        None,
        0.7262,
        0.7096,
        0.9130,
        0.4402,
        0.6887,
        note="Apple's mobile CLIP: small and fast; figures from Apple's evaluation",
    ),
    CatalogModel(
        "MobileCLIP-S2",
        "datacompdr",
        "apple/MobileCLIP-S2-OpenCLIP",
        512,
        99.24,
        None,
        0.7444,
        0.7338,
        0.9230,
        0.4537,
        0.7005,
        note="Apple's mobile CLIP, larger; figures from Apple's evaluation",
    ),
    CatalogModel(
        "MobileCLIP2-S0",
        "dfndr2b",
        "timm/MobileCLIP2-S0-OpenCLIP",
        512,
        74.84,
        None,
        0.7153,
        0.6922,
        0.8986,
        0.4368,
        0.6996,
        note="MobileCLIP2's smallest: the fastest image tower here; Apple's figures",
    ),
    CatalogModel(
        "MobileCLIP2-S2",
        "dfndr2b",
        "timm/MobileCLIP2-S2-OpenCLIP",
        512,
        99.24,
        None,
        0.7724,
        0.7482,
        0.9294,
        0.4882,
        0.7375,
        note="MobileCLIP-S2's architecture, retrained: SigLIP B-16's retrieval; Apple's figures",
    ),
    CatalogModel(
        "MobileCLIP2-B",
        "dfndr2b",
        "timm/MobileCLIP2-B-OpenCLIP",
        512,
        149.78,
        None,
        0.7941,
        0.7650,
        0.9340,
        0.4990,
        0.7478,
        note="MobileCLIP2's ViT-B/16: the best retrieval of the base-sized models",
    ),
    CatalogModel(
        "xlm-roberta-base-ViT-B-32",
        "laion5b_s13b_b90k",
        "laion/CLIP-ViT-B-32-xlm-roberta-base-laion5B-s13B-b90k",
        512,
        366.12,
        105.87,
        0.6236,
        0.6448,
        0.8628,
        0.3778,
        0.6344,
        hub_tokenizer="xlm-roberta-base",
        hub_text_config="xlm-roberta-base",
        languages="multilingual (about 100 languages)",
        note="queries in other languages than English",
    ),
)


def find(name: str, pretrained: str | None = None) -> CatalogModel | None:
    """A catalogue entry by name (first tag listed) or by name and tag, or by key."""
    if pretrained is None and "@" in name:
        name, pretrained = name.split("@", 1)
    for model in MODELS:
        if model.name.lower() == name.lower() and pretrained in (None, model.pretrained):
            return model
    return None


def get(name: str, pretrained: str | None = None) -> CatalogModel:
    found = find(name, pretrained)
    if found is None:
        raise KeyError(f"{name} ({pretrained or 'any tag'}) is not in finder's model catalogue")
    return found


# -- measured speed on this machine (written by bench/model_speed.py) --------------------


@dataclass(frozen=True)
class MeasuredSpeed:
    images_per_s: float
    query_ms: float
    threads: int
    load: float | None  # the 1-minute load average while it ran (shared machines)
    precision: str
    measured_at: str


def measured_speeds(data_dir: Path) -> dict[str, MeasuredSpeed]:
    try:
        raw = json.loads((data_dir / SPEED_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        log.warning("ignoring unreadable %s: %s", data_dir / SPEED_FILE, exc)
        return {}
    out = {}
    for key, value in (raw.get("models", {}) if isinstance(raw, dict) else {}).items():
        try:
            out[key] = MeasuredSpeed(**value)
        except TypeError:
            continue
    return out


def record_speed(data_dir: Path, key: str, speed: MeasuredSpeed) -> None:
    """Add or replace one model's measured speed (atomic write)."""
    path = data_dir / SPEED_FILE
    try:
        raw: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raw = {}
    stored = raw.get("models")
    models: dict[str, Any] = stored if isinstance(stored, dict) else {}
    models[key] = asdict(speed)
    data_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"version": 1, "models": models}, indent=2), encoding="utf-8")
    os.replace(tmp, path)
