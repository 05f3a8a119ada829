"""Headless commands over the same service the app uses: index, watch, search, status,
remove, model, models, compare, mcp. One module per command group; common.py at the bottom."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import TextIO

from finder import __version__, paths
from finder.cli import compare, duplicates, exclude, library, mcp, models, watch
from finder.cli.common import (
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    Command,
    apply_environment,
    configure_logging,
)
from finder.cli.common import resolve_spec as resolve_spec
from finder.config import Environment
from finder.core.ingest.extract import ExtractError
from finder.core.library import FolderError
from finder.core.models.cpu import PRECISIONS
from finder.core.models.runtime import BACKENDS
from finder.core.models.spec import ModelUnavailableError
from finder.core.store.errors import CatalogError
from finder.core.store.lock import DataDirLockedError

# Failures we explain in one line instead of a traceback.
EXPECTED_ERRORS = (
    ModelUnavailableError,
    DataDirLockedError,
    CatalogError,
    FolderError,
    ExtractError,
    OSError,
    *models.EXPECTED_ERRORS,
)

COMMANDS: dict[str, Command] = {
    **library.COMMANDS,
    **watch.COMMANDS,
    **models.COMMANDS,
    **compare.COMMANDS,
    **duplicates.COMMANDS,
    **exclude.COMMANDS,
    **mcp.COMMANDS,
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="finder", description="Find photos and documents by description or by example image."
    )
    parser.add_argument("--version", action="version", version=f"finder {__version__}")
    # The model and the data dir may come before the command (finder --model DIR index F)
    # or after it; after it (SUPPRESS: unset, so the one before is kept) wins.
    common = argparse.ArgumentParser(add_help=False)
    for where, default in ((parser, None), (common, argparse.SUPPRESS)):
        where.add_argument(
            "--data-dir",
            default=default,
            help="where the index lives (default: $FINDER_DATA_DIR, else the user data dir)",
        )
        where.add_argument(
            "--model",
            default=default,
            help="a model folder (ONNX Runtime, no torch: `finder models export`), an "
            "open_clip model name, or path to a model-config JSON "
            "(default: $FINDER_MODEL, else ViT-B-32)",
        )
        where.add_argument(
            "--pretrained",
            default=default,
            help="pretrained tag, checkpoint file, or 'none' for "
            "random weights (tests only) (default: $FINDER_PRETRAINED)",
        )
    common.add_argument(
        "--precision",
        choices=PRECISIONS,
        type=str.lower,
        help="model arithmetic: bf16 is faster where the CPU has native bf16, "
        "fp32 is the reference (default: $FINDER_PRECISION, else auto)",
    )
    common.add_argument(
        "--backend",
        choices=BACKENDS,
        type=str.lower,
        help="what runs the model: onnx (ONNX Runtime, after a one-time "
        "export), torch, or auto: onnx once exported, unless the CPU has "
        "native bf16 (default: $FINDER_BACKEND, else auto)",
    )
    common.add_argument("-v", "--verbose", action="store_true", help="log what happens")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    # In the help's order: index, watch, search, status, remove, model, models, compare,
    # duplicates, exclude, mcp.
    library.add_index_parser(sub, common)
    watch.add_parser(sub, common)
    library.add_parsers(sub, common)
    models.add_parsers(sub, common)
    compare.add_parser(sub, common)
    duplicates.add_parser(sub, common)
    exclude.add_parser(sub, common)
    mcp.add_parser(sub, common)
    return parser


def main(
    argv: Sequence[str] | None = None, *, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    if args.command is None:
        parser.print_help(out)
        return EXIT_OK
    configure_logging(args.verbose)
    apply_environment(args, Environment.from_environ(os.environ))
    try:
        spec = resolve_spec(args)
        if spec.is_random and args.command in ("index", "search"):
            print(
                "finder: WARNING: random model weights (--pretrained none): results are "
                "meaningless; use this only for tests and speed benchmarks",
                file=err,
            )
        not_a_folder = paths.not_a_folder(paths.data_dir(args.data_dir))
        if not_a_folder:
            print(f"finder: error: {not_a_folder}", file=err)
            return EXIT_FAILURE
        handler = COMMANDS[args.command]
        return handler(args, spec, out, err)
    except BrokenPipeError:
        # `finder search x | head -1`: the reader has all it wanted; not an error. Point
        # stdout at /dev/null so Python's flush at exit does not complain again.
        if out is sys.stdout:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except EXPECTED_ERRORS as exc:
        print(f"finder: error: {exc}", file=err)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print("finder: interrupted", file=err)
        return EXIT_INTERRUPTED
