"""Where `finder index` spends its time: py-spy samples every Python thread of one run
(decode pool, the model's calls, the OCR pass), and each sample is put in one stage by
the innermost frame it recognises. Prints JSON: the share of samples per stage.

Native threads of ONNX Runtime are not sampled; the Python thread waiting in
`session.run` stands for them (one sample per tick however many cores the model uses),
so "model" is the wall time the run waits for it, not its CPU time.

    python bench/index_profile.py --photos 40                  # the working tree
    python bench/index_profile.py --photos 40 --source /tmp/finder-snap   # another tree
Needs py-spy (pip install py-spy) and bench/peers.py's photos and template data dir.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from _common import emit, machine
from peers import MODEL, ROOT, copy_template, finder_template, linked, make_photos

# (stage, substrings of a frame): a sample is in the first stage any of its frames names
# (the OCR pass decodes too, the int8 check embeds too: the enclosing stage comes first).
STAGES = (
    ("ocr pass", ("ocr_pass.py",)),
    # the stroke count, and the text detector where strokes cannot clear (first_look.py)
    ("first look for text", ("first_look.py", "text_hint.py")),
    ("int8 check", ("check_int8",)),
    ("model (image tower)", ("encode_images", "image_slice")),
    ("model (text tower)", ("encode_texts",)),
    ("perceptual hash", ("perceptual.py",)),
    ("metadata", ("metadata.py", "meta_words.py", "places.py")),
    ("thumbnail", ("thumbnails.py",)),
    ("content hash", ("content_hash", "hash_of", "read_whole")),
    ("decode", ("load_image", "extract.py")),
    ("preprocess", ("image_prep.py", "preprocess")),
    (
        "catalog and index writes",
        ("writes.py", "catalog.py", "vectors.py", "hnsw.py", "model_store.py"),
    ),
    ("scan", ("scanner.py",)),
    ("model load and export", ("onnx_runtime.py", "export.py", "torch_runtime.py")),
    ("imports and start-up", ("_find_and_load",)),
    ("waiting for the decode pool", ("_result (", "result (concurrent")),
    ("idle pool threads", ("_worker (concurrent",)),  # (left over: no task on the stack)
)


def stage_of(stack: str) -> str:
    for stage, marks in STAGES:
        if any(mark in stack for mark in marks):
            return stage
    return "other"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--photos", type=int, default=40)
    p.add_argument("--no-ocr", action="store_true")
    p.add_argument(
        "--photos-dir", type=Path, help="JPEGs to index instead of generated ones (real_photos.py)"
    )
    p.add_argument("--rate", type=int, default=50, help="samples per second")
    p.add_argument("--source", default=str(ROOT))
    p.add_argument(
        "--template", default="", help="a data dir of that tree's first start (default: made)"
    )
    p.add_argument("--workdir", default=str(Path(tempfile.gettempdir()) / "finder-bench"))
    args = p.parse_args()
    source = Path(args.source).resolve()
    work = Path(args.workdir) / "peers"
    if args.photos_dir:
        photos = sorted(args.photos_dir.glob("*.jpg"))[: args.photos]
    else:
        photos = make_photos(work / "photos-4000x3000-q86", args.photos, (4000, 3000), args_q())
    folder = linked(photos, work / "runs" / f"profile-{args.photos}")
    template = Path(args.template) if args.template else finder_template(work, folder)["dir"]
    data = Path(tempfile.mkdtemp(prefix="finder-profile-"))
    out = data.parent / (data.name + ".raw")
    try:
        copy_template(template, data)
        command = [
            sys.executable,
            "-m",
            "finder",
            "index",
            str(folder),
            "--data-dir",
            str(data),
            *MODEL,
            "-q",
            *(["--no-ocr"] if args.no_ocr else []),
        ]
        spy = Path(sys.executable).with_name("py-spy")
        subprocess.run(
            [
                str(spy),
                "record",
                "--format",
                "raw",
                "-r",
                str(args.rate),
                "-o",
                str(out),
                "--",
                *command,
            ],
            check=True,
            capture_output=True,
            cwd=source,
            env={**os.environ, "PYTHONPATH": str(source)},
        )
        samples: Counter[str] = Counter()
        unplaced: Counter[str] = Counter()  # the innermost frames of "other", to place them
        for line in out.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            stage = stage_of(stack)
            samples[stage] += int(count)
            if stage == "other":
                unplaced[";".join(stack.split(";")[-2:])] += int(count)
    finally:
        shutil.rmtree(data, ignore_errors=True)
        out.unlink(missing_ok=True)
    total = sum(samples.values())
    start_up = ("imports and start-up", "model load and export", "idle pool threads")
    index_total = total - sum(samples[k] for k in start_up)
    result: dict[str, Any] = {
        "benchmark": "index_profile",
        "machine": machine(),
        "source": str(source),
        "photos": args.photos,
        "photos_dir": str(args.photos_dir) if args.photos_dir else "generated",
        "ocr": not args.no_ocr,
        "samples": total,
        "share_of_all": {k: round(v / total, 3) for k, v in samples.most_common()},
        "share_after_start_up": {
            k: round(v / max(index_total, 1), 3)
            for k, v in samples.most_common()
            if k not in ("imports and start-up", "model load and export", "idle pool threads")
        },
    }
    result["other_top"] = [[k[-160:], v] for k, v in unplaced.most_common(5)]
    emit(result)


def args_q() -> Any:
    class Quality:
        quality = 86

    return Quality()


if __name__ == "__main__":
    main()
