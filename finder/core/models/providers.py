"""Where a model runs: the GPU when one is there and works, else the CPU.

ONNX Runtime's execution providers are chosen from what the installed build offers
(`onnxruntime.get_available_providers()`): CUDA (the `finder[cuda]` extra installs
onnxruntime-gpu), ROCm, DirectML (Windows, onnxruntime-directml), CoreML (Apple) and
OpenVINO (Intel), in that order, the CPU always last. A session that cannot be made on
them, or a run that fails there, falls back to the CPU for good (logged): a GPU driver
problem costs speed, never the index. torch picks cuda, then mps, then the CPU.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from finder.core.models.parallel_runs import usable_cores

log = logging.getLogger(__name__)

CPU = "CPUExecutionProvider"
GPU_PROVIDERS = (
    "CUDAExecutionProvider",
    "ROCMExecutionProvider",
    "DmlExecutionProvider",
    "CoreMLExecutionProvider",
    "OpenVINOExecutionProvider",
)
_LABELS = {
    "CUDAExecutionProvider": "the NVIDIA GPU (CUDA)",
    "ROCMExecutionProvider": "the AMD GPU (ROCm)",
    "DmlExecutionProvider": "the GPU (DirectML)",
    "CoreMLExecutionProvider": "Apple's Neural Engine / GPU (CoreML)",
    "OpenVINOExecutionProvider": "OpenVINO",
    CPU: "the CPU",
}
CPU_IMAGE_BATCH = 32
GPU_IMAGE_BATCH = 128  # a GPU is kept busy by larger batches; decode is the limit then


def choose_providers(available: Sequence[str]) -> list[str]:
    """The providers to ask for, best first: every GPU one installed, then the CPU."""
    return [p for p in GPU_PROVIDERS if p in available] + [CPU]


def available_providers() -> list[str]:
    """What the installed onnxruntime offers ([CPU] when it cannot say)."""
    try:
        import onnxruntime as ort

        return list(ort.get_available_providers())
    except Exception as exc:  # noqa: BLE001 - a broken install must not stop the CPU path
        log.info("onnxruntime cannot list its providers: %s", exc)
        return [CPU]


def device_label(providers: Sequence[str]) -> str:
    """Where a session with these providers runs, in words (its first provider)."""
    return _LABELS.get(providers[0], providers[0]) if providers else _LABELS[CPU]


@dataclass(frozen=True)
class Device:
    """Where a model runs, in words (`finder status`), and why it left the GPU if it did."""

    name: str = _LABELS[CPU]
    fell_back: str = ""  # "the NVIDIA GPU (CUDA) failed: CUDA out of memory"; "" if it did not
    gpu: bool = False  # an accelerator: larger image batches keep it busy

    @property
    def image_batch(self) -> int:
        """Images per model batch: larger on a GPU, where one batch is cheap to launch."""
        return GPU_IMAGE_BATCH if self.gpu else CPU_IMAGE_BATCH


def session_device(*sessions: Any) -> Device:
    """Where a model's ONNX Runtime sessions run: the first one made names the device
    (the one ONNX Runtime would choose when none is made yet); a FallbackSession among
    them that left the GPU says why."""
    made = [s for s in sessions if s is not None]
    providers = list(made[0].get_providers()) if made else choose_providers(available_providers())
    why = next((s.fell_back_because for s in made if getattr(s, "fell_back", False)), "")
    return Device(device_label(providers), why, bool(providers) and providers[0] != CPU)


# Signs that a GPU torch could use is present, read without importing torch (~2 s):
# the NVIDIA driver's and ROCm's device files.
_GPU_DEVICE_FILES = ("/proc/driver/nvidia/version", "/dev/kfd")


def gpu_only_for_torch(
    available: Callable[[], Sequence[str]] = available_providers,
    device_files: Sequence[str] = _GPU_DEVICE_FILES,
) -> bool:
    """True when this machine has an NVIDIA/AMD GPU but the installed ONNX Runtime has no
    provider for it (no `finder[cuda]`): torch, if it has the GPU, is then the faster
    runtime, and "auto" keeps a model there rather than export it to the CPU."""
    if choose_providers(available())[0] != CPU:
        return False
    return any(Path(f).exists() for f in device_files)


def torch_device(torch: Any) -> str:
    """The torch device a model should run on: cuda, then mps, else cpu."""
    try:
        if torch.cuda.is_available():
            return "cuda"
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return "mps"
    except Exception as exc:  # noqa: BLE001 - a driver problem means the CPU
        log.info("torch cannot query its GPUs: %s", exc)
    return "cpu"


def cpu_options(ort: Any, *, prepack: bool, threads: int | None = None) -> Any:
    """Session options for the CPU on `threads` threads (default: every core), without
    busy-waiting between operators (on a shared laptop a spinning thread takes the core
    another one needs)."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or usable_cores()
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    if not prepack:
        options.add_session_config_entry("session.disable_prepacking", "1")
    options.log_severity_level = 3
    return options


