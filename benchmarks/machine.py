"""Where a benchmark ran: the facts every result file records."""

import os
import platform

import torch

# Instruction sets that decide what oneDNN's bfloat16 option can do.
BF16_FLAGS = ("avx512_bf16", "amx_bf16", "amx_tile")


def _cpuinfo() -> tuple[str, list[str]]:
    """The CPU's model name and which of BF16_FLAGS it reports (Linux; else platform's)."""
    try:
        with open("/proc/cpuinfo") as f:
            lines = f.read().splitlines()
    except OSError:
        return platform.processor() or "unknown", []
    fields = dict(line.split(":", 1) for line in lines if ":" in line)
    fields = {key.strip(): value.strip() for key, value in fields.items()}
    flags = fields.get("flags", "").split()
    return fields.get("model name", "unknown"), [f for f in BF16_FLAGS if f in flags]


def machine_info(device: str = "cpu") -> dict:
    """Platform, processor (model, bfloat16 instruction sets), cores, torch threads and
    version, device (and GPU name)."""
    model, flags = _cpuinfo()
    info = {"platform": platform.platform(), "processor": model, "cpu_bf16_flags": flags,
            "cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads(),
            "torch": torch.__version__, "device": device}
    if device.startswith("cuda"):
        info["gpu"] = torch.cuda.get_device_name()
    return info


def describe(info: dict) -> str:
    """One sentence for a result table: the machine of :func:`machine_info`."""
    flags = ", ".join(info.get("cpu_bf16_flags") or ["no AVX512-BF16/AMX"])
    return (f"Machine: {info['processor']} ({flags}), {info['cpu_count']} cores, "
            f"{info['torch_threads']} torch threads, torch {info['torch']}, device "
            f"{info['device']}"
            + (f" ({info['gpu']})" if "gpu" in info else "") + ".")
