"""Model weights: where they are on disk (one lookup) and how they are fetched (one path).

Every download (`finder model download`, `finder models download`, the app's Download
buttons; weights, ready exports and tokenizer files alike) goes through `plan_download`
(or ready.plan_ready_download) + `DownloadPlan.run`, on huggingface_hub: sized first (a
HEAD per file: `get_hf_file_metadata`, which follows the hub's redirects and sends the
token), fetched by its `http_get` (Range requests, retries, the size check) into its
cache layout (so open_clip and `find_weights` find the files without the network
afterwards), with progress and cancel through its `tqdm_class` hook, and each file
checked against the hub's size and, for large (LFS) files, its sha256.

Why not `hf_hub_download` itself: since huggingface_hub 1.x (PR #4228) it downloads to a
temporary file unique to the call and deletes it on any failure, so a cancelled or
killed download starts again from zero (measured with 2.4.0: a cancel at 100 KB of 512
KB left nothing). Here the partial file is blobs/<etag>.incomplete, as before, and the
next attempt continues from its end. Offline (the setting, or
the hub's host does not resolve) fails at once with a clear message.

Settings come in as a `Hub` (finder.config builds it from HF_ENDPOINT, HF_HUB_CACHE,
HF_HOME, XDG_CACHE_HOME and HF_HUB_OFFLINE); nothing here reads the environment.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import socket
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

DEFAULT_ENDPOINT = "https://huggingface.co"
TIMEOUT_S = 15.0
# open_clip's file names for weights in a Hugging Face repo, preferred first.
WEIGHT_FILES = ("open_clip_model.safetensors", "open_clip_pytorch_model.bin")
# Tokenizer and text-config files a hub tokenizer or text tower may need.
HUB_TEXT_FILES = (
    *("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "config.json"),
    *("sentencepiece.bpe.model", "spiece.model"),
)
# Where open_clip keeps weights fetched from a plain URL (not the hub).
URL_CACHE = "~/.cache/clip"


class DownloadError(Exception):
    """The download cannot happen or failed; the message says why and what to do."""


class DownloadCancelled(DownloadError):
    pass


@dataclass(frozen=True)
class Hub:
    """The Hugging Face hub as finder uses it.

    endpoint: the hub's address. cache_dir: huggingface_hub's cache folder (None: the
    library's own default). offline: downloads are switched off.
    """

    endpoint: str = DEFAULT_ENDPOINT
    cache_dir: Path | None = None
    offline: bool = False

    def cache(self) -> Path:
        """The cache folder downloads go into."""
        if self.cache_dir is not None:
            return self.cache_dir
        from huggingface_hub import constants

        return Path(constants.HF_HUB_CACHE)


@dataclass(frozen=True)
class WeightsSource:
    """Where a model's weights come from: a hub repo and its candidate files (preferred
    first), else a URL or a local file; plus hub repos whose tokenizer or text-tower
    files the model also needs."""

    repo_id: str = ""
    filenames: tuple[str, ...] = WEIGHT_FILES
    url: str = ""
    file: str = ""
    text_repos: tuple[str, ...] = field(default=())

    @classmethod
    def of_tag(cls, tag_cfg: Mapping[str, Any]) -> WeightsSource:
        """From open_clip's pretrained config of a tag (`hf_hub`, `url`, `file`)."""
        hub = str(tag_cfg.get("hf_hub") or "")
        # open_clip's convention: "org/repo/file.bin", or "org/repo/" for the default files.
        repo_id, filename = os.path.split(hub)
        names: tuple[str, ...] = WEIGHT_FILES
        if filename:
            names = (filename,)
            if filename.endswith((".bin", ".pth")):
                names = (filename[:-4] + ".safetensors", filename)
        return cls(repo_id, names, str(tag_cfg.get("url") or ""), str(tag_cfg.get("file") or ""))

    def describe(self) -> str:
        return self.repo_id or self.url or self.file


# -- on disk (no network) -------------------------------------------------------------------


def find_weights(source: WeightsSource, cache_dir: Path | None = None) -> Path | None:
    """The weights file of `source` if it is already on disk; never touches the network."""
    if source.repo_id:
        from huggingface_hub import try_to_load_from_cache

        for name in source.filenames:
            found = try_to_load_from_cache(source.repo_id, name, cache_dir=cache_dir)
            if isinstance(found, str):
                return Path(found)
        return None
    if source.url:
        target = (cache_dir or Path(URL_CACHE).expanduser()) / os.path.basename(source.url)
        return target if target.is_file() else None
    return Path(source.file) if source.file else None


