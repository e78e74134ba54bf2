"""Where a benchmark ran: the facts every result file records, and the result files."""

import json
import os
import platform
from pathlib import Path

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


def merged_machine(infos: list) -> dict:
    """One record for results merged from parts that ran apart: each fact the parts agree
    on, or their values joined by "or" (a part may have run with other torch threads, or
    in another session on another CPU). A part whose machine was not recorded (None)
    adds "unrecorded" to every fact."""
    first = next((info for info in infos if info), None)
    merged = {}
    for key in dict.fromkeys(k for info in infos if info for k in info) or machine_info():
        values = [_text(info.get(key)) if info else "unrecorded" for info in infos]
        distinct = list(dict.fromkeys(values))
        merged[key] = (first.get(key) if first and len(distinct) == 1
                       else " or ".join(distinct))
    return merged


def _text(value) -> str:
    """A fact as words: a list joined by commas, an empty one or None as "none"."""
    if isinstance(value, list):
        return ", ".join(value) or "none"
    return "none" if value is None else str(value)


def cpu_name(info: dict) -> str:
    """The CPU's model without trademarks, clock and filler words ("Intel Xeon", "AMD
    EPYC"), or "CPU" where the run did not record it."""
    model = info.get("processor") or "unknown"
    if model == "unknown":
        return "CPU"
    words = model.split("@")[0].replace("(R)", "").replace("(TM)", "").split()
    return " ".join(w for w in words if w not in ("CPU", "Processor")) or "CPU"


def describe(info: dict) -> str:
    """One sentence for a result table: the machine of :func:`machine_info` (or of
    :func:`merged_machine`)."""
    flags = _text(info.get("cpu_bf16_flags") or "no AVX512-BF16/AMX")
    return (f"Machine: {info['processor']} ({flags}), {info['cpu_count']} cores, "
            f"{info['torch_threads']} torch threads, torch {info['torch']}, device "
            f"{info['device']}"
            + (f" ({info['gpu']})" if "gpu" in info else "") + ".")


def write_result(output, stem: str, result: dict, markdown: str) -> None:
    """Write ``result`` to ``output/stem.json`` and ``markdown`` to ``output/stem.md``
    (creating ``output``), and print the Markdown."""
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    (output / f"{stem}.json").write_text(json.dumps(result, indent=1))
    (output / f"{stem}.md").write_text(markdown)
    print(markdown)
