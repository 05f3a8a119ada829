"""The written-out attention of the export: the same vectors, fewer nodes, nothing left
behind on the model."""

from __future__ import annotations

import collections
from pathlib import Path

import onnx
import torch

from finder.core.models.export import export
from finder.core.models.export_attention import standard_blocks, written_out
from finder.core.models.spec import ModelSpec
from finder.core.models.torch_runtime import ClipEmbedder


def test_written_out_attention_embeds_as_open_clip_does(tiny_embedder: ClipEmbedder) -> None:
    tiny_embedder.load()
    visual = tiny_embedder.torch_model.visual
    assert standard_blocks(visual)
    size = visual.preprocess_cfg["size"]
    side = size if isinstance(size, int) else size[0]
    pixels = torch.randn(3, 3, side, side)
    with torch.no_grad():
        before = visual(pixels)
        with written_out(visual) as rewritten:
            during = visual(pixels)
        after = visual(pixels)
    assert rewritten
    torch.testing.assert_close(during, before, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(after, before)
    assert all("attention" not in vars(block) for block in standard_blocks(visual))


def test_a_custom_tower_is_left_as_it_is() -> None:
    class Custom(torch.nn.Module):
        pass

    with written_out(Custom()) as rewritten:
        assert not rewritten


def test_the_exported_image_tower_has_no_attention_module_left(
    tiny_spec: ModelSpec, tmp_path: Path
) -> None:
    folder = export(ClipEmbedder(tiny_spec, precision="fp32"), tmp_path)
    graph = onnx.load(str(folder / "visual" / "model.onnx")).graph
    ops = collections.Counter(node.op_type for node in graph.node)
    blocks = len(standard_blocks(ClipEmbedder(tiny_spec, precision="fp32").torch_model.visual))
    # Traced as nn.MultiheadAttention, each block held ~8 transposes; written out, 3.
    assert ops["Transpose"] < 4 * blocks
