"""Smoke test of the frozen app (dist/finder, built by `make package`), run the way a
person runs it: a clean environment with no virtual environment on PATH, offscreen.

    .venv/bin/python packaging/smoke_test.py [BUNDLE_DIR] [--model-dir DIR] [--json]

It checks: `finder --version`; `index` of a small folder and `search` with a model folder
(ONNX Runtime; torch is not in the bundle); the window starting and closing cleanly on
SIGTERM (exit 0, settings saved). It prints the bundle's size and its start-up times.
The model folder, unless given, is the test model (tests/models/finder-tiny) exported
with the virtual environment's finder (it has torch): `finder models export`.

Exit status 0 when every check passed. Only this script needs Python with Pillow; the
bundle runs without either.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TINY_MODEL = ROOT / "tests" / "models" / "finder-tiny.json"
VENV_FINDER = ROOT / ".venv" / "bin" / "finder"
# Printed by Qt's offscreen platform when a window is sized or raised; not finder's.
OFFSCREEN_NOTICES = (
    "This plugin does not support propagateSizeHints()",
    "This plugin does not support raise()",
)
WINDOW_SECONDS = 8.0  # how long the window runs (loading the model) before SIGTERM
QUIT_WITHIN_S = 10.0


class SmokeFailure(Exception):
    pass


def check(condition: bool, what: str) -> None:
    if not condition:
        raise SmokeFailure(what)


def folder_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def clean_env(home: Path, model_dir: Path) -> dict[str, str]:
    """A person's environment: system PATH only (no virtual environment), a fresh home."""
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_RUNTIME_DIR": str(home / "runtime"),
        "QT_QPA_PLATFORM": "offscreen",
        "HF_HUB_OFFLINE": "1",
        "FINDER_DATA_DIR": str(home / "finder-data"),
        "FINDER_MODEL": str(model_dir),
    }


