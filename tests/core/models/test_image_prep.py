"""The torch-free image preprocessing matches open_clip's transforms exactly.

These tests import torch/open_clip themselves (to compare); the module under test must not.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from PIL import Image

from finder.core.models.image_prep import PreprocessConfig, preprocess
from tests.helpers import TINY_CONFIG


def _image(width: int, height: int, mode: str, seed: int = 0) -> Image.Image:
    """Gradients plus noise: resampling differences would show, flat colour would hide them."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    base = np.stack(
        [
            x * 255 / max(width - 1, 1),
            y * 255 / max(height - 1, 1),
            (x + y) * 127 / max(width + height - 2, 1),
        ],
        axis=-1,
    )
    noisy = np.clip(base + rng.normal(0, 40, base.shape), 0, 255).astype(np.uint8)
    image = Image.fromarray(noisy, "RGB")
    if mode == "RGBA":
        alpha = rng.integers(0, 256, (height, width), dtype=np.uint8)
        return Image.fromarray(np.dstack([noisy, alpha]), "RGBA")
    if mode == "P":
        return image.quantize(colors=64)
    return image.convert(mode)


IMAGES = {
    "landscape": _image(640, 360, "RGB"),
    "portrait": _image(300, 500, "RGB", 1),
    "square": _image(224, 224, "RGB", 2),
    "large": _image(1001, 757, "RGB", 3),
    "tiny": _image(10, 7, "RGB", 4),
    "thin": _image(3, 90, "RGB", 5),
    "rgba": _image(400, 250, "RGBA", 6),
    "grayscale": _image(333, 222, "L", 7),
    "palette": _image(250, 410, "P", 8),
    "bilevel": _image(120, 80, "1", 9),
}


def _torch_out(transform: Callable[[Image.Image], Any], image: Image.Image) -> np.ndarray:
    return transform(image).numpy()


def _assert_same(cfg: PreprocessConfig, transform: Callable[[Image.Image], Any]) -> None:
    for name, image in IMAGES.items():
        want = _torch_out(transform, image)
        got = preprocess(image, cfg)
        assert got.dtype == np.float32 and got.shape == want.shape == (3, *cfg.size), name
        assert np.abs(got - want).max() < 1e-5, name


@pytest.fixture(scope="module")
def vit_b32() -> tuple[dict[str, Any], Callable[[Image.Image], Any]]:
    import open_clip

    model, _, transform = open_clip.create_model_and_transforms("ViT-B-32", pretrained=None)
    return dict(model.visual.preprocess_cfg), transform


def test_preprocess_matches_vit_b32(vit_b32: tuple[dict[str, Any], Any]) -> None:
    cfg_dict, transform = vit_b32
    cfg = PreprocessConfig.from_open_clip(cfg_dict)
    assert cfg.size == (224, 224) and cfg.resize_mode == "shortest"
    _assert_same(cfg, transform)


def test_preprocess_matches_tiny_random_config() -> None:
    import open_clip

    open_clip.add_model_config(TINY_CONFIG)
    model, _, transform = open_clip.create_model_and_transforms(TINY_CONFIG.stem, pretrained=None)
    cfg = PreprocessConfig.from_open_clip(model.visual.preprocess_cfg)
    assert cfg.size == (32, 32)
    _assert_same(cfg, transform)


@pytest.mark.parametrize(
    "size, resize_mode, interpolation",
    [
        ((224, 224), "squash", "bilinear"),
        ((96, 96), "longest", "bicubic"),
        ((64, 96), "longest", "bilinear"),
        ((64, 96), "shortest", "bilinear"),  # open_clip resizes bicubic here regardless
        ((96, 64), "squash", "bicubic"),
        ((48, 48), "shortest", "bilinear"),
    ],
)
def test_preprocess_matches_other_modes(
    size: tuple[int, int], resize_mode: str, interpolation: str
) -> None:
    import open_clip

    mean, std = (0.5, 0.4, 0.3), (0.2, 0.25, 0.3)
    transform = open_clip.image_transform(
        size,
        is_train=False,
        mean=mean,
        std=std,
        resize_mode=resize_mode,
        interpolation=interpolation,
        fill_color=7,
    )
    cfg = PreprocessConfig.from_open_clip(
        {
            "size": size,
            "mean": mean,
            "std": std,
            "interpolation": interpolation,
            "resize_mode": resize_mode,
            "fill_color": 7,
        }
    )
    _assert_same(cfg, transform)


def test_config_json_round_trip_and_defaults() -> None:
    import json

    cfg = PreprocessConfig.from_open_clip(
        {"size": 256, "mean": 0.5, "std": None, "interpolation": "random", "resize_mode": None}
    )
    assert cfg.size == (256, 256) and cfg.mean == (0.5, 0.5, 0.5)
    assert cfg.interpolation == "bicubic" and cfg.resize_mode == "shortest"
    assert PreprocessConfig.from_json(json.loads(json.dumps(cfg.to_json()))) == cfg


@pytest.mark.parametrize(
    "bad", [{"resize_mode": "crop"}, {"interpolation": "lanczos"}, {"mode": "L"}]
)
def test_unsupported_settings_are_clear_errors(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="unsupported"):
        PreprocessConfig.from_open_clip({"size": (224, 224), **bad})
