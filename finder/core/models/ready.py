"""Ready ONNX exports of open_clip models, as Immich publishes them on the Hugging Face hub:
one repository per model, `immich-app/<model>__<pretrained>`, in the model folder layout
(finder.core.models.model_folder). Downloading one needs no torch and no export step;
models with none published fall back to their torch weights and finder's own export.
"""

from __future__ import annotations

from pathlib import Path

from finder.core.models.model_folder import (
    CONFIG,
    PREPROCESS,
    TEXTUAL,
    TOKENIZER_JSON,
    VISUAL,
    is_model_folder,
)
from finder.core.models.spec import ModelSpec
from finder.core.models.weights import DownloadPlan, Hub, RemoteFile, check_online, locate

READY_ORG = "immich-app"
# config.json first: the plan's folder is where it lies.
READY_FILES = (CONFIG, VISUAL, PREPROCESS, TEXTUAL, TOKENIZER_JSON, "textual/tokenizer_config.json")
# Present in some repositories only (graphs over 2 GB keep their weights beside them).
OPTIONAL_FILES = (
    "textual/special_tokens_map.json",
    "visual/model.onnx_data",
    "textual/model.onnx_data",
)


def ready_repo(name: str, pretrained: str) -> str:
    """The hub repository of a model's ready export (Immich capitalises XLM-Roberta)."""
    for lower, published in (
        ("xlm-roberta-base", "XLM-Roberta-Base"),
        ("xlm-roberta-large", "XLM-Roberta-Large"),
    ):
        name = name.replace(lower, published)
    return f"{READY_ORG}/{name}__{pretrained}"


def _tag(spec: ModelSpec) -> str | None:
    """The pretrained tag whose ready export could exist (not files nor random weights)."""
    if spec.folder is not None or spec.checkpoint_file is not None or spec.config_path:
        return None
    return spec.pretrained


def find_ready(spec: ModelSpec, cache_dir: Path | None = None) -> Path | None:
    """The downloaded ready export of `spec` (a folder in the hub's cache), if complete;
    never touches the network."""
    tag = _tag(spec)
    if tag is None:
        return None
    from huggingface_hub import try_to_load_from_cache

    found = try_to_load_from_cache(ready_repo(spec.name, tag), CONFIG, cache_dir=cache_dir)
    if not isinstance(found, str):
        return None
    folder = Path(found).parent
    return folder if is_model_folder(folder) else None


def plan_ready_download(spec: ModelSpec, hub: Hub) -> DownloadPlan | None:
    """The download of `spec`'s ready export, sized first; None when none is published.
    Raises DownloadError when the hub cannot be asked (offline)."""
    tag = _tag(spec)
    if tag is None:
        return None
    check_online(hub)
    repo = ready_repo(spec.name, tag)
    files: list[RemoteFile] = []
    for name in READY_FILES:
        found = locate(repo, [name], hub)
        if found is None:
            return None  # not published, or not in this layout
        files.append(found)
    for name in OPTIONAL_FILES:
        found = locate(repo, [name], hub)
        if found is not None:
            files.append(found)
    return DownloadPlan(tuple(files), hub.cache(), hub.endpoint, folder=True)
