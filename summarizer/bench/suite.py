"""Run the chosen sections with one set of settings and write eval/bench.md.

A section that fails (a missing package, the dev set absent) is recorded in the report with its
error; the other sections still run.
"""

from __future__ import annotations

import logging
import time
import traceback
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from summarizer.bench.report import write_report
from summarizer.paths import cache_dir

log = logging.getLogger(__name__)

SECTIONS = ("seq2seq", "gguf", "rouge", "coldstart")
# Measured beside the default model: the lead baseline (no model to load) and the plain embedding extractor.
OTHER_COLD_START_MODELS = ("lead-3", "minilm-mmr")


def default_work_dir() -> Path:
    return cache_dir("bench")


@dataclass
class BenchSettings:
    sections: tuple[str, ...] = SECTIONS
    work_dir: Path = field(default_factory=default_work_dir)
    device: str = "auto"
    seq2seq_articles: int = 32
    # distilbart-cnn's max_length: the longest summary pipeline() writes with its defaults.
    seq2seq_tokens: int = 142
    # All 32 articles in one batch: on a 2-core Xeon, batch 16 gave 2.76x pipeline()'s articles/s, 32 gave 3.23x.
    seq2seq_batch: int = 32
    seq2seq_tiny: bool = False
    gguf_articles: int = 16
    gguf_tokens: int = 128
    gguf_slots: int = 8
    # Articles the batched variants decode in the same steps; None: all of the section's (the issue's "batched
    # decoding of 16 articles"). On the 2-core Zen 4, 16 and 8 per step decoded alike, 1.58x and 1.56x one slot
    # (eval/gguf-batch-group-amd-epyc-zen4.md).
    gguf_batch_group: int | None = None
    # Quick runs cut GGUF articles short: prompt processing dominates their time otherwise.
    gguf_max_words: int | None = None
    rounds: int = 2
    rouge_pairs: int = 10_000
    repeats: int = 3
    dev_set_run: bool = True

    @classmethod
    def quick(cls, **overrides: Any) -> BenchSettings:
        """Seconds-scale settings for tests and smoke runs: the same code paths on tiny inputs."""
        settings = cls(seq2seq_articles=4, seq2seq_tokens=8, seq2seq_batch=4, seq2seq_tiny=True, gguf_articles=2,
                       gguf_tokens=8, gguf_slots=2, gguf_max_words=60, rounds=2, rouge_pairs=200, repeats=1,
                       dev_set_run=False)
        for name, value in overrides.items():
            setattr(settings, name, value)
        return settings


def run_section(name: str, settings: BenchSettings) -> dict[str, Any]:
    from summarizer.bench.data import dev_set_path, load_dev_records

    if name == "seq2seq":
        from summarizer.bench.seq2seq import DISTILBART_CNN_6_6, TINY_ARCHITECTURE, run_seq2seq

        return run_seq2seq(load_dev_records(dev_set_path()), settings.work_dir, settings.seq2seq_articles,
                           settings.seq2seq_tokens, settings.seq2seq_batch, settings.rounds, settings.device,
                           TINY_ARCHITECTURE if settings.seq2seq_tiny else DISTILBART_CNN_6_6)
    if name == "gguf":
        from summarizer.bench.gguf import run_gguf

        return run_gguf(load_dev_records(dev_set_path(), settings.gguf_articles), settings.work_dir,
                        settings.gguf_articles, settings.gguf_tokens, settings.gguf_slots, settings.rounds,
                        max_words=settings.gguf_max_words, device=settings.device,
                        batch_group=settings.gguf_batch_group)
    if name == "rouge":
        from summarizer.bench.rouge import run_rouge

        return run_rouge(dev_set_path(), settings.rouge_pairs, settings.repeats)
    if name == "coldstart":
        from summarizer.bench.coldstart import run_coldstart
        from summarizer.config import load_config

        default = load_config().model
        models = [default] + [m for m in OTHER_COLD_START_MODELS if m != default]
        result = run_coldstart(models, dev_set_path() if settings.dev_set_run else None, settings.repeats)
        result["default_model"] = default
        return result
    raise ValueError(f"unknown section '{name}'; choose from {', '.join(SECTIONS)}")


def run_bench(settings: BenchSettings, out: Path, command: str) -> dict[str, Any]:
    from summarizer.bench.machine import probe_machine

    started = time.perf_counter()
    results: dict[str, Any] = {
        "started": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": probe_machine().as_dict(),
        "errors": {},
    }
    for name in settings.sections:
        log.warning("bench: running section %s", name)
        try:
            results[name] = run_section(name, settings)
        except Exception as error:  # noqa: BLE001 - a failed section is reported, the others still run
            log.error("bench section %s failed: %s", name, error)
            results["errors"][name] = "".join(traceback.format_exception_only(type(error), error)).strip()
    results["seconds"] = time.perf_counter() - started
    write_report(out, results, command)
    return results
