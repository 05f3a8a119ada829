"""Native bf16 from the CPU flags, and the precision setting."""

from __future__ import annotations

import os

import pytest

from finder.config import Environment
from finder.core.models.cpu import cpu_has_native_bf16, resolve_precision
from finder.core.models.spec import ModelUnavailableError


def test_cpu_flags_decide_native_bf16() -> None:
    assert cpu_has_native_bf16("processor: 0\nflags\t: fpu sse avx2 avx512f avx512_bf16\n")
    assert cpu_has_native_bf16("flags : fpu amx_bf16 amx_tile\n")
    assert not cpu_has_native_bf16("flags : fpu sse avx2 avx512f avx512bw\n")
    assert not cpu_has_native_bf16("no flags line here\n")


def test_precision_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    assert resolve_precision("auto", native_bf16=True) == "bf16"
    assert resolve_precision("auto", native_bf16=False) == "fp32"
    assert resolve_precision(None, native_bf16=False) == "fp32"  # the safe default
    assert resolve_precision("bf16", native_bf16=False) == "bf16"  # forced
    assert resolve_precision("FP32", native_bf16=True) == "fp32"
    monkeypatch.setenv("FINDER_PRECISION", "bf16")

    def setting(flag: str | None = None) -> str | None:  # as the front ends resolve it
        return flag or Environment.from_environ(os.environ).precision

    assert resolve_precision(setting(), native_bf16=False) == "bf16"
    assert resolve_precision(setting("fp32")) == "fp32"  # the flag wins over the environment
    monkeypatch.setenv("FINDER_PRECISION", "fp8")
    with pytest.raises(ModelUnavailableError, match="auto, fp32, bf16"):
        resolve_precision(setting())
