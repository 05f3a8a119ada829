"""Model weights: where they are on disk (one lookup) and how they are fetched (one path).

Every download (`finder model download`, `finder models download`, the app's Download
buttons) goes through `plan_download` + `DownloadPlan.run`: plain urllib with HTTP Range
requests, sized first, with progress, cancellable, resumable. It writes the cache layout
huggingface_hub reads (models--org--name/blobs/<etag>, snapshots/<commit>/<file>,
refs/main), so open_clip and `find_weights` find the files without the network
afterwards. A cut or cancelled download leaves blobs/<etag>.incomplete, and the next
attempt continues from its end. Offline (the setting, or the hub's host does not
resolve) fails at once with a clear message.

Settings come in as a `Hub` (finder.config builds it from HF_ENDPOINT, HF_HUB_CACHE,
HF_HOME, XDG_CACHE_HOME and HF_HUB_OFFLINE); nothing here reads the environment.
"""

from __future__ import annotations

import http.client
import os
import shutil
import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urljoin, urlparse

DEFAULT_ENDPOINT = "https://huggingface.co"
CHUNK = 1 << 16
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


@dataclass(frozen=True)
class RemoteFile:
    repo_id: str
    filename: str
    url: str  # where the bytes are (after the hub's redirect)
    size: int
    etag: str
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
    """What a download will fetch, sized before any byte is transferred."""

    files: tuple[RemoteFile, ...]
    cache_dir: Path

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.files)

    def run(
        self, progress: ProgressCallback | None = None, cancel: threading.Event | None = None
    ) -> Path:
        """Fetch every file (skipping those already complete); the weights' path."""
        return fetch_all(self.files, cache_dir=self.cache_dir, progress=progress, cancel=cancel)[0]


def plan_download(source: WeightsSource, hub: Hub) -> DownloadPlan:
    """Ask the hub for the files of `source` and their sizes; raises DownloadError
    (offline, unknown repo) with the reason."""
    if not source.repo_id:
        raise DownloadError(
            f"{source.describe()} is not on the Hugging Face hub; download it yourself "
            "and pass --pretrained FILE"
        )
    check_online(hub)
    files = [locate(source.repo_id, source.filenames, hub)]
    for repo in dict.fromkeys(source.text_repos):
        for name in HUB_TEXT_FILES:
            try:
                files.append(locate(repo, [name], hub))
            except DownloadError:
                continue  # not every tokenizer has every file
    return DownloadPlan(tuple(files), hub.cache())


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


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def locate(
    repo_id: str,
    filenames: Sequence[str],
    hub: Hub,
    *,
    revision: str = "main",
    timeout: float = TIMEOUT_S,
) -> RemoteFile:
    """The first of `filenames` the repo has, with its size, etag and commit (HEAD)."""
    check_online(hub)
    opener = urllib.request.build_opener(_NoRedirect)
    base = hub.endpoint.rstrip("/")
    for filename in filenames:
        url = f"{base}/{repo_id}/resolve/{quote(revision)}/{quote(filename)}"
        request = urllib.request.Request(
            url, method="HEAD", headers={"Accept-Encoding": "identity"}
        )
        try:
            response = opener.open(request, timeout=timeout)
            headers, status = response.headers, response.status
            response.close()
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                continue
            if exc.code not in (301, 302, 303, 307, 308):
                raise DownloadError(
                    f"{repo_id}/{filename}: the hub answered {exc.code} {exc.reason}"
                ) from exc
            headers, status = exc.headers, exc.code
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise DownloadError(f"cannot reach {base}: {reason}") from exc
        location = headers.get("Location")
        target = urljoin(url, location) if status >= 300 and location else url
        size = headers.get("X-Linked-Size") or headers.get("Content-Length")
        etag = headers.get("X-Linked-Etag") or headers.get("ETag") or ""
        commit = headers.get("X-Repo-Commit") or ""
        if not size or not etag or not commit:
            raise DownloadError(
                f"{repo_id}/{filename}: the hub's answer lacks size, etag or "
                "commit; is HF_ENDPOINT a Hugging Face hub?"
            )
        return RemoteFile(
            repo_id, filename, target, int(size), etag.removeprefix("W/").strip('"'), commit
        )
    raise DownloadError(f"{repo_id} has none of {', '.join(filenames)}")