def open_session(
    path: Path,
    *,
    prepack: bool,
    cpu_threads: int | None = None,
    available: Callable[[], Sequence[str]] = available_providers,
    make: Callable[..., Any] | None = None,
) -> Any:
    """An inference session on the best device that works, falling back to the CPU when
    the GPU's cannot be made or a run on it fails. `make` builds one (tests pass a fake).
    `cpu_threads`: the threads of a session on the CPU alone (default: every core)."""
    import onnxruntime as ort

    build = make or ort.InferenceSession
    providers = choose_providers(available())
    if providers == [CPU]:
        options = cpu_options(ort, prepack=prepack, threads=cpu_threads)
        return build(str(path), options, providers=[CPU])
    gpu = device_label(providers)

    def on_cpu() -> Any:
        return build(str(path), cpu_options(ort, prepack=prepack, threads=cpu_threads), [CPU])

    try:
        session = build(str(path), cpu_options(ort, prepack=prepack), providers=providers)
    except Exception as exc:  # noqa: BLE001 - provider errors have many types
        log.warning("%s on %s failed (%s): on the CPU", path.name, gpu, exc)
        return FallbackSession.on_the_cpu(on_cpu(), f"{gpu} failed: {short_reason(exc)}")
    if providers[0] not in session.get_providers():
        # ONNX Runtime made it on the CPU alone (the provider's libraries did not load; it
        # logged why): keep it, and say why for `finder status`.
        log.warning("%s: ONNX Runtime did not use %s: on the CPU", path.name, gpu)
        reason = f"{gpu} could not be used: ONNX Runtime did not load its provider"
        return FallbackSession.on_the_cpu(session, reason)
    return FallbackSession(session, on_cpu)


class FallbackSession:
    """A GPU session that turns into a CPU one at its first failed run (logged once)."""

    def __init__(self, session: Any, on_cpu: Callable[[], Any]) -> None:
        self._session = session
        self._on_cpu = on_cpu
        self._lock = threading.Lock()
        self.fell_back = False
        self.fell_back_because = ""  # a short line for `finder status`

    @classmethod
    def on_the_cpu(cls, session: Any, because: str) -> FallbackSession:
        """A CPU session for a model that could not start on the GPU, saying why."""
        fallen = cls(session, lambda: session)
        fallen.fell_back, fallen.fell_back_because = True, because
        return fallen

    def get_inputs(self) -> Any:
        return self._session.get_inputs()

    def get_providers(self) -> Any:
        return self._session.get_providers()

    def run(self, outputs: Any, feed: Any) -> Any:
        session = self._session
        try:
            return session.run(outputs, feed)
        except Exception as exc:  # noqa: BLE001 - provider errors have many types
            with self._lock:
                if self._session is session and not self.fell_back:
                    log.warning("a run on the GPU failed (%s): the model moves to the CPU", exc)
                    gpu = device_label(session.get_providers())
                    self._session = self._on_cpu()
                    self.fell_back = True
                    self.fell_back_because = f"{gpu} failed: {short_reason(exc)}"
            return self._session.run(outputs, feed)


def short_reason(exc: BaseException, limit: int = 120) -> str:
    """An error's first line, cut to fit a status line (GPU errors run to pages)."""
    lines = str(exc).strip().splitlines()
    line = lines[0].strip() if lines else type(exc).__name__
    return line if len(line) <= limit else line[: limit - 1] + "…"
