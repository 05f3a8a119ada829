"""The torch-free CLIP tokenizer matches open_clip exactly, and the torch-free preparation
(tokenizer and image preprocessing) loads no torch.

These tests import torch/open_clip themselves (to compare); the modules under test must not.
"""

from __future__ import annotations

import subprocess
import sys
import time
from typing import Any

import numpy as np
import pytest

from finder.core.models.tokenizer import ClipTokenizer, default_vocab_path

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


# -- linear in the input (issue 15: a 60,000-letter word took 136 s, a 100,000-character
# query 219 s: the reference BPE rescans the whole word for every merge) -----------------


def _letters(n: int, seed: int = 0) -> str:
    import random

    rng = random.Random(seed)
    return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(n))


def test_long_words_match_open_clip_exactly(ours: ClipTokenizer) -> None:
    import open_clip

    theirs = open_clip.get_tokenizer("ViT-B-32")
    texts = [_letters(n, seed=n) for n in (40, 150, 400, 900)]
    texts += ["ab" * 300, "!?" * 200, "東京の夜景" * 40, "é" * 300, "x" * 1000]
    assert ours(texts).tolist() == theirs(texts).numpy().tolist()
    for text in texts[:4]:  # the merges themselves, not only the first 77 tokens
        word = "".join(ours.byte_encoder[b] for b in text.encode())
        assert ours.bpe(word) == theirs.bpe(word)


@pytest.mark.parametrize("letters", [10_000, 60_000, 100_000])
def test_a_giant_word_is_tokenised_in_linear_time(ours: ClipTokenizer, letters: int) -> None:
    from tests.core.ingest.bounded import finishes

    text = _letters(letters, seed=letters)
    row = finishes(lambda: ours([text]))[0]
    assert row[0] == ours.sot_token_id and row[-1] == ours.eot_token_id
    ids = finishes(lambda: ours.encode(text))  # the whole of what is read, not only 77
    assert len(ids) > 1000


def test_bound_text_leaves_ordinary_text_alone_and_bounds_the_rest() -> None:
    from finder.core.models.tokenizer import MAX_RUN_CHARS, MAX_TOKENIZE_CHARS, bound_text

    for text in TEXTS[:-1]:  # all but the 500-letter word
        assert bound_text(text) == text
    bounded = bound_text(_letters(100_000))
    assert len(bounded) <= MAX_TOKENIZE_CHARS
    assert max(len(w) for w in bounded.split()) == MAX_RUN_CHARS
    assert bound_text("a   b\n" * 5000) == ("a b " * 5000)[:MAX_TOKENIZE_CHARS]
    assert bound_text("see https://example.com/a/very/long/path/with/many/parts") == (
        "see https://example.com/a/very/long/path/with/many/parts"  # short runs: unchanged
    )


def test_the_torch_runtime_bounds_what_open_clip_tokenises(tiny_embedder: Any) -> None:
    from tests.core.ingest.bounded import finishes

    query = _letters(100_000, seed=7)  # took 219 s as a query
    vectors = finishes(lambda: tiny_embedder.encode_texts([query, "a dog"]))
    assert vectors.shape[0] == 2
