"""How far re-encoding SmolLM2's shipped Q4_1 matrices as Q4_0 moves them: ggml's reference encoder
(gguf-py's ``quants.quantize``, the same rounding as ``quantize_row_q4_0_ref``) against summarizer.q4_0's
least-squares scales, as RMS error over each matrix, relative to the matrix's own RMS.

    .venv/bin/python eval/scripts/q4_0_error.py --out eval/q4_0-error.md
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import gguf
import numpy as np
from script_report import command, save

from summarizer import q4_0
from summarizer.gguf_models import packaged_gguf


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    quant = gguf.GGMLQuantizationType
    source = packaged_gguf()
    by_kind: dict[str, list[tuple[float, float, float]]] = {}
    for tensor in gguf.GGUFReader(str(source)).tensors:
        if tensor.tensor_type != quant.Q4_1:
            continue
        values = gguf.quants.dequantize(tensor.data, quant.Q4_1)
        reference = gguf.quants.dequantize(gguf.quants.quantize(values, quant.Q4_0), quant.Q4_0)
        ours = gguf.quants.dequantize(q4_0.quantize(values), quant.Q4_0)
        signal = float(np.sqrt((values**2).mean()))
        errors = (float(np.sqrt(((encoded - values) ** 2).mean())) for encoded in (reference, ours))
        kind = re.sub(r"^blk\.\d+\.", "", tensor.name)
        by_kind.setdefault(kind, []).append((signal, *errors))

    lines = ["# Q4_1 re-encoded as Q4_0: reference rounding against least-squares scales", "",
             command("q4_0_error.py", "", args.out), "", f"Every Q4_1 matrix of {source.name}, grouped by "
             "kind over the layers. Errors are RMS over the matrix against the shipped weights, as a share of "
             "the matrix's RMS; the last columns are least squares' error over the reference's.", "",
             "| matrices | count | reference error | least-squares error | ratio, median | ratio, range |",
             "|---|---|---|---|---|---|"]
    ratios_all = []
    for kind, rows in sorted(by_kind.items()):
        signal, reference, ours = (np.array(column) for column in zip(*rows, strict=True))
        ratios = ours / reference
        ratios_all.extend(ratios)
        lines.append(f"| {kind} | {len(rows)} | {np.median(reference / signal):.2%} | {np.median(ours / signal):.2%} "
                     f"| {np.median(ratios):.3f} | {ratios.min():.3f}-{ratios.max():.3f} |")
    ratios_all = np.array(ratios_all)
    lines += ["", f"Over all {len(ratios_all)} matrices least squares' RMS error is {ratios_all.min():.3f}-"
              f"{ratios_all.max():.3f} of the reference's (median {np.median(ratios_all):.3f})."]
    print("\n".join(lines))
    save(lines, args.out)


if __name__ == "__main__":
    main()
