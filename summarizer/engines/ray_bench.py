"""Ray engine throughput with 1, 2, ... actors on the same articles.

Each actor count is one full ``run_ray`` call on one Ray session, after an untimed warm-up, and is
timed end to end: actor start and model load included, as a user's run sees them. The speed-up is
each count's rate over the first count's. ``first_result_s`` is how long the first summary (in input
order) took: actor start, model load, and the first batch.

    python -m summarizer.engines.ray_bench --model textrank --model smollm2-135m --articles 20
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from summarizer.articles import Article
from summarizer.engines.ray_engine import DEFAULT_BATCH_SIZE, ray_session, run_ray
from summarizer.ingest import IngestOptions, load_articles
from summarizer.paths import shared_data_dir
from summarizer.pipeline import RunSettings
from summarizer.specs import ModelSpec, resolve_spec

DEV_FILE = "summeval_cnndm100.jsonl"


@dataclass
class RayBenchResult:
    model: str
    actors: int
    articles: int
    failed: int
    seconds: float
    # Seconds until the first summary came back (actor start, model load, first batch).
    first_result_s: float

    @property
    def articles_per_s(self) -> float:
        return self.articles / self.seconds if self.seconds > 0 else 0.0

    def to_record(self) -> dict[str, str | int | float]:
        return {**asdict(self), "articles_per_s": round(self.articles_per_s, 4)}


def dev_articles(limit: int, path: str | Path | None = None) -> list[Article]:
    """The first ``limit`` articles of the SummEval CNN/DM dev file (or any JSONL with an article field)."""
    source = Path(path) if path else shared_data_dir() / DEV_FILE
    if not source.is_file():
        raise FileNotFoundError(f"benchmark articles not found: {source} (set SUMMARIZER_DATA_DIR or --input)")
    return list(load_articles([str(source)], IngestOptions(text_field="article", limit=limit)))


def bench_spec(model: str, n_threads: int | None) -> ModelSpec:
    """The model's spec; llama-cpp models get ``n_threads`` (one per actor CPU keeps actors from
    competing for cores, and makes outputs comparable between runs)."""
    spec = resolve_spec(model)
    if spec.backend == "llama-cpp" and n_threads:
        spec = spec.model_copy(update={"options": {**spec.options, "n_threads": n_threads}})
    return spec


def bench_ray(
    articles: list[Article],
    spec: ModelSpec,
    actor_counts: Sequence[int] = (1, 2),
    n_bullets: int = 3,
    batch_size: int = DEFAULT_BATCH_SIZE,
    ray_address: str | None = None,
    num_cpus: int | None = None,
    warmup: bool = True,
) -> list[RayBenchResult]:
    """Time ``run_ray`` over the same articles for each actor count, on one Ray session.

    ``warmup`` first summarizes one article untimed, so the first count measured does not alone pay
    for Ray's worker start and for reading the model from a cold disk cache.
    """
    results = []
    with ray_session(ray_address, num_cpus=num_cpus):
        if warmup and articles:
            for _ in run_ray(articles[:1], spec, RunSettings(n_bullets=n_bullets), num_actors=1, batch_size=1):
                pass
        for actors in actor_counts:
            started = time.perf_counter()
            first_result_s = 0.0
            count = failed = 0
            for summary in run_ray(articles, spec, RunSettings(n_bullets=n_bullets), num_actors=actors,
                                   batch_size=batch_size):
                if count == 0:
                    first_result_s = time.perf_counter() - started
                count += 1
                failed += summary.error is not None
            seconds = time.perf_counter() - started
            results.append(RayBenchResult(spec.name, actors, count, failed, seconds, first_result_s))
    return results


def format_results(results: list[RayBenchResult]) -> str:
    lines = [f"{'model':<16} {'actors':>6} {'articles':>8} {'failed':>6} {'seconds':>8} {'first s':>8} "
             f"{'art/s':>7} {'speed-up':>8}"]
    base: dict[str, RayBenchResult] = {}
    for result in results:
        first = base.setdefault(result.model, result)
        ratio = result.articles_per_s / first.articles_per_s if first.articles_per_s else 0.0
        lines.append(f"{result.model:<16} {result.actors:>6} {result.articles:>8} {result.failed:>6} "
                     f"{result.seconds:>8.2f} {result.first_result_s:>8.2f} {result.articles_per_s:>7.3f} "
                     f"{ratio:>7.2f}x")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m summarizer.engines.ray_bench", description=__doc__.split("\n")[0])
    parser.add_argument("--model", action="append", help="spec name; repeat for several (default: textrank)")
    parser.add_argument("--articles", type=int, default=20, help="dev-set articles to summarize")
    parser.add_argument("--input", help=f"JSONL with an 'article' field (default: the shared {DEV_FILE})")
    parser.add_argument("--actors", type=int, nargs="+", default=[1, 2], help="actor counts to compare")
    # Small batches spread a short benchmark evenly over the actors.
    parser.add_argument("--batch-size", type=int, default=2, help="articles per actor call")
    parser.add_argument("--bullets", type=int, default=3)
    parser.add_argument("--n-threads", type=int, default=1, help="llama-cpp threads per actor")
    parser.add_argument("--ray-address", help="existing cluster (default: start a local Ray)")
    parser.add_argument("--num-cpus", type=int, help="CPUs of the local Ray (default: all)")
    args = parser.parse_args(argv)
    articles = dev_articles(args.articles, args.input)
    results = []
    # One Ray session for every model: bench_ray reuses it.
    with ray_session(args.ray_address, num_cpus=args.num_cpus):
        for model in args.model or ["textrank"]:
            results += bench_ray(articles, bench_spec(model, args.n_threads), args.actors, args.bullets,
                                 args.batch_size)
    print(format_results(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
