"""Re-encode a GGUF file's weights to another type once, for a faster llama.cpp kernel.

Why: SmolLM2's packaged file is Q4_1, and on x86 CPUs llama.cpp has no matrix-matrix kernel for Q4_1
(its llamafile sgemm and repacked kernels cover Q8_0, Q4_0 and others), so prompts, most of the work
when summarizing news, go through the slow dot-product path. Re-encoded as Q8_0, four dev-set prompts
(634-827 tokens) took 1.45 s each instead of 2.3 s on a 2-core AMD EPYC. Q4_1 has 16 levels per block
of 32 weights, Q8_0 255, so re-encoding moves a weight by less than one Q8_0 step (1/127 of the
block's largest weight). A 135M model's greedy text still drifts from such changes: on the SummEval
dev set its ROUGE went down (eval/leaderboards/README.md), so it is opt-in (`requantize` in a spec).
``Q4_0-ffn`` re-encodes the feed-forward matrices as Q4_0 instead, which llama.cpp repacks for its
fastest x86 kernels (prompts and single-article decoding faster again; README "Models").

The converted file is written next to nothing the user owns: into the cache folder
(``$XDG_CACHE_HOME/summarizer/gguf``), named after the source's name and a digest of its content, so
changed weights get a new conversion, and the same weights installed again (a new virtual environment,
a fresh clone: a new modification time) reuse the old one instead of adding another copy. Beside
each conversion a ``.source`` note names the file it was made from; when that file's weights change
(a package upgrade), the new conversion replaces the old one instead of adding 135 MB per version.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from functools import lru_cache
from pathlib import Path

from summarizer import q4_0
from summarizer.paths import cache_dir

log = logging.getLogger(__name__)

# Targets written in pure numpy (by the gguf package; Q4_0 by summarizer.q4_0, with least-squares scales):
# target -> (type of the feed-forward matrices, type of the other quantized tensors). "Q4_0-ffn" puts the
# feed-forward matrices, three quarters of each layer's weights, into the 4-bit type llama.cpp repacks for
# its fastest x86 kernels, and attention into Q8_0. Every matrix in Q4_0 was faster still, but SmolLM2
# re-encoded that way gave no bullets for 41 of the 100 dev articles (R-1 21.30 against 25.99 shipped;
# 69 with the reference encoder), so that is not offered; "Q4_0-ffn" gave 5 (README "Models").
PLANS = {"Q8_0": ("Q8_0", "Q8_0"), "Q4_0-ffn": ("Q4_0", "Q8_0"), "F16": ("F16", "F16"), "F32": ("F32", "F32")}
TARGETS = tuple(PLANS)
FEED_FORWARD = re.compile(r"\.ffn_(gate|up|down)\.")
FLOAT_TYPES = frozenset({"F32", "F16", "BF16"})
INSTALL_HINT = "pip install gguf"


def weight_types(path: Path) -> set[str]:
    """The tensor types in a GGUF file (``Q4_1``, ``Q8_0``, ``F32``...), read from its header."""
    from gguf import GGUFReader

    try:
        return {tensor.tensor_type.name for tensor in GGUFReader(path).tensors}
    except (ValueError, OSError) as error:
        raise ValueError(f"{path} is not a readable GGUF file: {error}") from error


def plan_text(target: str) -> str:
    """``target`` for reports: with the types it writes where the plan mixes two."""
    feed_forward, other = PLANS[target]
    return target if feed_forward == other else f"{target} (feed-forward matrices {feed_forward}, the rest {other})"


def file_label(target: str) -> str:
    """``target`` as conversions name it: with the Q4_0 encoder's revision where the plan uses that
    encoder, so that a changed encoding is made again instead of an older file being reused."""
    return f"{target}-{q4_0.REVISION}" if "Q4_0" in PLANS.get(target, ()) else target


def converted_path(source: Path, target: str) -> Path:
    stat = source.stat()
    digest = content_digest(source.resolve(), stat.st_size, stat.st_mtime_ns)
    return cache_dir("gguf") / f"{source.stem}.{digest}.{file_label(target)}.gguf"


@lru_cache(maxsize=16)
def content_digest(path: Path, size: int, mtime_ns: int) -> str:
    """BLAKE2b of the file (a fraction of a second for SmolLM2's 98 MB), once per process for each version of it."""
    digest = hashlib.blake2b(digest_size=8)
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def planned_type(name: str, kind: str, target: str) -> str | None:
    """The type ``target`` re-encodes tensor ``name`` (now of type ``kind``) as; None: copied as it is.
    Float tensors (norms) are copied, and so are 8-bit ones under a 4-bit plan (SmolLM2's embedding,
    which is also its output layer, ships as Q8_0)."""
    feed_forward, other = PLANS[target]
    planned = feed_forward if FEED_FORWARD.search(name) else other
    if kind in FLOAT_TYPES or kind == planned or (kind == "Q8_0" and planned == "Q4_0"):
        return None
    return planned


def convert(source: Path, target: str, out: Path) -> Path:
    """Write ``source`` with its quantized matrices re-encoded as ``target`` plans (``PLANS``); the rest copied."""
    if target not in TARGETS:
        raise ValueError(f"cannot re-encode GGUF weights as {target!r}; choose from {', '.join(TARGETS)}")
    try:
        import gguf
    except ImportError as missing:
        raise ImportError(f"re-encoding GGUF weights needs the gguf package: {INSTALL_HINT}") from missing
    import numpy as np

    quant = gguf.GGMLQuantizationType
    reader = gguf.GGUFReader(str(source))
    architecture = reader.get_field(gguf.Keys.General.ARCHITECTURE).contents()
    # One partial file per process: Ray actors may convert the same source at the same time.
    partial = out.with_name(f"{out.name}.{os.getpid()}.partial")
    writer = gguf.GGUFWriter(str(partial), arch=architecture, endianess=reader.endianess)
    try:
        for field in reader.fields.values():
            # The writer adds the architecture and the GGUF header fields itself; the file type would be stale.
            if field.name in (gguf.Keys.General.ARCHITECTURE, gguf.Keys.General.FILE_TYPE) or field.name.startswith(
                "GGUF."
            ):
                continue
            value_type = field.types[0]
            sub_type = field.types[-1] if value_type == gguf.GGUFValueType.ARRAY else None
            writer.add_key_value(field.name, field.contents(), value_type, sub_type=sub_type)
        tensors = []
        for tensor in reader.tensors:
            data, kind = tensor.data, tensor.tensor_type
            planned = planned_type(tensor.name, kind.name, target)
            if planned:
                values = gguf.quants.dequantize(tensor.data, kind)
                if planned == "F32":
                    data = values.astype(np.float32)
                elif planned == "F16":
                    data = values.astype(np.float16)
                elif planned == "Q4_0":
                    data = q4_0.quantize(values)
                else:
                    data = gguf.quants.quantize(values, quant[planned])
                kind = quant[planned]
            tensors.append((tensor.name, data, kind))
        for name, data, kind in tensors:
            writer.add_tensor_info(name, data.shape, data.dtype, data.nbytes, kind)
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_ti_data_to_file()
        for _name, data, _kind in tensors:
            writer.write_tensor_data(data)
        writer.close()
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    # Renamed only when complete, so an interrupted conversion is never mistaken for a finished one.
    partial.replace(out)
    return out


def reencoded(source: Path, target: str) -> Path:
    """The cached ``target`` re-encoding of ``source``, made on first use."""
    out = converted_path(source, target)
    if out.is_file():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    log.warning("re-encoding %s as %s once (cached in %s)", source.name, target, out.parent)
    convert(source, target, out)
    origin = str(source.resolve())
    source_note(out).write_text(origin + "\n", encoding="utf-8")
    for old in superseded(origin, target, out):
        log.warning("removed %s: made from an earlier version of %s", old.name, source.name)
    return out


def source_note(conversion: Path) -> Path:
    return conversion.with_name(conversion.name + ".source")


def superseded(origin: str, target: str, keep: Path) -> list[Path]:
    """Delete the ``target`` conversions made from ``origin`` (a resolved path) other than ``keep``:
    earlier versions of the same file. Conversions of other paths stay, even with the same weights
    (another environment may still use them); one whose note names ``origin`` but which another
    environment shared is made again there on its next use."""
    removed = []
    for note in keep.parent.glob(f"*.{file_label(target)}.gguf.source"):
        conversion = note.with_name(note.name.removesuffix(".source"))
        if conversion == keep:
            continue
        try:
            if note.read_text(encoding="utf-8").strip() != origin:
                continue
            conversion.unlink(missing_ok=True)
            note.unlink()
        except OSError:  # another process removed it first, or a read-only cache: nothing lost
            continue
        removed.append(conversion)
    return removed