def timed(
    cmd: list[str], env: dict[str, str], timeout: float = 300
) -> tuple[subprocess.CompletedProcess[str], float, float]:
    """Runs cmd; (result, wall seconds, CPU seconds of the child)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return done, wall, cpu


def make_photos(folder: Path) -> None:
    from PIL import Image, ImageDraw

    folder.mkdir(parents=True)
    for i, (color, shape) in enumerate(
        [("red", "circle"), ("green", "square"), ("blue", "circle"), ("orange", "square")]
    ):
        img = Image.new("RGB", (320, 240), (235, 235, 225))
        draw = ImageDraw.Draw(img)
        box = (80, 60, 240, 180)
        (draw.ellipse if shape == "circle" else draw.rectangle)(box, fill=color)
        img.save(folder / f"photo-{i}-{color}-{shape}.jpg")
    (folder / "receipt.txt").write_text(
        "receipt from the hardware store: nails, glue", encoding="utf-8"
    )


def export_test_model(work: Path) -> Path:
    """The test model as a model folder, written by the virtual environment's finder."""
    check(VENV_FINDER.exists(), f"{VENV_FINDER} is missing: run `make setup` or pass --model-dir")
    target = work / "model"
    env = {**os.environ, "FINDER_DATA_DIR": str(work / "export-data"), "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(
        [str(VENV_FINDER), "models", "export", str(TINY_MODEL), str(target)],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    check(
        done.returncode == 0 and (target / "visual" / "model.onnx").is_file(),
        f"`finder models export` failed ({done.returncode}): {done.stderr[-2000:]}",
    )
    return target


def smoke(bundle: Path, model_dir: Path | None) -> dict[str, object]:
    exe = bundle / ("finder.exe" if sys.platform == "win32" else "finder")
    check(exe.is_file(), f"{exe} is missing: run `make package` first")
    check(not (bundle / "_internal" / "torch").exists(), "torch is inside the bundle")
    figures: dict[str, object] = {"bundle_mb": round(folder_size(bundle) / 2**20)}
    work = Path(tempfile.mkdtemp(prefix="finder-smoke-"))
    try:
        model = model_dir or export_test_model(work)
        photos = work / "Pictures"
        make_photos(photos)
        home = work / "home"
        (home / "runtime").mkdir(parents=True)
        os.chmod(home / "runtime", 0o700)
        env = clean_env(home, model)

        versions = [timed([str(exe), "--version"], env) for _ in range(3)]
        done = versions[0][0]
        check(done.returncode == 0 and "finder" in done.stdout, f"--version: {done}")
        figures["version_s_first"] = round(versions[0][1], 2)
        figures["version_s"] = round(min(wall for _, wall, _ in versions[1:]), 2)
        figures["version_cpu_s"] = round(min(cpu for _, _, cpu in versions[1:]), 2)

        done, wall, _ = timed([str(exe), "index", str(photos)], env)
        check(done.returncode == 0, f"index failed ({done.returncode}): {done.stderr[-3000:]}")
        figures["index_s"] = round(wall, 2)

        done, wall, cpu = timed([str(exe), "search", "red circle", "--json"], env)
        check(done.returncode == 0, f"search failed ({done.returncode}): {done.stderr[-3000:]}")
        results = json.loads(done.stdout)
        check(len(results) > 0, f"search found nothing: {done.stdout}")
        figures["search_s"] = round(wall, 2)
        figures["search_cpu_s"] = round(cpu, 2)

        done, _, _ = timed([str(exe), "search", "hardware", "--json"], env)
        check(done.returncode == 0 and "receipt.txt" in done.stdout, f"keyword search: {done}")

        done, _, _ = timed([str(exe), "status", "--json"], env)
        check(done.returncode == 0, f"status failed: {done.stderr[-2000:]}")
        status = json.loads(done.stdout)
        figures["status_model"] = status.get("model")

        figures.update(window_quits_cleanly(exe, env, home))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return figures


def window_quits_cleanly(exe: Path, env: dict[str, str], home: Path) -> dict[str, object]:
    """The window starts, and SIGTERM closes it as Ctrl+Q does: exit 0, settings saved,
    nothing on stderr but the offscreen platform's notices. Its start-up time is when it
    opens the model's files: the model loads once the window has been shown and painted
    (app.launch), so the window was up by then."""
    model_opened = ModelOpened(Path(env["FINDER_MODEL"]))
    started = time.perf_counter()
    child = subprocess.Popen([str(exe)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(WINDOW_SECONDS)
    opened = model_opened.stop()
    if child.poll() is not None:
        raise SmokeFailure(f"the window ended by itself: {child.communicate()}")
    asked = time.perf_counter()
    child.send_signal(signal.SIGTERM)
    out, err = child.communicate(timeout=QUIT_WITHIN_S + 20)
    took = time.perf_counter() - asked
    stderr = [
        line
        for line in err.decode(errors="replace").splitlines()
        if line.strip() and line.strip() not in OFFSCREEN_NOTICES
    ]
    check(child.returncode == 0, f"window exit status {child.returncode}: {stderr}")
    check(not stderr, "the window wrote to stderr:\n" + "\n".join(stderr))
    check(took < QUIT_WITHIN_S, f"the window took {took:.1f} s to quit")
    check((home / ".config" / "finder" / "settings.json").is_file(), "settings not saved")
    figures: dict[str, object] = {"window_quit_s": round(took, 2)}
    if opened is not None:
        figures["window_shown_by_s"] = round(opened - started, 2)
    return figures


class ModelOpened:
    """The first moment a process opens a file of the model folder (inotify, through
    watchdog where this Python has it; None otherwise)."""

    def __init__(self, folder: Path) -> None:
        self.at: float | None = None
        try:
            from watchdog.events import FileSystemEventHandler
            from watchdog.observers import Observer
        except ImportError:
            self._observer = None
            return
        outer = self

        class Handler(FileSystemEventHandler):
            def on_any_event(self, event: object) -> None:
                if getattr(event, "event_type", "") == "opened" and outer.at is None:
                    outer.at = time.perf_counter()

        self._observer = Observer()
        self._observer.schedule(Handler(), str(folder), recursive=True)
        self._observer.start()

    def stop(self) -> float | None:
        if self._observer is not None:
            self._observer.stop()
            self._observer.join()
        return self.at


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundle", nargs="?", default=str(ROOT / "dist" / "finder"))
    parser.add_argument("--model-dir", help="a model folder (default: export the test model)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    model = Path(args.model_dir).resolve() if args.model_dir else None
    try:
        figures = smoke(Path(args.bundle).resolve(), model)
    except (SmokeFailure, subprocess.TimeoutExpired) as exc:
        print(f"smoke test FAILED: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(figures))
    else:
        for name, value in figures.items():
            print(f"{name:20} {value}")
        print("smoke test passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
