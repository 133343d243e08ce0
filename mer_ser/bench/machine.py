"""Where a measurement ran: one description for the benchmarks, the CLI and notebook 09.

Timings on shared machines are only comparable with the machine beside them. The CPU model name
alone ("AMD EPYC") does not say whether the cores have 512-bit vector units, which changes how
PyTorch's oneDNN kernels and XLA's compare, so the widest SIMD extension is recorded too.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path

#: Vector extensions from the widest down, as ``/proc/cpuinfo`` names them.
_SIMD = ("avx512f", "avx2", "avx", "sse4_2", "asimd", "neon")


def _cpuinfo() -> dict[str, str]:
    """First value of each key of ``/proc/cpuinfo`` (empty where the file does not exist)."""
    info: dict[str, str] = {}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, sep, value = line.partition(":")
            if sep:
                info.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    return info


def describe() -> dict:
    """CPU model and SIMD width, cores, memory, the JAX device, and library versions.

    Returns:
        ``{"cpu", "simd", "cores", "memory_gib", "accelerator", "python", "jax", "torch"}``;
        ``torch`` is ``"<version> (<n> threads)"`` or None when PyTorch is not installed.
    """
    import jax

    cpu = _cpuinfo()
    flags = set((cpu.get("flags") or cpu.get("Features") or "").split())
    try:
        mem = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError, AttributeError):
        mem = None
    dev = jax.devices()[0]
    info = {
        "cpu": cpu.get("model name") or platform.processor() or platform.machine(),
        "simd": next((s for s in _SIMD if s in flags), None),
        "cores": os.cpu_count(),
        "memory_gib": mem,
        "accelerator": f"{dev.platform}:{getattr(dev, 'device_kind', '')}",
        "python": platform.python_version(),
        "jax": jax.__version__,
        "torch": None,
    }
    try:
        import torch
    except ImportError:
        return info
    info["torch"] = f"{torch.__version__} ({torch.get_num_threads()} threads)"
    return info
