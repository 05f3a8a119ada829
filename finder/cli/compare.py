"""`finder compare`: two models' top results for one query, side by side."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any, TextIO

from finder import paths
from finder.cli.common import Command, parse_model
from finder.core.model_shelf import ModelInUseError, compare
from finder.core.models.spec import ModelSpec, ModelUnavailableError
from finder.core.types import SearchKind


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "compare", parents=[common], help="two models' top results for a query, side by side"
    )
    p.add_argument("query")
    p.add_argument(
        "--models",
        required=True,
        help="A,B: catalogue names, name@tag or "
        "config JSONs (each needs its index: `finder models use`)",
    )
    p.add_argument("--kind", choices=[k.value for k in SearchKind], default=SearchKind.ALL.value)
    p.add_argument("-k", type=int, default=10)
    p.add_argument("--json", action="store_true")


def cmd_compare(args: argparse.Namespace, spec: ModelSpec, out: TextIO, err: TextIO) -> int:
    names = [n.strip() for n in args.models.split(",") if n.strip()]
    if len(names) != 2:
        print("finder: error: --models takes two models, A,B", file=err)
        return 2
    found = compare(
        paths.data_dir(args.data_dir),
        [parse_model(name) for name in names],
        args.query,
        SearchKind(args.kind),
        args.k,
        precision=args.precision,
    )
    for name, column in zip(names, found, strict=True):
        if column.no_index:
            raise ModelInUseError(
                f"{column.error}; build it with `finder models use {name}` (then switch back)"
            )
        if column.error:
            raise ModelUnavailableError(column.error)
    columns = [(column.label, column.results) for column in found]
    if args.json:
        json.dump(
            {label: [r.to_json() for r in results] for label, results in columns},
            out,
            indent=2,
            ensure_ascii=False,
        )
        out.write("\n")
        return 0
    width = 46
    print("     " + "".join(f"{label[: width - 1]:<{width}}" for label, _ in columns), file=out)
    for rank in range(max((len(r) for _, r in columns), default=0)):
        cells = []
        for _, results in columns:
            if rank < len(results):
                r = results[rank]
                cells.append(
                    f"{r.score:6.3f} {r.relevance_label:<6} {_short(Path(r.path).name, width - 15)}"
                )
            else:
                cells.append("")
        print(f"{rank + 1:3d}. " + "".join(f"{c:<{width}}" for c in cells), file=out)
    return 0


COMMANDS: dict[str, Command] = {"compare": cmd_compare}


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "\u2026"
