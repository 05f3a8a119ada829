"""Seeded synthetic pictures and documents: training data for the tiny test model, and
fresh folders (never seen in training) for tests that check real search rankings.

Only Pillow and numpy: tests import this without paying for torch.

Two kinds of class:
  shapes:    one coloured shape per picture, "a red circle";
  documents: an off-white page with one big word on it, "invoice".
Every text helper takes a class and returns wording that the trained model maps near
that class's pictures: short captions (what a person types) and passages (what a
document file says).
"""

from __future__ import annotations

import functools
import math
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

RGB = tuple[int, int, int]

COLORS: dict[str, RGB] = {
    "red": (220, 30, 30),
    "green": (30, 165, 50),
    "blue": (35, 70, 225),
    "yellow": (240, 210, 20),
    "purple": (140, 40, 190),
    "orange": (250, 130, 10),
}
SHAPES: tuple[str, ...] = ("circle", "square", "triangle", "star", "cross")
DOC_WORDS: tuple[str, ...] = (
    "invoice",
    "recipe",
    "map",
    "receipt",
    "letter",
    "calendar",
    "ticket",
    "menu",
)

_PLURAL = {"cross": "crosses"}
_SUPERSAMPLE = 3  # draw large, then shrink: smooth edges without an antialiasing renderer


def _article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


def _plural(shape: str) -> str:
    return _PLURAL.get(shape, shape + "s")


# -- text -----------------------------------------------------------------------------


def caption(color: str, shape: str) -> str:
    """The canonical query for a shape picture: "a red circle", "an orange star"."""
    return f"{_article(color)} {color} {shape}"


def shape_captions(color: str, shape: str) -> list[str]:
    """Short caption variants for one (colour, shape) class."""
    a = f"{_article(color)} {color} {shape}"
    return [
        a,
        f"{color} {shape}",
        f"a photo of {a}",
        f"a picture of {a}",
        f"an image of {a}",
        f"a drawing of {a}",
        f"{_plural(shape)} in {color}",
        f"{color} {_plural(shape)}",
    ]


# Sentences with no colour, shape or document word: passages carry them as noise.
_FILLERS = (
    "It was written last week.",
    "Please keep this for your records.",
    "See the attached page for details.",
    "Nothing else to report today.",
    "Filed in the shared folder.",
    "Sent by the office team.",
    "",
)


def shape_passage(color: str, shape: str, rng: random.Random | None = None) -> str:
    """What a document about a (colour, shape) says. Without rng: the first template."""
    a = f"{_article(color)} {color} {shape}"
    templates = (
        f"This document is about {a}.",
        f"Notes about {color} {_plural(shape)}.",
        f"A short report describing {a} drawn on paper.",
        f"Here is a description of {a}.",
        f"Topic: {a}.",
        f"The picture shows {a}.",
    )
    if rng is None:
        return templates[0]
    text = rng.choice(templates)
    filler = rng.choice(_FILLERS)
    return f"{text} {filler}".strip() if rng.random() < 0.5 else f"{filler} {text}".strip()


def random_shape_text(color: str, shape: str, rng: random.Random) -> str:
    """A caption or a passage for the class, for training the text tower on both."""
    if rng.random() < 0.5:
        return rng.choice(shape_captions(color, shape))
    return shape_passage(color, shape, rng)


def word_captions(word: str) -> list[str]:
    """Short query variants for a document class: "invoice", "an invoice document"."""
    a = f"{_article(word)} {word}"
    return [
        word,
        a,
        f"{a} document",
        f"a scanned {word}",
        f"a photo of {a}",
        f"a page with {a}",
        f"{word} page",
    ]


# Body text per document word; {n}/{m} become numbers. Each line contains the word itself.
_WORD_BODIES: dict[str, tuple[str, ...]] = {
    "invoice": (
        "invoice: amount due {n} dollars",
        "invoice number {n}, payment due in {m} days",
        "please pay this invoice of {n}.{m} euros",
    ),
    "recipe": (
        "recipe: mix {n} cups of flour with sugar and bake",
        "recipe for soup, serves {m}",
        "grandma's recipe: {n} eggs, butter and milk",
    ),
    "map": (
        "map of the city centre with streets and a park",
        "map: walk {n} metres north",
        "trail map, route {m}, {n} km",
    ),
    "receipt": (
        "receipt: total paid {n}.{m}, thank you for shopping",
        "receipt number {n}",
        "store receipt, {m} items, card payment",
    ),
    "letter": (
        "letter: dear friend, I hope you are well",
        "a letter from {m} years ago",
        "letter to the bank about account {n}",
    ),
    "calendar": (
        "calendar: meeting on monday {m} march",
        "calendar for {n} with holidays",
        "family calendar, dentist at {m} pm",
    ),
    "ticket": (
        "ticket: admit one, seat {n} row {m}",
        "train ticket number {n}",
        "concert ticket for {m} people",
    ),
    "menu": (
        "menu: soup, salad, pasta and dessert",
        "lunch menu, dish {m} costs {n}",
        "restaurant menu of the day",
    ),
}


