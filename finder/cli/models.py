"""`finder model` (info, download) and `finder models` (list, use, download, export,
delete): choosing the model.

The chosen and the active model live in data_dir/models.json (finder.core.models.switching);
--model/--pretrained (or FINDER_MODEL/FINDER_PRETRAINED) override them for one command.
"""

from __future__ import annotations

import argparse
import json
import threading
from pathlib import Path
from typing import Any, TextIO

from finder import paths
from finder.cli.common import (
    EXIT_OK,
    Command,
    DownloadBar,
    ProgressPrinter,
    interrupt_sets,
    open_library,
    parse_model,
    size,
)
from finder.core.model_shelf import (
    ModelInUseError,
    StandaloneModel,
    export_model,
    plan_weights_download,
    weights_on_disk,
)
from finder.core.models import catalogue
from finder.core.models.export import UnsupportedModelError
from finder.core.models.recommendation import Machine, recommend
from finder.core.models.spec import ModelSpec, ModelUnavailableError
from finder.core.models.weights import DownloadError
from finder.core.types import SwitchOutcome

EXPECTED_ERRORS = (DownloadError, ModelInUseError, UnsupportedModelError)


def add_parsers(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("model", parents=[common], help="show or download the CLIP model")
    p.add_argument("action", choices=["info", "download"])

    p = sub.add_parser(
        "models", parents=[common], help="the models on offer: list, use (switch), download, delete"
    )
    p.add_argument("--json", action="store_true", help="list as JSON")
    actions = p.add_subparsers(dest="models_action", metavar="ACTION")
    # The data dir and precision may also follow the action (SUPPRESS: given before it,
    # they are kept).
    late = argparse.ArgumentParser(add_help=False)
    late.add_argument("--data-dir", default=argparse.SUPPRESS)
    late.add_argument("--precision", default=argparse.SUPPRESS, type=str.lower)
    late.add_argument("--json", action="store_true", default=argparse.SUPPRESS)
    actions.add_parser(
        "list", parents=[late], help="the catalogue, with figures and what is on disk"
    )
    q = actions.add_parser(
        "use",
        parents=[late],
        help="switch to a model: its index is built while searches keep "
        "the current one, which it replaces once complete",
    )
    q.add_argument("name", help="catalogue name (ViT-B-16), name@tag, or a model-config JSON")
    q.add_argument("--pretrained", dest="use_pretrained", help="pretrained tag or checkpoint")
    q.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    q = actions.add_parser(
        "download", parents=[late], help="fetch a model's weights (size shown first)"
    )
    q.add_argument("name")
    q.add_argument("--pretrained", dest="use_pretrained")
    q = actions.add_parser(
        "export",
        parents=[late],
        help="write a model folder for --model DIR (needs finder[torch]): any open_clip "
        "model or checkpoint, checked against torch first",
    )
    q.add_argument("name", help="catalogue name, name@tag, or a model-config JSON")
    q.add_argument("folder", help="the folder to write (new or empty)")
    q.add_argument("--pretrained", dest="use_pretrained", help="pretrained tag or checkpoint")
    q = actions.add_parser(
        "delete", parents=[late], help="delete a model's vectors and index (not the active one)"
    )
    q.add_argument("key", help="the model's key, as `finder models` shows it")


# -- finder model -------------------------------------------------------------------------------


def cmd_model(args: argparse.Namespace, spec: ModelSpec, out: TextIO, err: TextIO) -> int:
    model = StandaloneModel(spec, precision=args.precision, hub=args.hub)
    if args.action == "download":
        path = model.download(progress=DownloadBar(err))
        print(f"{spec.describe()}: weights at {path}", file=out)
        return EXIT_OK
    print(f"model      {spec.describe()}", file=out)
    print(f"key        {spec.key}", file=out)
    print(f"precision  {model.runtime.detail}", file=out)
    dim = model.load()
    print(f"dimension  {dim}", file=out)
    return EXIT_OK


# -- finder models ------------------------------------------------------------------------------


def cmd_models(args: argparse.Namespace, spec: ModelSpec, out: TextIO, err: TextIO) -> int:
    action = args.models_action or "list"
    if action == "use":
        return _use(args, spec, out, err)
    if action == "download":
        return _download(args, out, err)
    if action == "export":
        return _export(args, out, err)
    if action == "delete":
        return _delete(args, spec, out)
    return _list(args, spec, out)


def _rows(args: argparse.Namespace, spec: ModelSpec) -> tuple[list[dict[str, Any]], Any]:
    data_dir = paths.data_dir(args.data_dir)
    library = open_library(args, spec, writable=False)
    try:
        chosen = library.switch.chosen()
        stored = {m.key: m for m in library.stored_models()}
    finally:
        library.close()
    active, target = chosen.active or spec.key, chosen.target
    speeds = catalogue.measured_speeds(data_dir)
    rows: list[dict[str, Any]] = []
    for m in catalogue.MODELS:
        rows.append(
            {
                "key": m.key,
                "name": m.name,
                "pretrained": m.pretrained,
                "embed_dim": m.embed_dim,
                "params_m": m.params_m,
                "gflops": m.gflops,
                "download_bytes_estimate": m.download_bytes,
                "imagenet_zero_shot": m.imagenet,
                "flickr30k_text_to_image": {"r1": m.flickr_r1, "r5": m.flickr_r5},
                "mscoco_text_to_image": {"r1": m.coco_r1, "r5": m.coco_r5},
                "languages": m.languages,
                "note": m.note,
                "tokenizer_needs_hub": m.needs_hub,
                "hub_repos": [r for r in (m.hf_hub, m.hub_tokenizer, m.hub_text_config) if r],
                "on_disk": _on_disk(weights_on_disk(m, args.hub)),
            }
        )
    known = {r["key"] for r in rows}
    rows += [
        {
            "key": key,
            "name": key.split("@")[0],
            "pretrained": key.split("@", 1)[-1],
            "embed_dim": m.dim,
            "note": "not in the catalogue (a config or checkpoint)",
        }
        for key, m in stored.items()
        if key not in known
    ]
    for row in rows:
        index = stored.get(row["key"])
        row["active"] = row["key"] == active
        row["switching_to"] = row["key"] == target
        row["index"] = (
            None
            if index is None
            else {
                "files_embedded": index.files_embedded,
                "files_total": index.files_total,
                "complete": index.complete,
                "vectors": index.vectors,
                "bytes": index.bytes,
            }
        )
        speed = speeds.get(row["key"])
        row["measured"] = None if speed is None else vars(speed)
    return rows, recommend(Machine.this(), speeds=speeds)


def _list(args: argparse.Namespace, spec: ModelSpec, out: TextIO) -> int:
    rows, (best, why) = _rows(args, spec)
    if args.json:
        machine = Machine.this()
        json.dump(
            {
                "models": rows,
                "recommended": {"key": best.key, "why": why},
                "machine": vars(machine),
                "source": catalogue.SOURCE,
            },
            out,
            indent=2,
            ensure_ascii=False,
        )
        out.write("\n")
        return 0
    print(
        f"  {'model':<44}{'dim':>4} {'download':>9} {'GFLOPs':>7} {'ImageNet':>8} "
        f"{'Flickr R@1/5':>13} {'COCO R@1/5':>11}  on disk  here",
        file=out,
    )
    for r in rows:
        mark = "*" if r["active"] else (">" if r["switching_to"] else " ")
        label = f"{r['name']} {r['pretrained']}" + (
            " \u2020" if r.get("tokenizer_needs_hub") else ""
        )
        weight_size = size(r["download_bytes_estimate"]) if "download_bytes_estimate" in r else "?"
        print(
            f"{mark} {label:<44}{r['embed_dim']:>4} {weight_size:>9} {_num(r.get('gflops')):>7} "
            f"{_pct(r.get('imagenet_zero_shot')):>8} "
            f"{_pair(r.get('flickr30k_text_to_image')):>13} "
            f"{_pair(r.get('mscoco_text_to_image')):>11}  "
            f"{'yes' if r.get('on_disk') else 'no':<7}  {_here(r)}",
            file=out,
        )
    print(
        "\n* active (answers searches)   > being switched to   \u2020 fetches its tokenizer "
        "or text-tower config from the Hugging Face hub once",
        file=out,
    )
    print(
        "Download sizes are estimates (params x 4 bytes); `finder models download NAME` "
        "shows the exact size first. Quality: zero-shot, "
        + catalogue.SOURCE
        + "; unknown where blank.",
        file=out,
    )
    print(f"Recommended here: {best.name} {best.pretrained} \u2014 {why}", file=out)
    return 0


def _here(row: dict[str, Any]) -> str:
    parts = []
    index = row.get("index")
    if index:
        state = (
            "complete"
            if index["complete"]
            else (f"{index['files_embedded']:,}/{index['files_total']:,} files")
        )
        parts.append(f"index {state}, {size(index['bytes'])}")
    speed = row.get("measured")
    if speed:
        parts.append(f"{speed['images_per_s']:.1f} img/s, query {speed['query_ms']:.0f} ms")
    return "; ".join(parts)


def _use(args: argparse.Namespace, spec: ModelSpec, out: TextIO, err: TextIO) -> int:
    target = parse_model(args.name, args.use_pretrained)
    library = open_library(args, spec, writable=True)
    try:
        # A model that cannot load is refused before anything changes.
        choice = library.switch.choose(target, load_first=True)
        if choice.immediate:
            print(f"Now using {choice.label}: its index is complete.", file=out)
            return 0
        print(
            f"Switching to {choice.label}: {choice.embedded:,}/{choice.total:,} files have "
            f"its vectors; searches use {choice.current} until it is complete. Ctrl+C "
            "stops; `finder index` or this command again continues.",
            file=out,
            flush=True,
        )
        cancel = threading.Event()
        with interrupt_sets(cancel):
            run = library.switch.run(
                cancel=cancel, progress=None if args.quiet else ProgressPrinter(err)
            )
        assert run is not None  # just chosen
        if run.outcome is SwitchOutcome.ON_HOLD:
            raise ModelUnavailableError(run.reason)
        if run.taken_over:
            print(
                f"Now using {choice.label} ({run.reembedded:,} files re-embedded, "
                f"{run.elapsed_s:.1f} s).",
                file=out,
            )
            return 0
        print(
            f"Stopped at {run.embedded:,}/{run.total:,} files; searches still use "
            f"{choice.current}.",
            file=out,
        )
        return 130 if run.cancelled else 1
    finally:
        library.close()


def _download(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    entry = catalogue.find(args.name, args.use_pretrained)
    if entry is None:
        raise DownloadError(
            f"{args.name} is not in the catalogue (`finder models`); for other "
            "tags use `finder model download --model NAME --pretrained TAG`"
        )
    plan = plan_weights_download(entry, args.hub)
    print(
        f"{entry.name} {entry.pretrained}: {size(plan.total_bytes)} in {len(plan.files)} "
        f"file(s), into {plan.cache_dir}",
        file=out,
        flush=True,
    )
    cancel = threading.Event()
    with interrupt_sets(cancel):
        path = plan.run(progress=DownloadBar(err), cancel=cancel)
    if plan.folder:
        print(f"Ready ONNX model at {path} (runs without torch)", file=out)
    else:
        print(f"Weights at {path}", file=out)
    return 0


def _export(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    spec = parse_model(args.name, args.use_pretrained)
    folder = Path(args.folder).expanduser().resolve()
    print(f"Exporting {spec.describe()} to {folder}...", file=err, flush=True)
    cancel = threading.Event()
    with interrupt_sets(cancel):
        written, cosine = export_model(spec, folder, hub=args.hub, progress=DownloadBar(err))
    print(
        f"{spec.describe()}: model folder {written} (cosine {cosine:.6f} against torch); "
        f"use it with `finder --model {written} ...`",
        file=out,
    )
    return EXIT_OK


def _delete(args: argparse.Namespace, spec: ModelSpec, out: TextIO) -> int:
    library = open_library(args, spec, writable=True)
    try:
        freed = library.delete_model(args.key)
    finally:
        library.close()
    print(
        f"Deleted {args.key}: {size(freed)} freed (its index files, and its vectors' "
        "space in the catalog, which later writes reuse).",
        file=out,
    )
    return 0


COMMANDS: dict[str, Command] = {
    "model": cmd_model,
    "models": cmd_models,
}


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def _pct(value: float | None) -> str:
    return "" if value is None else f"{100 * value:.1f}%"


def _pair(value: dict[str, float | None] | None) -> str:
    if not value or value.get("r1") is None or value.get("r5") is None:
        return ""
    return f"{100 * value['r1']:.1f}/{100 * value['r5']:.1f}"  # type: ignore[operator]


def _on_disk(path: Path | None) -> str | None:
    return None if path is None else str(path)
