"""The torch-free tokenizer and image preprocessing match open_clip exactly, and stay torch-free.

These tests import torch/open_clip themselves (to compare); the modules under test must not.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from PIL import Image

from finder.core.models.image_prep import PreprocessConfig, preprocess
from finder.core.models.tokenizer import ClipTokenizer, default_vocab_path
from tests.helpers import TINY_CONFIG

TEXTS = [
    "",
    "a photo of a dog",
    "A Photo Of A DOG",
    "   leading and trailing   whitespace\t\n  ",
    "sunset over the sea, with boats!!! (2019)",
    "don't you've we'll they're I'm she'd it's",
    "café crème brûlée à la française",
    "Straße in München — Grüße",
    "naïve coöperation façade",
    "🐶🐱 dog and cat 🎉🎉",
    "👨‍👩‍👧‍👦 family emoji with joiners",
    "东京的夜景",
    "日本語のテキストとカタカナ",
    "한국어 문장입니다",
    "Привет, мир",
    "مرحبا بالعالم",
    "Tom &amp; Jerry &lt;3 &quot;quoted&quot; &#39;single&#39;",
    "&amp;amp; double escaped",
    "mojibake: Ã©tÃ© â€œquotesâ€\x9d",
    "numbers 1234567890 3.14159 1e10 #42 $99.99 50%",
    "punctuation ... ?!?! ;;; :-) <>[]{}|\\/ ~`^",
    "snake_case camelCase kebab-case file.name.jpg",
    "IMG_20230101_123456.JPG",
    "https://example.com/path?query=1&other=2",
    "<start_of_text> typed by hand <end_of_text>",
    "tab\tseparated\tvalues and\r\nwindows newlines",
    "x",
    "supercalifragilisticexpialidocious antidisestablishmentarianism",
    "word " * 100,
    " ".join(f"token{i}" for i in range(200)),
    "a" * 500,
]


@pytest.fixture(scope="module")
def ours() -> ClipTokenizer:
    return ClipTokenizer()


def test_token_ids_match_open_clip(ours: ClipTokenizer) -> None:
    import open_clip

    theirs = open_clip.get_tokenizer("ViT-B-32")
    expected = theirs(TEXTS).numpy()
    got = ours(TEXTS)
    assert got.dtype == np.int64 and got.shape == (len(TEXTS), 77)
    for text, row, want in zip(TEXTS, got, expected, strict=True):
        assert row.tolist() == want.tolist(), text
    assert (ours.sot_token_id, ours.eot_token_id) == (theirs.sot_token_id, theirs.eot_token_id)
    assert ours.vocab_size == theirs.vocab_size


def test_truncation_keeps_eot_last(ours: ClipTokenizer) -> None:
    row = ours(["word " * 100])[0]
    assert row[0] == ours.sot_token_id and row[-1] == ours.eot_token_id
    assert (row != 0).all()
    short = ClipTokenizer(context_length=8)(["a photo of a very big dog", ""])
    assert short.shape == (2, 8) and short[0, -1] == ours.eot_token_id
    assert short[1].tolist() == [ours.sot_token_id, ours.eot_token_id, 0, 0, 0, 0, 0, 0]


def test_single_string_is_one_row(ours: ClipTokenizer) -> None:
    assert (ours("a dog") == ours(["a dog"])).all()


def test_a_repeated_query_is_fast(ours: ClipTokenizer) -> None:
    query = ["a photo of my cat sleeping on the sofa"]
    ours(query)
    start = time.perf_counter()
    for _ in range(100):
        ours(query)
    # BPE results are cached; ftfy and the regex dominate (~tens of µs each here).
    assert (time.perf_counter() - start) / 100 < 1e-3


def test_default_vocab_path_does_not_import_open_clip() -> None:
    script = (
        "import sys\nfrom finder.core.models.tokenizer import default_vocab_path\n"
        "path = default_vocab_path()\n"
        "print(path.name, 'open_clip' in sys.modules, 'torch' in sys.modules)"
    )
    out = _run(script)
    assert out.split() == ["bpe_simple_vocab_16e6.txt.gz", "False", "False"]
    assert default_vocab_path().is_file()


def test_modules_load_no_torch() -> None:
    script = (
        "import sys\n"
        "from PIL import Image\n"
        "import finder.core.models.tokenizer as t, finder.core.models.image_prep as p\n"
        "ids = t.ClipTokenizer()(['a photo of a dog'])\n"
        "cfg = p.PreprocessConfig(size=(224, 224))\n"
        "x = p.preprocess(Image.new('RGB', (300, 200), (10, 20, 30)), cfg)\n"
        "assert ids.shape == (1, 77) and x.shape == (3, 224, 224)\n"
        "print(sorted(m for m in sys.modules\n"
        "             if m.split('.')[0] in ('torch', 'torchvision', 'open_clip')))\n"
    )
    assert _run(script) == "[]"


def _run(script: str) -> str:
    return subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout.strip()


# --- images -------------------------------------------------------------------------------


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
