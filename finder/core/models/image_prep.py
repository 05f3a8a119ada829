"""open_clip's eval image transform with Pillow and numpy only, for the ONNX Runtime path.

Reproduces `open_clip.image_transform(..., is_train=False)` (torchvision Resize/CenterCrop
on a PIL image, then RGB, /255, normalise) so that a model exported to ONNX sees the very
pixels it saw under torch, without importing torch/torchvision (~730 MB, ~3 s). Every
step makes the same Pillow calls in the same order (resize before RGB conversion, so
Pillow's handling of palette and alpha images is the same too).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from PIL import Image, ImageOps

# open_clip.constants.OPENAI_DATASET_MEAN/STD: its defaults when a config names none.
OPENAI_MEAN = (0.48145466, 0.4578275, 0.40821073)
OPENAI_STD = (0.26862954, 0.26130258, 0.27577711)
INTERPOLATIONS = {"bicubic": Image.Resampling.BICUBIC, "bilinear": Image.Resampling.BILINEAR}
RESIZE_MODES = ("shortest", "squash", "longest")


@dataclass(frozen=True)
class PreprocessConfig:
    size: tuple[int, int]  # (height, width), as open_clip
    mean: tuple[float, float, float] = OPENAI_MEAN
    std: tuple[float, float, float] = OPENAI_STD
    interpolation: str = "bicubic"
    resize_mode: str = "shortest"
    fill_color: int = 0  # padding for resize_mode "longest"

    def __post_init__(self) -> None:
        if self.interpolation not in INTERPOLATIONS:
            raise ValueError(
                f"unsupported interpolation {self.interpolation!r} "
                f"(supported: {', '.join(INTERPOLATIONS)})"
            )
        if self.resize_mode not in RESIZE_MODES:
            raise ValueError(
                f"unsupported resize_mode {self.resize_mode!r} "
                f"(supported: {', '.join(RESIZE_MODES)})"
            )
        # Checked at run time too: the values come from JSON (from_json).
        if (len(self.size), len(self.mean), len(self.std)) != (2, 3, 3):
            raise ValueError(
                f"bad preprocess config: size {self.size}, mean {self.mean}, std {self.std}"
            )

    @classmethod
    def from_open_clip(cls, cfg: Mapping[str, Any]) -> PreprocessConfig:
        """From `model.visual.preprocess_cfg`, with image_transform's defaults and fallbacks."""
        if cfg.get("mode", "RGB") != "RGB":
            raise ValueError(f"unsupported image mode {cfg['mode']!r} (open_clip allows RGB)")
        size = cfg.get("size", 224)
        # "random" interpolation is a training option; open_clip evaluates it as bicubic.
        interpolation = cfg.get("interpolation") or "bicubic"
        return cls(
            size=(int(size), int(size)) if isinstance(size, int) else _pair(size),
            mean=_triple(cfg.get("mean") or OPENAI_MEAN),
            std=_triple(cfg.get("std") or OPENAI_STD),
            interpolation="bicubic" if interpolation == "random" else interpolation,
            resize_mode=cfg.get("resize_mode") or "shortest",
            fill_color=int(cfg.get("fill_color") or 0),
        )

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (tuples become lists)."""
        return {
            key: list(value) if isinstance(value, tuple) else value
            for key, value in asdict(self).items()
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PreprocessConfig:
        return cls(
            size=_pair(data["size"]),
            mean=_triple(data["mean"]),
            std=_triple(data["std"]),
            interpolation=str(data["interpolation"]),
            resize_mode=str(data["resize_mode"]),
            fill_color=int(data.get("fill_color", 0)),
        )


def preprocess(image: Image.Image, cfg: PreprocessConfig) -> np.ndarray:
    """float32 [3, H, W], equal to open_clip's eval transform of `image`."""
    resample = INTERPOLATIONS[cfg.interpolation]
    if cfg.resize_mode == "squash":
        image = _resize(image, cfg.size, resample)
    elif cfg.resize_mode == "longest":
        image = _resize(image, _keep_ratio_size(image, cfg.size, longest=True), resample)
        image = _center_crop(image, cfg.size, fill=cfg.fill_color)
    else:
        if cfg.size[0] == cfg.size[1]:
            image = _resize(image, _short_side_size(image, cfg.size[0]), resample)
        else:
            # open_clip builds ResizeKeepRatio here without passing the interpolation.
            size = _keep_ratio_size(image, cfg.size, longest=False)
            image = _resize(image, size, Image.Resampling.BICUBIC)
        image = _center_crop(image, cfg.size, fill=0)
    # Each channel's 256 values looked up: float32 throughout, in torchvision's order
    # ((v / 255 - mean) / std), so results match bit for bit, at half the arithmetic's cost.
    channels = np.asarray(image.convert("RGB")).transpose(2, 0, 1)
    table = _normalising_table(cfg.mean, cfg.std)
    return np.stack([table[c][channels[c]] for c in range(3)])


