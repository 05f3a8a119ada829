"""Where a model runs: the GPU providers installed, the CPU when they fail (providers.py).
No GPU here: the provider lists and sessions are fakes."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from finder.core.models.providers import (
    CPU,
    CPU_IMAGE_BATCH,
    GPU_IMAGE_BATCH,
    Device,
    FallbackSession,
    choose_providers,
    device_label,
    gpu_only_for_torch,
    open_session,
    session_device,
    short_reason,
    torch_device,
)


def test_gpu_providers_first_then_the_cpu() -> None:
    assert choose_providers([CPU]) == [CPU]
    assert choose_providers(["AzureExecutionProvider", CPU]) == [CPU]
    assert choose_providers([CPU, "CoreMLExecutionProvider", "CUDAExecutionProvider"]) == [
        "CUDAExecutionProvider",
        "CoreMLExecutionProvider",
        CPU,
    ]
    assert device_label(["CUDAExecutionProvider", CPU]) == "the NVIDIA GPU (CUDA)"
    assert device_label([CPU]) == "the CPU"
    assert Device().image_batch < Device(gpu=True).image_batch


class FakeSession:
    def __init__(self, path: str, options: Any, providers: list[str], fail_run: bool) -> None:
        self.providers = providers
        self.fail_run = fail_run

    def get_inputs(self) -> list[str]:
        return ["pixels"]

    def get_providers(self) -> list[str]:
        return self.providers

    def run(self, outputs: Any, feed: Any) -> list[str]:
        if self.fail_run:
            raise RuntimeError("CUDA error: out of memory")
        return [self.providers[0]]


def maker(
    *, fail_gpu_load: bool = False, fail_gpu_run: bool = False, gpu_left_out: bool = False
) -> Any:
    made: list[list[str]] = []

    def make(path: str, options: Any, providers: list[str]) -> FakeSession:
        made.append(providers)
        on_gpu = providers[0] != CPU
        if on_gpu and fail_gpu_load:
            raise RuntimeError("libcudnn.so.9: cannot open shared object file")
        if on_gpu and gpu_left_out:  # ONNX Runtime only warns, and uses the CPU
            return FakeSession(path, options, [CPU], fail_run=False)
        return FakeSession(path, options, providers, fail_run=on_gpu and fail_gpu_run)

    return make, made


def test_the_cpu_alone_makes_a_plain_session(tmp_path: Path) -> None:
    make, made = maker()
    session = open_session(tmp_path / "m.onnx", prepack=False, available=lambda: [CPU], make=make)
    assert isinstance(session, FakeSession) and made == [[CPU]]


def test_a_gpu_that_does_not_load_leaves_the_cpu(tmp_path: Path) -> None:
    make, made = maker(fail_gpu_load=True)
    gpus = ["CUDAExecutionProvider", CPU]
    session = open_session(tmp_path / "m.onnx", prepack=True, available=lambda: gpus, make=make)
    assert made == [gpus, [CPU]] and session.run(None, {}) == [CPU]
    device = session_device(session)
    assert device.name == "the CPU" and not device.gpu  # and `finder status` says why:
    assert device.fell_back == (
        "the NVIDIA GPU (CUDA) failed: libcudnn.so.9: cannot open shared object file"
    )


def test_a_gpu_onnx_runtime_leaves_out_is_reported(tmp_path: Path) -> None:
    make, made = maker(gpu_left_out=True)
    gpus = ["CUDAExecutionProvider", CPU]
    session = open_session(tmp_path / "m.onnx", prepack=False, available=lambda: gpus, make=make)
    assert made == [gpus] and session.run(None, {}) == [CPU]  # the session it made is kept
    device = session_device(session)
    assert device.name == "the CPU" and not device.gpu
    assert device.fell_back == (
        "the NVIDIA GPU (CUDA) could not be used: ONNX Runtime did not load its provider"
    )


def test_a_failed_run_on_the_gpu_moves_the_model_to_the_cpu_for_good(tmp_path: Path) -> None:
    make, made = maker(fail_gpu_run=True)
    gpus = ["ROCMExecutionProvider", CPU]
    session = open_session(tmp_path / "m.onnx", prepack=False, available=lambda: gpus, make=make)
    assert isinstance(session, FallbackSession) and session.get_inputs() == ["pixels"]
    assert session.run(None, {}) == [CPU] and session.fell_back
    assert session.run(None, {}) == [CPU] and made == [gpus, [CPU]]  # made once


def test_a_working_gpu_is_used(tmp_path: Path) -> None:
    make, _ = maker()
    gpus = ["DmlExecutionProvider", CPU]
    session = open_session(tmp_path / "m.onnx", prepack=False, available=lambda: gpus, make=make)
    assert session.run(None, {}) == ["DmlExecutionProvider"] and not session.fell_back


@pytest.mark.parametrize(
    ("cuda", "mps", "device"), [(True, True, "cuda"), (False, True, "mps"), (False, False, "cpu")]
)
def test_torch_device(cuda: bool, mps: bool, device: str) -> None:
    torch = SimpleNamespace(
        cuda=SimpleNamespace(is_available=lambda: cuda),
        backends=SimpleNamespace(mps=SimpleNamespace(is_available=lambda: mps)),
    )
    assert torch_device(torch) == device


def test_session_device_names_where_a_model_runs(tmp_path: Path) -> None:
    make, _ = maker(fail_gpu_run=True)
    gpus = ["CUDAExecutionProvider", CPU]
    session = open_session(tmp_path / "m.onnx", prepack=False, available=lambda: gpus, make=make)
    text = open_session(tmp_path / "t.onnx", prepack=True, available=lambda: [CPU], make=make)
    assert session_device(session, text) == Device("the NVIDIA GPU (CUDA)", "", True)
    assert session_device(session).image_batch == GPU_IMAGE_BATCH
    session.run(None, {})  # fails on the GPU: the CPU from now on
    device = session_device(None, session, text)  # the first session made names it
    assert device.name == "the CPU" and not device.gpu
    assert device.fell_back == "the NVIDIA GPU (CUDA) failed: CUDA error: out of memory"
    assert device.image_batch == CPU_IMAGE_BATCH
    assert session_device(text) == Device()


def test_before_any_session_the_device_is_the_one_onnx_runtime_would_choose() -> None:
    pytest.importorskip("onnxruntime")
    device = session_device(None, None)
    assert device.name == device_label(
        choose_providers(__import__("onnxruntime").get_available_providers())
    )


def test_a_reason_is_one_short_line() -> None:
    assert (
        short_reason(RuntimeError("CUDA out of memory.\nTried to allocate"))
        == "CUDA out of memory."
    )
    assert len(short_reason(RuntimeError("x" * 500))) == 120
    assert short_reason(RuntimeError()) == "RuntimeError"


def test_a_gpu_onnx_runtime_cannot_use_is_seen_from_its_device_files(tmp_path: Path) -> None:
    driver = tmp_path / "nvidia-version"
    driver.write_text("NVRM version: 550")
    assert gpu_only_for_torch(lambda: [CPU], [str(driver)])
    assert not gpu_only_for_torch(lambda: [CPU], [str(tmp_path / "none")])
    cuda = ["CUDAExecutionProvider", CPU]
    assert not gpu_only_for_torch(lambda: cuda, [str(driver)])  # finder[cuda]: ONNX has it