def word_passage(word: str, rng: random.Random | None = None) -> str:
    """What a document of this kind says; always contains `word`. Without rng: fixed text."""
    bodies = _WORD_BODIES[word]
    if rng is None:
        return bodies[0].format(n=42, m=7)
    body = rng.choice(bodies).format(n=rng.randint(1, 9999), m=rng.randint(1, 60))
    if rng.random() < 0.3:
        body = f"This document is {_article(word)} {word}. {body}"
    filler = rng.choice(_FILLERS)
    return f"{body}. {filler}".strip() if rng.random() < 0.5 else body


def random_word_text(word: str, rng: random.Random) -> str:
    if rng.random() < 0.5:
        return rng.choice(word_captions(word))
    return word_passage(word, rng)


# -- pictures ---------------------------------------------------------------------------


def _grey(rng: random.Random) -> RGB:
    """A low-saturation background colour: light, mid grey or dark, never a shape colour."""
    level = rng.choice((rng.randint(185, 250), rng.randint(95, 160), rng.randint(10, 65)))
    return _jitter((level, level, level), rng, 12)


def _background(rng: random.Random, size: int) -> Image.Image:
    style = rng.choice(("solid", "gradient", "noise"))
    if style == "solid":
        return Image.new("RGB", (size, size), _grey(rng))
    base = np.array(_grey(rng), dtype=np.float32)
    if style == "gradient":
        ramp = np.linspace(0.0, 1.0, size, dtype=np.float32)
        ramp = ramp[:, None] if rng.random() < 0.5 else ramp[None, :]
        t = np.broadcast_to(ramp, (size, size))[..., None]
        pixels = base * (1 - t) + np.array(_grey(rng), dtype=np.float32) * t
    else:
        noise = np.random.default_rng(rng.getrandbits(32)).normal(0, 10, (size, size, 3))
        pixels = base + noise
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")


def _jitter(rgb: RGB, rng: random.Random, amount: int = 15) -> RGB:
    r, g, b = (max(0, min(255, c + rng.randint(-amount, amount))) for c in rgb)
    return r, g, b


def _rotate(
    points: list[tuple[float, float]], angle: float, cx: float, cy: float
) -> list[tuple[float, float]]:
    cos, sin = math.cos(angle), math.sin(angle)
    return [(cx + x * cos - y * sin, cy + x * sin + y * cos) for x, y in points]


def _shape_outline(shape: str, r: float, rng: random.Random) -> list[tuple[float, float]]:
    """Polygon points around (0, 0) within radius r; small rotations keep the shape's identity."""
    if shape == "square":
        pts = [(-r, -r), (r, -r), (r, r), (-r, r)]
        turn = rng.uniform(-0.25, 0.25)
        r_fit = r / (abs(math.cos(turn)) + abs(math.sin(turn)))  # rotated corners stay inside
        return [(x * r_fit / r, y * r_fit / r) for x, y in _rotate(pts, turn, 0, 0)]
    if shape == "triangle":
        pts = [
            (r * math.cos(a), r * math.sin(a)) for a in (-math.pi / 2, math.pi / 6, 5 * math.pi / 6)
        ]
        return _rotate(pts, rng.uniform(-0.3, 0.3), 0, 0)
    if shape == "star":
        start = rng.uniform(0, 2 * math.pi)
        return [
            (
                (r if i % 2 == 0 else r * 0.4) * math.cos(start + i * math.pi / 5),
                (r if i % 2 == 0 else r * 0.4) * math.sin(start + i * math.pi / 5),
            )
            for i in range(10)
        ]
    if shape == "cross":
        t = r * rng.uniform(0.28, 0.38)  # half the bar thickness
        pts = [
            (-t, -r),
            (t, -r),
            (t, -t),
            (r, -t),
            (r, t),
            (t, t),
            (t, r),
            (-t, r),
            (-t, t),
            (-r, t),
            (-r, -t),
            (-t, -t),
        ]
        return [(x * 0.92, y * 0.92) for x, y in _rotate(pts, rng.uniform(-0.2, 0.2), 0, 0)]
    raise ValueError(f"unknown shape {shape!r}")


def draw_shape(color: str, shape: str, rng: random.Random, size: int = 96) -> Image.Image:
    """An RGB picture of one `color` `shape` (40-80% of the side) at a random place."""
    if color not in COLORS:
        raise ValueError(f"unknown colour {color!r}")
    big = size * _SUPERSAMPLE
    img = _background(rng, size).resize((big, big), Image.Resampling.NEAREST)
    side = rng.uniform(0.4, 0.8) * big  # smaller, a star and a cross blur into one blob
    r = side / 2
    cx, cy = rng.uniform(r, big - r), rng.uniform(r, big - r)
    fill = _jitter(COLORS[color], rng)
    draw = ImageDraw.Draw(img)
    if shape == "circle":
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=fill)
    else:
        draw.polygon([(cx + x, cy + y) for x, y in _shape_outline(shape, r, rng)], fill=fill)
    return img.resize((size, size), Image.Resampling.LANCZOS)


