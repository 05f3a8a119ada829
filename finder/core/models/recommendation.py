"""Which of the catalogue's models suits this machine: its compute budget by published
compute, then the speed measured here weighed with the published retrieval quality
(`recommend`; the rule is in its docstring). Nothing here imports torch.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from finder.core.models.catalogue import MODELS, CatalogModel, MeasuredSpeed, get
from finder.core.models.cpu import cpu_has_native_bf16


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
            "retrieves among the best base models at about 3x B-32's compute",
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