def weights_location(source: WeightsSource, cache_dir: Path | None = None) -> str:
    """Where `find_weights` looks, in words."""
    if source.repo_id:
        return f"the Hugging Face cache {cache_dir or Hub().cache()} for {source.repo_id}"
    return str(cache_dir or Path(URL_CACHE).expanduser())


# -- whether downloads can work -------------------------------------------------------------


def offline(hub: Hub) -> str | None:
    """Why downloads cannot work now (switched off, or the hub's host does not resolve),
    or None. A quick DNS lookup, so an offline download fails at once, not after retries."""
    if hub.offline:
        return (
            "offline: HF_HUB_OFFLINE is set, so nothing is downloaded; unset it "
            "to download, or copy the weights and pass --pretrained FILE"
        )
    host = urlparse(hub.endpoint).hostname or ""
    try:
        socket.getaddrinfo(host, 443)
    except OSError as exc:
        return (
            f"offline: cannot reach {host} ({exc.strerror or exc}); connect "
            "to the internet, or copy the weights and pass --pretrained FILE"
        )
    return None


def check_online(hub: Hub) -> None:
    """Raise DownloadError at once when downloads cannot work."""
    reason = offline(hub)
    if reason is not None:
        raise DownloadError(reason)


# -- the download ---------------------------------------------------------------------------

_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class RemoteFile:
    repo_id: str
    filename: str
    url: str  # where the bytes are (after the hub's redirect)
    size: int
    etag: str  # the sha256 of the content for large (LFS) files
    commit: str


@dataclass
class DownloadProgress:
    filename: str
    done: int  # bytes of this file on disk
    total: int
    overall_done: int = 0  # over every file of the download
    overall_total: int = 0


ProgressCallback = Callable[[DownloadProgress], None]


@dataclass(frozen=True)
class DownloadPlan:
    """What a download will fetch, sized before any byte is transferred; `first` is the
    file whose path `run` returns (the weights), or, with `folder`, the folder of the
    repo's snapshot (a ready export)."""

    files: tuple[RemoteFile, ...]
    cache_dir: Path
    endpoint: str = DEFAULT_ENDPOINT
    folder: bool = False

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.files)

    def run(
        self, progress: ProgressCallback | None = None, cancel: threading.Event | None = None
    ) -> Path:
        """Fetch every file (those already complete are not fetched again)."""
        total = self.total_bytes
        paths: list[Path] = []
        at = 0
        for remote in self.files:
            paths.append(self._fetch(remote, progress, cancel, at, total))
            at += remote.size
        if self.folder:
            # snapshots/<commit>/<filename>: the folder the repo's files are laid out in.
            first = self.files[0].filename
            return paths[0].parents[len(Path(first).parts) - 1]
        return paths[0]

    def _fetch(
        self,
        remote: RemoteFile,
        progress: ProgressCallback | None,
        cancel: threading.Event | None,
        offset: int,
        overall: int,
    ) -> Path:
        """One file into the cache's layout (blobs/<etag>, snapshots/<commit>/<name>,
        refs/main), continuing a partial blobs/<etag>.incomplete."""
        from huggingface_hub.file_download import http_get
        from huggingface_hub.utils import build_hf_headers

        def notify(done: int) -> None:
            if progress is not None:
                progress(
                    DownloadProgress(remote.filename, done, remote.size, offset + done, overall)
                )

        repo_dir = self.cache_dir / ("models--" + remote.repo_id.replace("/", "--"))
        blob = repo_dir / "blobs" / remote.etag
        snapshot = repo_dir / "snapshots" / remote.commit / remote.filename
        if not blob.is_file():
            if cancel is not None and cancel.is_set():
                raise DownloadCancelled(f"download of {remote.filename} cancelled")
            blob.parent.mkdir(parents=True, exist_ok=True)
            partial = blob.with_name(blob.name + ".incomplete")
            have = partial.stat().st_size if partial.exists() else 0
            if have > remote.size:
                partial.unlink()
                have = 0
            try:
                with open(partial, "ab") as f:
                    http_get(
                        remote.url,
                        f,
                        resume_size=have,
                        headers=build_hf_headers(),
                        expected_size=remote.size,
                        displayed_filename=remote.filename,
                        tqdm_class=_progress_bar(remote, notify, cancel),
                    )
            except DownloadCancelled:
                raise
            except Exception as exc:  # noqa: BLE001 - the library's errors: HTTP, OS, size
                raise DownloadError(
                    f"download of {remote.repo_id}/{remote.filename} did not finish "
                    f"({_reason(exc)}); run it again to continue"
                ) from exc
            _check(remote, partial)
            os.replace(partial, blob)
        notify(remote.size)
        snapshot.parent.mkdir(parents=True, exist_ok=True)
        if not snapshot.exists():
            try:
                snapshot.symlink_to(os.path.relpath(blob, snapshot.parent))
            except OSError:  # no symlinks (some Windows setups): a copy, as huggingface_hub does
                shutil.copyfile(blob, snapshot)
        refs = repo_dir / "refs" / "main"
        refs.parent.mkdir(parents=True, exist_ok=True)
        refs.write_text(remote.commit, encoding="utf-8")
        return snapshot


