"""Model downloads into the standard Hugging Face cache: sized first, resumable, cancellable.

Plain urllib with HTTP Range requests, writing the cache layout huggingface_hub reads
(models--org--name/blobs/<etag>, snapshots/<commit>/<file>, refs/main), so open_clip and
`cached_weights` find the files without the network afterwards. A cut or cancelled
download leaves blobs/<etag>.incomplete, and the next attempt continues from its end.
Offline (HF_HUB_OFFLINE, or the hub's host does not resolve) fails at once with a clear
message. The endpoint is $HF_ENDPOINT, else https://huggingface.co.
"""

from __future__ import annotations

import http.client
import os
import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlparse

DEFAULT_ENDPOINT = "https://huggingface.co"
CHUNK = 1 << 16
TIMEOUT_S = 15.0


class DownloadError(Exception):
    """The download cannot happen or failed; the message says why and what to do."""


class DownloadCancelled(DownloadError):
    pass


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


def endpoint() -> str:
    return (os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")


def hub_cache() -> Path:
    """huggingface_hub's cache dir, following its environment variables."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"])
    home = os.environ.get("HF_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "huggingface"
    )
    return Path(home) / "hub"


def check_online(url: str | None = None) -> None:
    """Raise DownloadError at once when downloads cannot work (no hanging retries)."""
    if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on"):
        raise DownloadError(
            "offline: HF_HUB_OFFLINE is set, so nothing is downloaded; unset it "
            "to download, or copy the weights and pass --pretrained FILE"
        )
    host = urlparse(url or endpoint()).hostname or ""
    try:
        socket.getaddrinfo(host, 443)
    except OSError as exc:
        raise DownloadError(
            f"offline: cannot reach {host} ({exc.strerror or exc}); connect "
            "to the internet, or copy the weights and pass --pretrained FILE"
        ) from exc


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def locate(
    repo_id: str, filenames: Sequence[str], *, revision: str = "main", timeout: float = TIMEOUT_S
) -> RemoteFile:
    """The first of `filenames` the repo has, with its size, etag and commit (HEAD)."""
    check_online()
    opener = urllib.request.build_opener(_NoRedirect)
    base = endpoint()
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
        target = urllib.request.urljoin(url, location) if status >= 300 and location else url
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
    repo_dir = (cache_dir or hub_cache()) / ("models--" + remote.repo_id.replace("/", "--"))
    blob = repo_dir / "blobs" / remote.etag
    snapshot = repo_dir / "snapshots" / remote.commit / remote.filename
    notify = progress or (lambda p: None)
    if not blob.is_file():
        blob.parent.mkdir(parents=True, exist_ok=True)
        partial = blob.with_name(blob.name + ".incomplete")
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
                    notify(
                        DownloadProgress(
                            remote.filename,
                            have,
                            remote.size,
                            offset + have,
                            overall_total or remote.size,
                        )
                    )
        if have != remote.size:
            raise DownloadError(
                f"download of {remote.filename} cut at {have:,} of "
                f"{remote.size:,} bytes; run it again to continue"
            )
        os.replace(partial, blob)
    notify(
        DownloadProgress(
            remote.filename,
            remote.size,
            remote.size,
            offset + remote.size,
            overall_total or remote.size,
        )
    )
    snapshot.parent.mkdir(parents=True, exist_ok=True)
    if not snapshot.exists():
        try:
            snapshot.symlink_to(os.path.relpath(blob, snapshot.parent))
        except OSError:  # no symlinks (some Windows setups): a copy, as huggingface_hub does
            import shutil

            shutil.copyfile(blob, snapshot)
    refs = repo_dir / "refs" / revision
    refs.parent.mkdir(parents=True, exist_ok=True)
    refs.write_text(remote.commit, encoding="utf-8")
    return snapshot


def fetch_all(
    files: Sequence[RemoteFile],
    *,
    cache_dir: Path | None = None,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> list[Path]:
    """Download located files one after the other, with progress over all of them."""
    total = sum(f.size for f in files)
    done = 0
    out = []
    for remote in files:
        out.append(
            fetch(
                remote,
                cache_dir=cache_dir,
                progress=progress,
                cancel=cancel,
                offset=done,
                overall_total=total,
            )
        )
        done += remote.size
    return out
