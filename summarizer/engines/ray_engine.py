"""The Ray engine: the same pipeline as the local engine, spread over a pool of Ray actors.

Articles become a Ray Data dataset; ``map_batches`` sends batches to a pool of actors, each of which
builds its own backend from the spec once (models are loaded per process; a llama.cpp server cannot be
pickled) and runs ``summarizer.pipeline.summarize_articles`` on its batches, so checks, chunking,
error isolation and bullet clean-up are the local engine's own code. Summaries come back re-ordered
into input order and are consumed by ``pipeline.run``, the same loop as a local run
(``RaySummarizer`` is its Summarizer), so a Ray run writes the same records as a local run.

Without an address a local Ray is started (and shut down afterwards); with one (``auto``,
``ray://head:10001``) the cluster's nodes must have the project and its model files installed.
"""

from __future__ import annotations

import json
import logging
import os
import pickle
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

from summarizer.articles import Article, Summary
from summarizer.backends.registry import create_backend
from summarizer.pipeline import RunSettings, summarize_articles
from summarizer.specs import ModelSpec

log = logging.getLogger(__name__)

INSTALL_HINT = "pip install 'ray[data]'  (or: pip install 'summarizer[ray]')"
# Articles per actor call: large enough to keep a batching backend busy, small enough that the work
# spreads over the actors and that a failed call loses little.
DEFAULT_BATCH_SIZE = 8


class RayEngineError(RuntimeError):
    """The Ray run itself failed (an actor could not start or died), not one article."""


def import_ray() -> ModuleType:
    try:
        import ray
        import ray.data  # noqa: F401 - Ray Data is an extra of the ray package
    except ImportError as missing:
        raise ImportError(f"the Ray engine needs Ray Data: {INSTALL_HINT}") from missing
    return ray


@contextmanager
def ray_session(address: str | None = None, num_cpus: int | None = None) -> Iterator[ModuleType]:
    """Use the Ray already initialised in this process, else connect to ``address`` or start a local
    Ray with ``num_cpus`` CPUs (None = all); shut down only a Ray started here."""
    ray = import_ray()
    if ray.is_initialized():
        yield ray
        return
    # Ray would otherwise re-create a `uv run` environment on workers, which needs the network.
    os.environ.setdefault("RAY_ENABLE_UV_RUN_RUNTIME_ENV", "0")
    options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False}
    if address:
        # Workers on other machines run this checkout's code; its dependencies must be installed there.
        options["runtime_env"] = {"py_modules": [str(Path(__file__).resolve().parent.parent)]}
    else:
        # "local" always starts a new Ray: with no address, ray.init would join whatever cluster
        # `ray start` last recorded on this machine (or fail on a stale record of a dead one).
        address = "local"
        options["num_cpus"] = num_cpus
    ray.init(address=address, **options)
    try:
        yield ray
    finally:
        ray.shutdown()


class SummarizeBatch:
    """A Ray Data actor: one backend built and loaded in ``__init__``, then batches of pickled
    articles in, pickled summaries out (pickling keeps every field exactly as the local engine has it)."""

    def __init__(self, spec_json: str, settings_json: str):
        self.backend = create_backend(ModelSpec.model_validate_json(spec_json))
        self.backend.ensure_loaded()
        self.settings = RunSettings(**json.loads(settings_json))

    def __call__(self, batch: dict[str, Any]) -> dict[str, list[Any]]:
        articles: list[Article] = [pickle.loads(blob) for blob in batch["article"]]
        summaries = summarize_articles(articles, self.backend, self.settings)
        return {"index": [int(i) for i in batch["index"]], "summary": [pickle.dumps(s) for s in summaries]}


def cluster_gpus(ray: ModuleType) -> float:
    return float(ray.cluster_resources().get("GPU", 0.0))


