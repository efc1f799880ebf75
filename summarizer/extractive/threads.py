"""Thread limits for the numerical libraries, applied around one block of model work.

numpy's OpenBLAS and torch's OpenMP start one worker per core and keep them spinning between calls. On a
machine whose cores are also busy with other processes, those workers wait on each other and a small
encoder such as MiniLM runs slower than on one thread, while spending more CPU time (eval/bench.md,
section "Default model", measures both settings, alone and beside a busy process).

The limit is set only around the model's own work and restored after it, so the rest of the process
(another backend, the caller's own numpy) keeps its settings.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def limited_threads(threads: int | None) -> Iterator[None]:
    """Run the block with at most ``threads`` BLAS/OpenMP threads (and torch intra-op threads, when torch
    is loaded); ``None`` leaves every library at its own default."""
    if threads is None:
        yield
        return
    from threadpoolctl import threadpool_limits

    # threadpoolctl reaches the BLAS and OpenMP libraries loaded now; torch keeps its own intra-op
    # count, set and restored here.
    torch = sys.modules.get("torch")
    previous = torch.get_num_threads() if torch is not None else threads
    if previous != threads:
        torch.set_num_threads(threads)
    try:
        with threadpool_limits(limits=threads):
            yield
    finally:
        if previous != threads:
            torch.set_num_threads(previous)