def _progress_bar(
    remote: RemoteFile, notify: Callable[[int], None], cancel: threading.Event | None
) -> type:
    """A class for http_get's `tqdm_class` (it is made with tqdm's keyword arguments,
    entered as a context and told each chunk's size): it draws nothing (and starts no
    tqdm monitor thread), reports the bytes on disk, and stops the transfer when
    `cancel` is set, before the chunk is written (the partial file is kept)."""

    class Bar:
        def __init__(self, *, initial: int = 0, **_: Any) -> None:
            self.done = int(initial or 0)

        def __enter__(self) -> Bar:
            return self

        def __exit__(self, *_: object) -> None:
            return None

        def update(self, n: float | None = 1) -> None:
            self.done += int(n or 0)
            notify(self.done)
            if cancel is not None and cancel.is_set():
                raise DownloadCancelled(
                    f"download of {remote.filename} cancelled at {self.done:,} of "
                    f"{remote.size:,} bytes; run it again to continue"
                )

    return Bar


def _check(remote: RemoteFile, blob: Path) -> None:
    """The file is the hub's: its size, and its sha256 where the hub gives one (large
    files). A damaged file is removed, so the next download fetches it again."""
    size = blob.stat().st_size
    problem = ""
    if size != remote.size:
        problem = f"{size:,} bytes where the hub has {remote.size:,}"
    elif _SHA256.fullmatch(remote.etag):
        digest = hashlib.sha256()
        with open(blob, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
        if digest.hexdigest() != remote.etag:
            problem = "its sha256 differs from the hub's"
    if problem:
        blob.unlink(missing_ok=True)
        raise DownloadError(
            f"{remote.repo_id}/{remote.filename} arrived damaged ({problem}); it was removed: "
            "run the download again"
        )


def _reason(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def plan_download(source: WeightsSource, hub: Hub) -> DownloadPlan:
    """Ask the hub for the files of `source` and their sizes; raises DownloadError
    (offline, unknown repo) with the reason."""
    if not source.repo_id:
        raise DownloadError(
            f"{source.describe()} is not on the Hugging Face hub; download it yourself "
            "and pass --pretrained FILE"
        )
    check_online(hub)
    first = locate(source.repo_id, source.filenames, hub)
    if first is None:
        raise DownloadError(f"{source.repo_id} has none of {', '.join(source.filenames)}")
    files = [first]
    for repo in dict.fromkeys(source.text_repos):
        for name in HUB_TEXT_FILES:
            found = locate(repo, [name], hub)  # not every tokenizer has every file
            if found is not None:
                files.append(found)
    return DownloadPlan(tuple(files), hub.cache(), hub.endpoint)


def download(
    source: WeightsSource,
    hub: Hub,
    *,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> Path:
    """The weights of `source`: on disk already, else downloaded (`plan_download` + run)."""
    found = find_weights(source, hub.cache_dir)
    if found is not None:
        return found
    return plan_download(source, hub).run(progress, cancel)


def locate(repo_id: str, filenames: Sequence[str], hub: Hub) -> RemoteFile | None:
    """The first of `filenames` the repo has, with its size, etag and commit (a HEAD
    request); None when it has none of them, or the repo does not exist."""
    from huggingface_hub import get_hf_file_metadata, hf_hub_url

    check_online(hub)
    for filename in filenames:
        url = hf_hub_url(repo_id, filename, endpoint=hub.endpoint)
        try:
            meta = get_hf_file_metadata(url, timeout=TIMEOUT_S, endpoint=hub.endpoint)
        except Exception as exc:  # noqa: BLE001 - the library's HTTP and connection errors
            status = getattr(getattr(exc, "response", None), "status_code", None)
            if status in (401, 404):  # the hub answers 401 for a repo that does not exist
                continue
            if status is not None:
                raise DownloadError(f"{repo_id}/{filename}: the hub answered {status}") from exc
            raise DownloadError(f"cannot reach {hub.endpoint}: {_reason(exc)}") from exc
        if meta.size is None or not meta.etag or not meta.commit_hash:
            raise DownloadError(
                f"{repo_id}/{filename}: the hub's answer lacks size, etag or "
                "commit; is HF_ENDPOINT a Hugging Face hub?"
            )
        etag = meta.etag.removeprefix("W/").strip('"')
        return RemoteFile(repo_id, filename, meta.location, int(meta.size), etag, meta.commit_hash)
    return None
