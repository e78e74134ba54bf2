"""Where ``fp32_precision="bf16"`` takes effect: the paper MLP's products, error and time.

For each matrix product of an update of the paper's MLP (forward shapes, 300 rows: the
labeled, unlabeled and clean groups), measures on this CPU

- the largest error against a float64 product, with torch's default (``"ieee"``, MKL),
  with oneDNN's ``fp32_precision="bf16"``, and with the inputs rounded to bfloat16 (what
  bfloat16 arithmetic would give);
- the time of each setting (median of interleaved repeats).

If the ``"bf16"`` error stays at the float32 level, oneDNN did not down-convert on this
CPU (it only may, where it has bfloat16 kernels for the product); any speed difference
then comes from oneDNN's float32 kernels replacing MKL's. Writes ``onednn_bf16.json`` and
``onednn_bf16.md``.

Example::

    python benchmarks/onednn_bf16.py --output benchmarks/results/onednn-bf16
"""

import argparse
import itertools
import json
import statistics
import time
from pathlib import Path

import torch
from machine import describe, machine_info

ROWS = 300
WIDTHS = [784, 1000, 500, 250, 250, 250, 10]


def _product_errors(a: torch.Tensor, b: torch.Tensor) -> dict:
    exact = a.double() @ b.double()
    errors = {}
    for precision in ("ieee", "bf16"):
        torch.backends.mkldnn.matmul.fp32_precision = precision
        errors[precision] = float((a @ b).double().sub(exact).abs().max())
    torch.backends.mkldnn.matmul.fp32_precision = "ieee"
    rounded = a.bfloat16().double() @ b.bfloat16().double()
    errors["bf16 inputs"] = float(rounded.sub(exact).abs().max())
    return errors


def _product_times(a: torch.Tensor, b: torch.Tensor, repeats: int) -> dict:
    times = {"ieee": [], "bf16": []}
    for _ in range(repeats):
        for precision, samples in times.items():
            torch.backends.mkldnn.matmul.fp32_precision = precision
            start = time.perf_counter()
            for _ in range(20):
                a @ b
            samples.append((time.perf_counter() - start) / 20 * 1e3)
    torch.backends.mkldnn.matmul.fp32_precision = "ieee"
    return {precision: statistics.median(samples) for precision, samples in times.items()}


def run(repeats: int) -> dict:
    generator = torch.Generator().manual_seed(0)
    rows = []
    for n_in, n_out in itertools.pairwise(WIDTHS):
        a = torch.randn(ROWS, n_in, generator=generator)
        b = torch.randn(n_in, n_out, generator=generator) / n_in**0.5
        rows.append({"shape": [ROWS, n_in, n_out], "max_error": _product_errors(a, b),
                     "ms": _product_times(a, b, repeats)})
    bf16 = [row for row in rows if row["max_error"]["bf16"] > 10 * row["max_error"]["ieee"]]
    return {"machine": machine_info(), "repeats": repeats, "products": rows,
            "down_converted": len(bf16) > 0,
            "mkldnn_bf16_supported": bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())}


def markdown(result: dict) -> str:
    lines = [describe(result["machine"]),
             f"oneDNN reports bfloat16 support: {result['mkldnn_bf16_supported']}; "
             f"products computed in bfloat16 under fp32_precision='bf16': "
             f"{'yes' if result['down_converted'] else 'none'}.", "",
             "| product (rows × in × out) | max error ieee | max error bf16 setting | "
             "max error bf16 inputs | ms ieee | ms bf16 setting |",
             "|---|---|---|---|---|---|"]
    for row in result["products"]:
        e, t = row["max_error"], row["ms"]
        lines.append(f"| {' × '.join(map(str, row['shape']))} | {e['ieee']:.1e} | "
                     f"{e['bf16']:.1e} | {e['bf16 inputs']:.1e} | {t['ieee']:.3f} | "
                     f"{t['bf16']:.3f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--output", type=Path, default=Path("benchmarks/results"))
    args = parser.parse_args()
    result = run(args.repeats)
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / "onednn_bf16.json").write_text(json.dumps(result, indent=2))
    (args.output / "onednn_bf16.md").write_text(markdown(result))
    print(markdown(result))


if __name__ == "__main__":
    main()
