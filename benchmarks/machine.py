"""Where a benchmark ran: the facts every result file records."""

import os
import platform

import torch


def machine_info(device: str = "cpu") -> dict:
    """Platform, processor, cores, torch threads and version, device (and GPU name)."""
    info = {"platform": platform.platform(), "processor": platform.processor() or "unknown",
            "cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads(),
            "torch": torch.__version__, "device": device}
    if device.startswith("cuda"):
        info["gpu"] = torch.cuda.get_device_name()
    return info


def describe(info: dict) -> str:
    """One sentence for a result table: the machine of :func:`machine_info`."""
    return (f"Machine: {info['processor']}, {info['cpu_count']} cores, {info['torch_threads']} "
            f"torch threads, torch {info['torch']}, device {info['device']}"
            + (f" ({info['gpu']})" if "gpu" in info else "") + ".")