@functools.lru_cache(maxsize=64)
def _font(px: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    # Pillow >= 10.1 ships a scalable default font: no font files needed on any OS.
    return ImageFont.load_default(size=px)


def draw_document(word: str, rng: random.Random, size: int = 96) -> Image.Image:
    """An off-white page with `word` written large and a few grey lines of "text"."""
    big = size * 2
    paper = _jitter((244, 244, 244), rng, 11)
    page = Image.new("RGB", (big, big), paper)
    draw = ImageDraw.Draw(page)
    # A random type size, shrunk only if the word would not fit: long words look long.
    target = 0.9 * big
    px = int(big * rng.uniform(0.24, 0.34))
    while px > 8:
        left, top, right, bottom = draw.textbbox((0, 0), word, font=_font(px))
        if right - left <= target:
            break
        px -= 2
    left, top, right, bottom = draw.textbbox((0, 0), word, font=_font(px))
    w, h = right - left, bottom - top
    x = rng.uniform(0.04 * big, big - w - 0.04 * big) - left
    y = rng.uniform(0.05 * big, big - h - 0.05 * big) - top
    ink = rng.choice(((20, 20, 20), (40, 40, 60), (20, 30, 90), (60, 20, 20)))
    draw.text((x, y), word, font=_font(px), fill=_jitter(ink, rng, 10))
    word_box = (y + top - 4, y + bottom + 4)
    # Grey bars stand in for body text, everywhere the word is not.
    line_h = rng.randint(3, 5)
    gap = rng.randint(9, 14)
    row = rng.randint(6, 14)
    while row + line_h < big - 6:
        if not (word_box[0] - line_h < row < word_box[1]):
            start = rng.randint(8, 20)
            end = rng.randint(int(big * 0.5), big - 8)
            shade = rng.randint(150, 200)
            draw.rectangle((start, row, end, row + line_h), fill=(shade, shade, shade))
        row += gap
    angle = rng.uniform(-5, 5)
    page = page.rotate(angle, resample=Image.Resampling.BICUBIC, fillcolor=paper)
    return page.resize((size, size), Image.Resampling.LANCZOS)


# -- folders for tests -----------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    """One generated file and what it shows or says.

    kind: "photo" (a shape picture), "document" (a .txt) or "scan" (a picture of a page).
    Shape files set color and shape; word files set word. text: a document's contents.
    """

    path: Path
    kind: str
    color: str | None = None
    shape: str | None = None
    word: str | None = None
    text: str | None = None

    @property
    def label(self) -> str:
        """ "red circle" or "invoice": files with the same label show the same thing."""
        return self.word if self.word is not None else f"{self.color} {self.shape}"

    @property
    def query(self) -> str:
        """What a person would type to find it: "a red circle", "invoice"."""
        if self.word is not None:
            return self.word
        assert self.color is not None and self.shape is not None
        return caption(self.color, self.shape)


def make_photo_folder(
    dest: Path,
    seed: int,
    *,
    colors: tuple[str, ...] | None = None,
    shapes: tuple[str, ...] | None = None,
    size: int = 96,
    suffix: str = ".png",
) -> list[Sample]:
    """One picture per (colour, shape), named e.g. red_circle.png; a new seed, new pictures."""
    rng = random.Random(f"photos-{seed}")
    dest.mkdir(parents=True, exist_ok=True)
    samples = []
    for color in colors or tuple(COLORS):
        for shape in shapes or SHAPES:
            path = dest / f"{color}_{shape}{suffix}"
            draw_shape(color, shape, rng, size).save(path)
            samples.append(Sample(path, "photo", color=color, shape=shape))
    return samples


def make_document_folder(
    dest: Path,
    seed: int,
    *,
    colors: tuple[str, ...] | None = None,
    shapes: tuple[str, ...] | None = None,
    words: tuple[str, ...] | None = None,
    scans: bool = False,
    size: int = 96,
) -> list[Sample]:
    """Text documents: red_circle.txt ("This document is about a red circle. ...") per
    (colour, shape), and invoice.txt ("invoice: amount due ...") per document word.
    scans=True adds a picture of each word's page too, e.g. invoice_scan.png."""
    rng = random.Random(f"documents-{seed}")
    dest.mkdir(parents=True, exist_ok=True)
    samples = []
    for color in colors or tuple(COLORS):
        for shape in shapes or SHAPES:
            text = f"This document is about {caption(color, shape)}. {rng.choice(_FILLERS)}"
            path = dest / f"{color}_{shape}.txt"
            path.write_text(text.strip() + "\n", encoding="utf-8")
            samples.append(Sample(path, "document", color=color, shape=shape, text=text.strip()))
    for word in words or DOC_WORDS:
        text = word_passage(word, rng)
        path = dest / f"{word}.txt"
        path.write_text(text + "\n", encoding="utf-8")
        samples.append(Sample(path, "document", word=word, text=text))
        if scans:
            scan = dest / f"{word}_scan.png"
            draw_document(word, rng, size).save(scan)
            samples.append(Sample(scan, "scan", word=word))
    return samples
