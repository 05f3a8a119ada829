"""The short text path of an OpenAI-style open_clip text tower (torch runtime).

A causal text tower's pooled feature depends only on the tokens up to the end-of-text
token, so a batch of queries runs over the positions up to its longest real sequence,
not the 77 of the context: the same embedding for a fraction of the work (the ONNX
export takes rows cut the same way).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch


def has_causal_text_tower(model: Any) -> bool:
    """An OpenAI-style open_clip CLIP whose text tower can stop at the last real token.

    With a causal mask, a position's output depends only on the positions before it,
    so the padding after the end-of-text token cannot change the pooled feature. Only
    open_clip's own CLIP.encode_text with argmax/eos pooling qualifies; anything else
    (CustomTextCLIP, Hugging Face towers, no mask, first/last pooling) keeps the full path.
    """
    from open_clip.model import CLIP

    return (
        isinstance(model, CLIP)
        and type(model).encode_text is CLIP.encode_text
        and getattr(model, "attn_mask", None) is not None
        and getattr(model, "text_pool_type", None) in ("argmax", "eos")
    )


def encode_text_short(model: Any, text: torch.Tensor) -> torch.Tensor:
    """open_clip's CLIP.encode_text, run over the positions up to the batch's last EOT.

    Same steps (token + positional embedding, causal transformer, ln_final, pooling at
    the EOT, projection) with the sequence, positional embedding and mask cut to the
    longest real sequence: the same embedding for a fraction of the work.
    """
    import torch
    from torch import nn

    if model.text_pool_type == "argmax":
        # The EOT token has the highest id in each sequence (open_clip's rule).
        eot = text.argmax(dim=-1)
    else:
        eot = (text == model.text_eos_id).int().argmax(dim=-1)
    length = int(eot.max()) + 1
    cast_dtype = model.transformer.get_cast_dtype()
    x: torch.Tensor = model.token_embedding(text[:, :length]).to(cast_dtype)
    x = x + model.positional_embedding[:length].to(cast_dtype)
    x = model.transformer(x, attn_mask=model.attn_mask[:length, :length])
    x = model.ln_final(x)
    x = x[torch.arange(x.shape[0], device=x.device), eot]
    if model.text_projection is not None:
        if isinstance(model.text_projection, nn.Linear):
            x = model.text_projection(x)
        else:
            x = x @ model.text_projection
    return x