def run_ray(
    articles: Iterable[Article],
    spec: ModelSpec,
    settings: RunSettings | None = None,
    num_actors: int = 1,
    ray_address: str | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    gpus_per_actor: float | None = None,
    cpus_per_actor: float = 1.0,
) -> Iterator[Summary]:
    """Yield one Summary per article, in input order, computed by ``num_actors`` Ray actors.

    ``gpus_per_actor`` None = one GPU per actor when the cluster has GPUs, else none. The articles
    are read into memory first (Ray Data needs the whole input to plan the run).
    """
    settings = settings or RunSettings()
    if num_actors < 1 or batch_size < 1:
        raise ValueError(f"num_actors and batch_size must be at least 1, got {num_actors} and {batch_size}")
    create_backend(spec)  # invalid options fail here, not inside every actor
    items = [{"index": index, "article": pickle.dumps(article)} for index, article in enumerate(articles)]
    if not items:
        return
    with ray_session(ray_address) as ray:
        context = ray.data.DataContext.get_current()
        # Results stream back in input order, so the re-ordering buffer below stays small.
        context.execution_options.preserve_order = True
        context.enable_progress_bars = False
        gpus = gpus_per_actor if gpus_per_actor is not None else (1.0 if cluster_gpus(ray) >= 1 else 0.0)
        log.info("Ray: %d articles, %d actors (%g GPU, %g CPU each), batches of %d",
                 len(items), num_actors, gpus, cpus_per_actor, batch_size)
        dataset = ray.data.from_items(items).map_batches(
            SummarizeBatch,
            fn_constructor_kwargs={"spec_json": spec.model_dump_json(),
                                   "settings_json": json.dumps(settings.to_record())},
            compute=ray.data.ActorPoolStrategy(size=num_actors),
            batch_size=batch_size,
            num_gpus=gpus,
            num_cpus=cpus_per_actor,
        )
        yield from in_input_order(iter_results(dataset), len(items))


class RaySummarizer:
    """A pool of Ray actors as ``pipeline.run``'s Summarizer: the same loop consumes the summaries
    the actors produce. The actors build and load their own models; this process only checks the
    spec's options."""

    def __init__(self, spec: ModelSpec, num_actors: int = 1, ray_address: str | None = None,
                 batch_size: int = DEFAULT_BATCH_SIZE):
        self.spec = spec
        self.num_actors = num_actors
        self.ray_address = ray_address
        self.batch_size = batch_size

    def load(self) -> None:
        create_backend(self.spec)  # invalid options fail here, before Ray starts
        return None

    def summarize(self, articles: Iterable[Article], settings: RunSettings) -> Iterator[Summary]:
        return run_ray(articles, self.spec, settings, num_actors=self.num_actors, ray_address=self.ray_address,
                       batch_size=self.batch_size)


def iter_results(dataset: Any) -> Iterator[tuple[int, Summary]]:
    try:
        for row in dataset.iter_rows():
            yield int(row["index"]), pickle.loads(row["summary"])
    except Exception as error:  # noqa: BLE001 - Ray wraps actor failures in many exception types
        raise RayEngineError(f"the Ray run failed: {root_cause(error)}") from error


def root_cause(error: BaseException) -> str:
    """The innermost informative message: Ray wraps an actor's error (its traceback text ending with
    "ExceptionType: message") in several layers, some of them empty."""
    messages = []
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        lines = [line.strip() for line in str(current).splitlines() if line.strip()]
        if lines:
            messages.append(lines[-1])
        current = current.__cause__ or current.__context__
    return messages[-1] if messages else type(error).__name__


def in_input_order(results: Iterable[tuple[int, Summary]], total: int) -> Iterator[Summary]:
    """Re-order (index, summary) pairs into index order, yielding each as soon as it is next."""
    waiting: dict[int, Summary] = {}
    next_index = 0
    for index, summary in results:
        waiting[index] = summary
        while next_index in waiting:
            yield waiting.pop(next_index)
            next_index += 1
    if next_index != total:
        raise RayEngineError(f"the Ray run returned {next_index} of {total} summaries in order "
                             f"({len(waiting)} more out of order)")
