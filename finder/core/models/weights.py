"""Where a pretrained tag's weights are on disk, and whether the network can be reached.

Nothing here touches the network except `host_resolves` (a DNS lookup).
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any
from urllib.parse import urlparse


def cached_weights(tag_cfg: dict[str, Any], cache_dir: str | None = None) -> str | None:
    """The weights file of a pretrained tag if it is already on disk; never touches the network."""
    hub = tag_cfg.get("hf_hub") or ""
    if hub:
        from huggingface_hub import hf_hub_download
        from huggingface_hub.errors import LocalEntryNotFoundError
        from open_clip.constants import HF_SAFE_WEIGHTS_NAME, HF_WEIGHTS_NAME

        # open_clip's convention: "org/repo/file.bin", or "org/repo/" for the default file.
        repo_id, filename = os.path.split(hub)
        names = [filename] if filename else [HF_SAFE_WEIGHTS_NAME, HF_WEIGHTS_NAME]
        if filename.endswith((".bin", ".pth")):
            names.insert(0, filename[:-4] + ".safetensors")
        for name in names:
            try:
                return str(
                    hf_hub_download(repo_id, name, cache_dir=cache_dir, local_files_only=True)
                )
            except (LocalEntryNotFoundError, FileNotFoundError, OSError):
                continue
        return None
    url = tag_cfg.get("url") or ""
    if url:
        target = Path(cache_dir or os.path.expanduser("~/.cache/clip")) / os.path.basename(url)
        return str(target) if target.is_file() else None
    return tag_cfg.get("file") or None


def weights_location(tag_cfg: dict[str, Any], cache_dir: str | None = None) -> str:
    hub = tag_cfg.get("hf_hub") or ""
    if hub:
        from huggingface_hub import constants

        return f"the Hugging Face cache {cache_dir or constants.HF_HUB_CACHE} for {hub.rstrip('/')}"
    return str(Path(cache_dir or os.path.expanduser("~/.cache/clip")))


def host_resolves(source: str) -> bool:
    """A quick DNS check, so an offline download fails at once instead of after retries."""
    host = urlparse(source).hostname if "://" in source else "huggingface.co"
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes"):
        return False
    try:
        socket.getaddrinfo(host or "huggingface.co", 443)
    except OSError:
        return False
    return True


def first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