@functools.lru_cache(maxsize=8)
def _normalising_table(mean: tuple[float, ...], std: tuple[float, ...]) -> np.ndarray:
    """[3, 256] float32: (v / 255 - mean) / std of every byte value v, per channel."""
    values = np.arange(256, dtype=np.float32) / np.float32(255)
    m = np.asarray(mean, dtype=np.float32)[:, None]
    s = np.asarray(std, dtype=np.float32)[:, None]
    table: np.ndarray = (values[None, :] - m) / s
    table.flags.writeable = False
    return table


def _short_side_size(image: Image.Image, short: int) -> tuple[int, int]:
    """torchvision Resize(int): short side -> `short`, long side truncated (not rounded)."""
    w, h = image.size
    long = int(short * max(w, h) / min(w, h))
    return (short, long) if w > h else (long, short)  # (h, w)


def _keep_ratio_size(image: Image.Image, target: tuple[int, int], longest: bool) -> tuple[int, int]:
    """open_clip's ResizeKeepRatio (from timm): scale by the short or long side ratio."""
    h, w = image.height, image.width
    ratio_h, ratio_w = h / target[0], w / target[1]
    ratio = max(ratio_h, ratio_w) if longest else min(ratio_h, ratio_w)
    return round(h / ratio), round(w / ratio)


def _resize(image: Image.Image, size: tuple[int, int], resample: Image.Resampling) -> Image.Image:
    """torchvision F.resize on PIL: `size` is (h, w); same size returns the image as is."""
    if (image.height, image.width) == size:
        return image
    return image.resize((size[1], size[0]), resample)


def _center_crop(image: Image.Image, size: tuple[int, int], fill: int) -> Image.Image:
    """torchvision center_crop (open_clip's center_crop_or_pad): pad if small, then crop."""
    crop_h, crop_w = size
    if crop_w > image.width or crop_h > image.height:
        dw, dh = max(crop_w - image.width, 0), max(crop_h - image.height, 0)
        image = _pad(image, (dw // 2, dh // 2, (dw + 1) // 2, (dh + 1) // 2), fill)
        if image.size == (crop_w, crop_h):
            return image
    top = int(round((image.height - crop_h) / 2.0))
    left = int(round((image.width - crop_w) / 2.0))
    return image.crop((left, top, left + crop_w, top + crop_h))


def _pad(image: Image.Image, ltrb: tuple[int, int, int, int], fill: int) -> Image.Image:
    """torchvision's constant PIL pad: the fill in every band; a palette image keeps its palette."""
    bands = len(image.getbands())
    fill_value: int | tuple[int, ...] = (fill,) * bands if bands > 1 else fill
    if image.mode == "P":
        palette = image.getpalette()
        padded = ImageOps.expand(image, border=ltrb, fill=fill_value)
        if palette is not None:
            padded.putpalette(palette)
        return padded
    return ImageOps.expand(image, border=ltrb, fill=fill_value)


def _pair(value: Any) -> tuple[int, int]:
    a, b = value
    return int(a), int(b)


def _triple(value: Any) -> tuple[float, float, float]:
    if isinstance(value, int | float):
        return float(value), float(value), float(value)
    a, b, c = value
    return float(a), float(b), float(c)
