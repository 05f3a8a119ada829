"""Opening the library the way the CLI does: the model from the arguments, else
FINDER_MODEL / FINDER_PRETRAINED, else the data dir's active model, else the default;
the data dir from the argument, else FINDER_DATA_DIR, else the user data dir. Always
read-only: no writer lock, so it works beside the running app or `finder watch`."""

from __future__ import annotations

import os
from pathlib import Path

from finder import paths
from finder.config import Environment
from finder.core.library import Library
from finder.core.model_switch import active_model
from finder.core.models.spec import ModelSpec, resolve_model_spec

DataDir = str | os.PathLike[str] | None


def open_library(data_dir: DataDir = None, model: str | None = None) -> Library:
    """The library of `data_dir`, read-only, searching with `model` ("ViT-B-32",
    "ViT-B-32@openai", a model-config JSON; None: as the CLI chooses)."""
    environment = Environment.from_environ(os.environ)
    folder = paths.data_dir(data_dir)
    problem = paths.not_a_folder(folder)
    if problem:
        raise NotADirectoryError(problem)
    return Library.open(
        folder,
        model_spec(folder, model, environment),
        writable=False,
        precision=environment.precision,
        backend=environment.backend,
        hub=environment.hub,
    )


def model_spec(folder: Path, model: str | None, environment: Environment) -> ModelSpec:
    name, pretrained = model, None
    if name and "@" in name:
        name, pretrained = name.rsplit("@", 1)
    # As the CLI does: what the arguments leave unset, the environment fills in.
    name = name or environment.model
    pretrained = pretrained or environment.pretrained
    if not (name or pretrained):
        active = active_model(folder)
        if active is not None:
            return active
    return resolve_model_spec(name, pretrained)
