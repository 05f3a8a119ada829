"""Reparameterising (MobileCLIP's MobileOne blocks): the branches fold into one
convolution and the outputs stay those of the training form; other models are untouched."""

from __future__ import annotations

import torch
from timm.models.fastvit import MobileOneBlock

from finder.core.models.reparam import foldable_blocks, reparameterise
from finder.core.models.spec import resolve_model_spec
from finder.core.models.torch_runtime import ClipEmbedder


def _trained_block() -> torch.nn.Module:
    """A MobileOne block with several branches and batch norms that have seen data."""
    torch.manual_seed(0)
    block = torch.nn.Sequential(MobileOneBlock(8, 8, 3, num_conv_branches=2))
    block.train()
    with torch.no_grad():
        for _ in range(3):  # running statistics that are not the initial ones
            block(torch.randn(4, 8, 16, 16) * 3 + 1)
    return block.eval()


def test_branches_fold_into_one_convolution_with_the_same_outputs() -> None:
    block = _trained_block()
    pixels = torch.randn(2, 8, 16, 16)
    with torch.no_grad():
        before = block(pixels)
    assert foldable_blocks(block) == 1
    folded = reparameterise(block)
    with torch.no_grad():
        after = folded(pixels)
    mobile_one = folded[0]
    assert mobile_one.reparam_conv is not None
    assert not hasattr(mobile_one, "conv_kxk") and not hasattr(mobile_one, "conv_scale")
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in folded.modules())
    assert torch.allclose(before, after, atol=1e-4)


def test_a_model_without_such_blocks_is_returned_as_it_is() -> None:
    model = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.GELU()).train()
    assert foldable_blocks(model) == 0
    assert reparameterise(model) is model
    assert model.training  # not even put in eval mode: nothing was done to it


def test_the_torch_runtime_loads_mobileclip_folded_with_the_vectors_of_its_training_form() -> None:
    import open_clip

    embedder = ClipEmbedder(resolve_model_spec("MobileCLIP-S1", "none"), precision="fp32")
    model = embedder.torch_model
    blocks = [m for m in model.visual.modules() if isinstance(m, MobileOneBlock)]
    assert blocks and all(b.reparam_conv is not None for b in blocks)
    assert not any(hasattr(b, "conv_kxk") for b in blocks)
    with torch.random.fork_rng(devices=[]):  # the same seeded weights, not folded
        torch.manual_seed(0)
        training_form = open_clip.create_model("MobileCLIP-S1", pretrained=None).eval()
    pixels = torch.randn(2, 3, 256, 256)
    with torch.inference_mode():
        want = torch.nn.functional.normalize(training_form.encode_image(pixels), dim=-1)
    got = embedder.encode_images(list(pixels))
    assert float((want.numpy() * got).sum(axis=1).min()) > 0.9999
