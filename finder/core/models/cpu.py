"""What the CPU computes natively, and the numeric precision that follows from it.

fp32 is the reference; bf16 (weights and input in bfloat16, outputs back in float32) is
several times faster on CPUs with native bf16 (AVX512-BF16, AMX) and embeds with cosine
~0.9999 against fp32, so its vectors share the fp32 model's key. Without native support
bf16 is emulated and far slower, so "auto" picks it only where the CPU has it.
"""

from __future__ import annotations

import sys

from finder.core.models.spec import ModelUnavailableError

PRECISION_AUTO = "auto"
PRECISIONS = (PRECISION_AUTO, "fp32", "bf16")
_NATIVE_BF16_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})


def cpu_has_native_bf16(cpuinfo: str | None = None) -> bool:
    """True when the CPU computes bfloat16 natively (Linux: avx512_bf16 or amx_bf16 flag).

    Elsewhere (macOS, Windows, no /proc) we do not guess: False, so "auto" means fp32.
    """
    if cpuinfo is None:
        if not sys.platform.startswith("linux"):
            return False
        try:
            with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
                cpuinfo = f.read()
        except OSError:
            return False
    for line in cpuinfo.splitlines():
        if line.startswith("flags"):
            return bool(_NATIVE_BF16_FLAGS & set(line.partition(":")[2].split()))
    return False


def resolve_precision(requested: str | None = None, *, native_bf16: bool | None = None) -> str:
    """The precision, "fp32" or "bf16", for a setting (auto | fp32 | bf16; None: auto).
    The front ends pass --precision, else FINDER_PRECISION (finder.config)."""
    value = (requested or PRECISION_AUTO).strip().lower()
    if value not in PRECISIONS:
        raise ModelUnavailableError(
            f"unknown precision {value!r} (--precision or FINDER_PRECISION); "
            f"choose one of {', '.join(PRECISIONS)}"
        )
    if value != PRECISION_AUTO:
        return value
    if native_bf16 is None:
        native_bf16 = cpu_has_native_bf16()
    return "bf16" if native_bf16 else "fp32"
