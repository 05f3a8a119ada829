"""The OpenCLIP models finder offers, with their cost and their published quality.

Quality figures are copied from open_clip's published results tables (zero-shot, by
LAION's CLIP_benchmark), never estimated:
  - ImageNet-1k zero-shot top-1 and parameter counts: docs/openclip_results.csv
    (mlfoundations/open_clip at f862f86cd92123615a8695ce8bcb6ecc066af452);
  - Flickr30k and MSCOCO text-to-image retrieval recall@1/@5 and GFLOPs per image+text:
    docs/openclip_retrieval_results.csv (at 05e7db4987eda177906dc164b4c3ebeb39a9991a).
MobileCLIP is in neither table: its figures come from Apple's own evaluation with the
same benchmark suite and the same keys (apple/ml-mobileclip, results/mobileclip_s1.jsonl
and mobileclip_s2.jsonl at a2e4041a50d4052b966ff6150747f5b7b6acf415: "imagenet1k" acc1,
Flickr and MSCOCO "image_retrieval_recall@1/@5"); its GFLOPs are unknown (None), and its
parameter count was counted with open_clip 3.3.0 (create_model, no weights).
The download size is an estimate, params x 4 bytes (the checkpoints are float32);
`finder models download` shows the exact size before it starts.

Measured speed on this machine is written by bench/model_speed.py into
data_dir/model_speed.json and read here; nothing here imports torch.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from finder.core.models.cpu import cpu_has_native_bf16
from finder.core.models.weights import WeightsSource

log = logging.getLogger(__name__)

SPEED_FILE = "model_speed.json"
SOURCE = (
    "open_clip docs/openclip_results.csv @f862f86 (ImageNet, params); "
    "docs/openclip_retrieval_results.csv @05e7db4 (Flickr30k, MSCOCO, GFLOPs); "
    "MobileCLIP: apple/ml-mobileclip results/*.jsonl @a2e4041"
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
        note="SigLIP: the best retrieval of the base-sized models",
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


# -- a recommendation for this machine ------------------------------------------------------


@dataclass(frozen=True)
class Machine:
    cores: int
    memory_gb: float
    native_bf16: bool

    @classmethod
    def this(cls) -> Machine:
        cores = (
            len(os.sched_getaffinity(0))
            if hasattr(os, "sched_getaffinity")
            else (os.cpu_count() or 1)
        )
        return cls(cores, _memory_gb(), cpu_has_native_bf16())


# A measured model as fast as the machine's budget within this share counts as as fast:
# figures taken on shared cores move by about this much between runs.
SPEED_TOLERANCE = 0.10


def recommend(
    machine: Machine,
    *,
    multilingual: bool = False,
    speeds: Mapping[str, MeasuredSpeed] | None = None,
) -> tuple[CatalogModel, str]:
    """The model that suits the machine, and why, in a sentence.

    The rule: the machine's cores, memory and native bf16 set a compute budget, named by
    the model it affords from the published compute (ViT-B-32, SigLIP B-16 or ViT-L-14:
    `_budget_model`). Where this machine measured that model's speed (`speeds`, from
    data_dir/model_speed.json; a figure counts for this machine when it was measured on
    as many threads as it has cores), the budget becomes that measured images/s, and the
    model recommended is the one with the best published retrieval (the mean of Flickr30k
    and MSCOCO text-to-image recall@1) among the models measured here at least that fast
    (less SPEED_TOLERANCE): a faster model of the same or better quality replaces the
    budget's model, a slower one never does, however good. A model not measured here is
    judged by its published compute alone, so without measurements the recommendation is
    the budget's model. Multilingual queries need the multilingual model, whatever its
    speed.
    """
    if multilingual:
        return (
            get("xlm-roberta-base-ViT-B-32"),
            "queries in other languages need a multilingual text tower",
        )
    budget, why = _budget_model(machine)
    measured = {
        key: speed for key, speed in (speeds or {}).items() if speed.threads == machine.cores
    }
    if budget.key not in measured:
        return budget, why
    floor = measured[budget.key].images_per_s * (1 - SPEED_TOLERANCE)
    candidates = [
        model
        for model in MODELS
        if model.key in measured
        and model.languages == "English"
        and retrieval_r1(model) is not None
        and measured[model.key].images_per_s >= floor
    ]
    best = max(
        candidates,
        key=lambda m: (retrieval_r1(m) or 0.0, measured[m.key].images_per_s),
        default=budget,
    )
    if best.key == budget.key:
        return budget, why
    ratio = measured[best.key].images_per_s / measured[budget.key].images_per_s
    return (
        best,
        f"measured here at {ratio:.2f}x {budget.name}'s images/s, it retrieves better "
        f"(Flickr30k/MSCOCO recall@1 {retrieval_r1(best) or 0:.1%} against "
        f"{retrieval_r1(budget) or 0:.1%})",
    )


def retrieval_r1(model: CatalogModel) -> float | None:
    """Published text-to-image recall@1, the mean of Flickr30k's and MSCOCO's: what a
    search by words asks of a model."""
    if model.flickr_r1 is None or model.coco_r1 is None:
        return None
    return (model.flickr_r1 + model.coco_r1) / 2


def _budget_model(machine: Machine) -> tuple[CatalogModel, str]:
    """The model the machine affords by published compute, and why."""
    fast = machine.native_bf16
    if machine.memory_gb >= 16 and (machine.cores >= 16 or (fast and machine.cores >= 8)):
        return (
            get("ViT-L-14"),
            f"{machine.cores} cores{' with native bf16' if fast else ''} and "
            f"{machine.memory_gb:.0f} GB can afford the large model (12x B-32's compute)",
        )
    if machine.memory_gb >= 8 and (machine.cores >= 8 or fast):
        return (
            get("ViT-B-16-SigLIP"),
            f"{machine.cores} cores{' with native bf16' if fast else ''}: SigLIP B-16 "
            "retrieves best among base models at about 3x B-32's compute",
        )
    return (
        MODELS[0],
        f"{machine.cores} cores without native bf16 and {machine.memory_gb:.0f} GB: "
        "ViT-B-32 is the cheapest to index with (14.8 GFLOPs) and good at retrieval",
    )


def _memory_gb() -> float:
    try:
        pages = os.sysconf("SC_PHYS_PAGES")
        size = os.sysconf("SC_PAGE_SIZE")
        return float(pages * size) / 2**30
    except (ValueError, OSError, AttributeError):
        return 0.0
