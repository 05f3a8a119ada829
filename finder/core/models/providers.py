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
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

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


def image_batch_for(providers: Sequence[str]) -> int:
    """Images per model batch: larger on a GPU, where one batch is cheap to launch."""
    return GPU_IMAGE_BATCH if providers and providers[0] != CPU else CPU_IMAGE_BATCH


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


def cpu_options(ort: Any, *, prepack: bool) -> Any:
    """Session options for the CPU on every core, without busy-waiting between operators
    (on a shared laptop a spinning thread takes the core another one needs)."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = os.cpu_count() or 1
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
    available: Callable[[], Sequence[str]] = available_providers,
    make: Callable[..., Any] | None = None,
) -> Any:
    """An inference session on the best device that works, falling back to the CPU when
    the GPU's cannot be made or a run on it fails. `make` builds one (tests pass a fake)."""
    import onnxruntime as ort

    build = make or ort.InferenceSession
    providers = choose_providers(available())
    if providers == [CPU]:
        return build(str(path), cpu_options(ort, prepack=prepack), providers=[CPU])
    try:
        session = build(str(path), cpu_options(ort, prepack=prepack), providers=providers)
    except Exception as exc:  # noqa: BLE001 - provider errors have many types
        log.warning("%s on %s failed (%s): on the CPU", path.name, device_label(providers), exc)
        return build(str(path), cpu_options(ort, prepack=prepack), providers=[CPU])
    return FallbackSession(
        session, lambda: build(str(path), cpu_options(ort, prepack=prepack), providers=[CPU])
    )


class FallbackSession:
    """A GPU session that turns into a CPU one at its first failed run (logged once)."""

    def __init__(self, session: Any, on_cpu: Callable[[], Any]) -> None:
        self._session = session
        self._on_cpu = on_cpu
        self._lock = threading.Lock()
        self.fell_back = False

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
                    self._session = self._on_cpu()
                    self.fell_back = True
            return self._session.run(outputs, feed)