def fetch(
    remote: RemoteFile,
    *,
    cache_dir: Path | None = None,
    revision: str = "main",
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    timeout: float = TIMEOUT_S,
    offset: int = 0,
    overall_total: int = 0,
) -> Path:
    """Download one located file into the cache (resuming a partial one); its path."""
    repo_dir = (cache_dir or Hub().cache()) / ("models--" + remote.repo_id.replace("/", "--"))
    blob = repo_dir / "blobs" / remote.etag
    snapshot = repo_dir / "snapshots" / remote.commit / remote.filename
    overall = overall_total or remote.size

    def notify(done: int) -> None:
        if progress is not None:
            progress(DownloadProgress(remote.filename, done, remote.size, offset + done, overall))

    if not blob.is_file():
        blob.parent.mkdir(parents=True, exist_ok=True)
        partial = blob.with_name(blob.name + ".incomplete")
        _transfer(remote, partial, notify, cancel, timeout)
        os.replace(partial, blob)
    notify(remote.size)
    snapshot.parent.mkdir(parents=True, exist_ok=True)
    if not snapshot.exists():
        try:
            snapshot.symlink_to(os.path.relpath(blob, snapshot.parent))
        except OSError:  # no symlinks (some Windows setups): a copy, as huggingface_hub does
            shutil.copyfile(blob, snapshot)
    refs = repo_dir / "refs" / revision
    refs.parent.mkdir(parents=True, exist_ok=True)
    refs.write_text(remote.commit, encoding="utf-8")
    return snapshot


def _transfer(
    remote: RemoteFile,
    partial: Path,
    notify: Callable[[int], None],
    cancel: threading.Event | None,
    timeout: float,
) -> None:
    """Bring `partial` to the remote's full size, continuing from its current end."""
    have = partial.stat().st_size if partial.exists() else 0
    if have > remote.size:
        partial.unlink()
        have = 0
    headers = {"Accept-Encoding": "identity"}
    if have:
        headers["Range"] = f"bytes={have}-"
    try:
        response = urllib.request.urlopen(
            urllib.request.Request(remote.url, headers=headers), timeout=timeout
        )
    except urllib.error.HTTPError as exc:
        if exc.code != 416:
            raise DownloadError(f"{remote.filename}: {exc.code} {exc.reason}") from exc
        response = None  # nothing left to fetch
    except (urllib.error.URLError, OSError) as exc:
        raise DownloadError(
            f"cannot download {remote.filename}: {getattr(exc, 'reason', exc)}"
        ) from exc
    if response is not None:
        with response, open(partial, "ab" if have and response.status == 206 else "wb") as f:
            if response.status != 206:
                have = 0  # the server ignored the range: start again
            while True:
                if cancel is not None and cancel.is_set():
                    raise DownloadCancelled(
                        f"download of {remote.filename} cancelled at "
                        f"{have:,} of {remote.size:,} bytes; run it again to continue"
                    )
                try:
                    chunk = response.read(CHUNK)
                except (OSError, http.client.HTTPException) as exc:
                    raise DownloadError(
                        f"download of {remote.filename} cut at {have:,} of "
                        f"{remote.size:,} bytes ({exc}); run it again to continue"
                    ) from exc
                if not chunk:
                    break
                f.write(chunk)
                have += len(chunk)
                notify(have)
    if have != remote.size:
        raise DownloadError(
            f"download of {remote.filename} cut at {have:,} of "
            f"{remote.size:,} bytes; run it again to continue"
        )


def fetch_all(
    files: Sequence[RemoteFile],
    *,
    cache_dir: Path | None = None,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> list[Path]:
    """Download located files one after the other, with progress over all of them."""
    total = sum(f.size for f in files)
    offsets = [sum(f.size for f in files[:i]) for i in range(len(files))]
    return [
        fetch(
            f, cache_dir=cache_dir, progress=progress, cancel=cancel, offset=at, overall_total=total
        )
        for f, at in zip(files, offsets, strict=True)
    ]
