"""Reparameterising a loaded open_clip model for inference (MobileCLIP, MobileCLIP2).

MobileCLIP's image towers (timm's FastViT "MCi" and its MobileOne blocks) are trained
with parallel branches (several convolutions and batch norms side by side) that fold into
one convolution each once training is over. Apple ships the unfolded training form and
asks for `reparameterize_model` before inference: the same embeddings (to float
rounding), with fewer, larger operators, so both torch and the ONNX export run faster.
Models without such blocks (every ViT) come back untouched. torch and timm are imported
inside: this module is imported by the torch runtime only when a model is loaded.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)

# timm's names for a block that folds its branches (reparameterize_model calls them).
FOLDING_METHODS = ("fuse", "reparameterize", "switch_to_deploy")


def foldable_blocks(model: Any) -> int:
    """How many of the model's modules fold their training branches for inference."""
    return sum(
        1
        for module in model.modules()
        if any(callable(getattr(module, name, None)) for name in FOLDING_METHODS)
    )


def reparameterise(model: Any) -> Any:
    """`model` with its training branches folded (in place; in eval mode, since the folded
    kernels take the batch norms' running statistics); unchanged when it has none."""
    blocks = foldable_blocks(model)
    if blocks == 0:
        return model
    from timm.utils.model import reparameterize_model

    model.eval()
    folded = reparameterize_model(model, inplace=True)
    log.info("reparameterised %d blocks of %s for inference", blocks, type(model).__name__)
    return folded
