"""The one benchmark: what users wait for, each measured against a baseline in the same run.

Run it from a checkout (it is not part of the installed package):

    python -m eval.bench [--sections speed,seq2seq,rouge,coldstart,ingest] [--out eval/bench.md]

Sections:
- ``speed``: articles/s of the default model and of Lead-3 on the dev set, alone and beside a CPU-bound
  neighbour process, with the default model's thread limit (``threads: 1``) and without it (the numerical
  libraries' own default); plus non-English fixture articles when tests/fixtures/languages/ exists.
- ``seq2seq``: the hf-seq2seq backend against transformers' own per-article ``generate`` on a tiny random
  BART built here (eval/bench_seq2seq.py), with identical greedy outputs counted.
- ``rouge``: our ROUGE (rouge-score mode) against Google's rouge-score on the same pairs, equality checked.
- ``coldstart``: ``summarizer run SEED`` to its first bullet, in a fresh process.
- ``ingest``: eval/bench_ingest.py's ``measure_feed_ingest()``, when that module exists.

Every timed variant runs in a fresh process (model load and one warm-up batch untimed); the variants of
a section take turns (ABBA rounds) because the machine may be shared: the load average of each run is
reported. The report (``--out``) holds this run's numbers and the command that made them; older runs
live in git history.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shlex
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from summarizer.paths import PROJECT_ROOT, shared_data_dir

SECTIONS = ("speed", "seq2seq", "rouge", "coldstart", "ingest")
DEFAULT_OUT = Path("eval") / "bench.md"
DEV_SET_NAME = "summeval_cnndm100.jsonl"
SEED_FILE = PROJECT_ROOT / "seeds" / "000_42f52d1283be1841.txt"
LANGUAGE_FIXTURES = PROJECT_ROOT / "tests" / "fixtures" / "languages"
NEIGHBOUR = [sys.executable, "-c", "while True: pass"]
VERSIONED_PACKAGES = ("numpy", "torch", "transformers", "tokenizers", "threadpoolctl", "rouge-score")
# SummEval texts are tokenized with spaces around punctuation; one sentence per line gives rougeLsum
# real work, as when summaries are scored bullet by bullet.
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=\S)")


# --- shared helpers -------------------------------------------------------------------------------
def dev_set_path() -> Path:
    path = shared_data_dir() / DEV_SET_NAME
    if not path.is_file():
        raise FileNotFoundError(f"dev set not found: {path} (set SUMMARIZER_DATA_DIR to its folder)")
    return path


def dev_records(limit: int | None = None) -> list[dict[str, Any]]:
    records = []
    with open(dev_set_path(), encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                records.append(json.loads(line))
                if limit is not None and len(records) >= limit:
                    break
    return records


def run_worker(name: str, payload: dict[str, Any], neighbour: bool = False) -> dict[str, Any]:
    """``worker_<name>(payload)`` in a fresh interpreter, optionally beside a CPU-bound neighbour process."""
    command = [sys.executable, "-m", "eval.bench", "--worker", name]
    with busy_neighbour(neighbour):
        completed = subprocess.run(command, input=json.dumps(payload), capture_output=True, text=True,
                                   cwd=PROJECT_ROOT, check=False)
    if completed.returncode != 0:
        tail = "\n".join(completed.stderr.strip().splitlines()[-12:])
        raise RuntimeError(f"worker {name} exited with {completed.returncode}:\n{tail}")
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    result["load_average"] = round(os.getloadavg()[0], 2)
    return result


@contextmanager
def busy_neighbour(enabled: bool):
    """A process spinning on one core for the duration of the block (or nothing)."""
    process = subprocess.Popen(NEIGHBOUR) if enabled else None
    try:
        yield
    finally:
        if process is not None:
            process.kill()
            process.wait()


def interleave(variants: Sequence[str], rounds: int, run: Callable[[str], dict[str, Any]]) -> dict[str, list]:
    """``run(variant)`` for every round and variant, the order reversed every other round (ABBA)."""
    results: dict[str, list[dict[str, Any]]] = {variant: [] for variant in variants}
    for number in range(max(1, rounds)):
        for variant in variants if number % 2 == 0 else list(reversed(variants)):
            results[variant].append(run(variant))
    return results


def totals(measurements: list[dict[str, Any]]) -> dict[str, Any]:
    """One variant over its rounds: summed items and seconds, rates from the sums."""
    items = sum(m["items"] for m in measurements)
    wall = sum(m["wall_seconds"] for m in measurements)
    cpu = sum(m["cpu_seconds"] for m in measurements)
    return {"items": items, "wall_seconds": wall, "cpu_seconds": cpu,
            "items_per_second": items / wall if wall else 0.0,
            "items_per_cpu_second": items / cpu if cpu else 0.0,
            "load_average": [m["load_average"] for m in measurements],
            "texts": [m.get("texts", []) for m in measurements]}


def ratio(fast: dict[str, Any], slow: dict[str, Any], key: str = "items_per_second") -> float:
    return fast[key] / slow[key] if slow.get(key) else 0.0


@contextmanager
def stopwatch():
    times: dict[str, float] = {}
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        yield times
    finally:
        times["wall_seconds"] = time.perf_counter() - wall
        times["cpu_seconds"] = time.process_time() - cpu


# --- section: speed (default model and Lead-3) ----------------------------------------------------
def worker_speed(payload: dict[str, Any]) -> dict[str, Any]:
    """Child: summarize the articles with one spec, model load and a warm-up batch untimed."""
    from summarizer.articles import Article
    from summarizer.backends.registry import create_backend
    from summarizer.pipeline import RunSettings, summarize_articles
    from summarizer.specs import resolve_spec

    spec = resolve_spec(payload["model"])
    if payload.get("threads") != "spec":
        spec = spec.model_copy(update={"options": {**spec.options, "threads": payload["threads"]}})
    backend = create_backend(spec)
    articles = [Article(id=str(i), text=text) for i, text in enumerate(payload["texts"])]
    settings = RunSettings(n_bullets=3)
    list(summarize_articles(articles[:1], backend, settings))
    with stopwatch() as times:
        summaries = list(summarize_articles(articles, backend, settings))
    failed = [s.error for s in summaries if s.error]
    if failed:
        raise RuntimeError(f"{payload['model']}: {failed[0]}")
    return {"items": len(summaries), "texts": ["\n".join(s.bullets) for s in summaries], **times}


def speed_variants(default_model: str) -> dict[str, dict[str, Any]]:
    """Variant name -> worker payload (without texts) and whether a neighbour runs beside it."""
    variants = {}
    for neighbour in (False, True):
        where = "beside a busy neighbour" if neighbour else "alone"
        variants[f"{default_model}, threads: 1 (default), {where}"] = {
            "model": default_model, "threads": "spec", "neighbour": neighbour}
        variants[f"{default_model}, library threads, {where}"] = {
            "model": default_model, "threads": None, "neighbour": neighbour}
        variants[f"lead-3, {where}"] = {"model": "lead-3", "threads": "spec", "neighbour": neighbour}
    return variants


def run_speed(settings: argparse.Namespace) -> dict[str, Any]:
    from summarizer.config import load_config

    default_model = load_config().model
    texts = [record["article"] for record in dev_records(settings.limit)]
    variants = speed_variants(default_model)

    def run(variant: str) -> dict[str, Any]:
        payload = {key: value for key, value in variants[variant].items() if key != "neighbour"}
        return run_worker("speed", {**payload, "texts": texts}, neighbour=variants[variant]["neighbour"])

    per_variant = {name: totals(runs) for name, runs in interleave(list(variants), settings.rounds, run).items()}
    names = list(variants)
    result: dict[str, Any] = {"articles": len(texts), "rounds": settings.rounds, "default_model": default_model,
                              "variants": per_variant, "ratios": {}}
    for where in ("alone", "beside a busy neighbour"):
        limited, unlimited = (per_variant[f"{default_model}, {kind}, {where}"]
                              for kind in ("threads: 1 (default)", "library threads"))
        result["ratios"][f"{default_model} threads: 1 vs library threads, {where}"] = ratio(limited, unlimited)
        # The thread setting must not change what the model writes.
        result.setdefault("same_text", {})[where] = sum(
            a == b for a, b in zip(limited["texts"][0], unlimited["texts"][0]))
    result["ratios"][f"{default_model} beside vs alone (threads: 1)"] = ratio(
        per_variant[names[3]], per_variant[names[0]])
    result["ratios"][f"{default_model} beside vs alone (library threads)"] = ratio(
        per_variant[names[4]], per_variant[names[1]])
    result["ratios"][f"lead-3 vs {default_model} (threads: 1), alone"] = ratio(
        per_variant[names[2]], per_variant[names[0]])
    result["languages"] = run_languages(default_model)
    return result


def run_languages(default_model: str) -> dict[str, Any]:
    """The default model's articles/s on the non-English fixture articles, one language per file."""
    files = sorted(LANGUAGE_FIXTURES.glob("*.txt")) if LANGUAGE_FIXTURES.is_dir() else []
    if not files:
        return {"skipped": f"no {LANGUAGE_FIXTURES.relative_to(PROJECT_ROOT)}/*.txt in this checkout"}
    rows = {}
    for path in files:
        text = path.read_text(encoding="utf-8")
        measured = run_worker("speed", {"model": default_model, "threads": "spec", "texts": [text] * 4})
        rows[path.stem] = {"articles_per_second": measured["items"] / measured["wall_seconds"],
                           "bullets": len(measured["texts"][0].splitlines())}
    return {"files": rows}


# --- section: ROUGE against rouge-score -----------------------------------------------------------
def rouge_pairs(limit: int) -> list[tuple[str, str]]:
    """(prediction, reference) pairs: every SummEval system output against every reference."""
    pairs: list[tuple[str, str]] = []
    for record in dev_records():
        references = ["\n".join(SENTENCE_END.split(ref.strip())) for ref in record["references"]]
        for output in record["system_outputs"].values():
            prediction = "\n".join(SENTENCE_END.split(output.strip()))
            pairs.extend((prediction, reference) for reference in references)
            if len(pairs) >= limit:
                return pairs[:limit]
    return pairs


def worker_rouge(payload: dict[str, Any]) -> dict[str, Any]:
    """Child: both scorers on the same pairs (ours from empty stem caches), every score compared."""
    from rouge_score import rouge_scorer

    from summarizer.evaluation.rouge import DEFAULT_ROUGE_TYPES, RougeScorer

    pairs = rouge_pairs(payload["pairs"])
    google = rouge_scorer.RougeScorer(list(DEFAULT_ROUGE_TYPES), use_stemmer=True)
    ours = RougeScorer(DEFAULT_ROUGE_TYPES, mode="rouge-score", use_stemmer=True)
    measured = {}
    for name, scorer in (("rouge-score", google), ("ours", ours)):
        with stopwatch() as times:
            scores = [scorer.score(reference, prediction) for prediction, reference in pairs]
        measured[name] = {"items": len(pairs), **times}
        measured[name + "_scores"] = scores
    # Score tuples compare by value across the two NamedTuple classes.
    mismatches = sum(a != b for a, b in zip(measured.pop("rouge-score_scores"), measured.pop("ours_scores")))
    return {"variants": measured, "mismatches": mismatches, "config": ours.config()}


def run_rouge(settings: argparse.Namespace) -> dict[str, Any]:
    runs = [run_worker("rouge", {"pairs": settings.rouge_pairs}) for _ in range(settings.rounds)]
    per_variant = {name: totals([{**run["variants"][name], "load_average": run["load_average"]} for run in runs])
                   for name in ("rouge-score", "ours")}
    return {"pairs": per_variant["ours"]["items"] // len(runs), "rounds": len(runs), "variants": per_variant,
            "mismatches": max(run["mismatches"] for run in runs), "config": runs[0]["config"],
            "ratios": {"ours vs rouge-score": ratio(per_variant["ours"], per_variant["rouge-score"])}}


# --- section: cold start --------------------------------------------------------------------------
def seconds_to_first_line(command: list[str]) -> tuple[float, float]:
    """(wall, CPU) seconds from starting ``command`` until it prints a non-empty line on stdout."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                               cwd=PROJECT_ROOT)
    wall = None
    for line in process.stdout:
        if line.strip():
            wall = time.perf_counter() - started
            break
    # os.kill, not process.kill(): Popen.kill() may reap the child first and lose its rusage.
    os.kill(process.pid, signal.SIGKILL)
    _, _, usage = os.wait4(process.pid, 0)
    process.stdout.close()
    if wall is None:
        raise RuntimeError(f"{shlex.join(command)} printed nothing")
    return wall, usage.ru_utime + usage.ru_stime


def run_coldstart(settings: argparse.Namespace) -> dict[str, Any]:
    from summarizer.config import load_config

    models = list(dict.fromkeys([load_config().model, "lead-3"]))
    rows = {}
    for model in models:
        command = [sys.executable, "-m", "summarizer.cli.main", "run", str(SEED_FILE.relative_to(PROJECT_ROOT)),
                   "--model", model]
        seconds_to_first_line(command)  # untimed: later runs reuse byte-compiled modules and caches
        runs = [seconds_to_first_line(command) for _ in range(settings.repeats)]
        rows[model] = {"command": "summarizer " + shlex.join(command[3:]),
                       "median_wall": statistics.median(w for w, _ in runs),
                       "median_cpu": statistics.median(c for _, c in runs),
                       "runs": [round(w, 3) for w, _ in runs], "load_average": round(os.getloadavg()[0], 2)}
    return {"repeats": settings.repeats, "models": rows}


# --- section: feed ingest (eval/bench_ingest.py, when present) ------------------------------------
def run_ingest(settings: argparse.Namespace) -> dict[str, Any]:
    import importlib.util

    if importlib.util.find_spec("eval.bench_ingest") is None:
        return {"skipped": "eval/bench_ingest.py is absent in this checkout"}
    import eval.bench_ingest as ingest

    measured = ingest.measure_feed_ingest()
    result: dict[str, Any] = {"measured": measured}
    if "ratio" in measured:
        result["ratios"] = {"feed ingest: default fetcher vs one link at a time": measured["ratio"]}
    if hasattr(ingest, "format_row"):
        result["row"] = ingest.format_row(measured)
    return result


# --- the report -----------------------------------------------------------------------------------
def machine() -> list[str]:
    cpu = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        match = re.search(r"^model name\s*:\s*(.+)$", cpuinfo.read_text(), re.MULTILINE)
        cpu = match.group(1).strip() if match else cpu
    versions = []
    for package in VERSIONED_PACKAGES:
        try:
            versions.append(f"{package} {metadata.version(package)}")
        except metadata.PackageNotFoundError:
            continue
    return [f"- CPU: {cpu}, {os.cpu_count()} logical CPUs; {platform.platform()}; Python {platform.python_version()}",
            f"- Versions: {', '.join(versions)}"]


def rate_table(variants: dict[str, dict[str, Any]], unit: str) -> list[str]:
    lines = [f"| variant | {unit}/s | {unit}/CPU s | wall s | CPU s | load avg per round |",
             "|---|---|---|---|---|---|"]
    for name, total in variants.items():
        loads = ", ".join(str(load) for load in total["load_average"])
        lines.append(f"| {name} | {total['items_per_second']:.2f} | {total['items_per_cpu_second']:.2f} | "
                     f"{total['wall_seconds']:.2f} | {total['cpu_seconds']:.2f} | {loads} |")
    return lines


def ratio_lines(ratios: dict[str, float], unit: str) -> list[str]:
    return [f"- **{name}: {value:.3g}x** {unit}/s (wall)" for name, value in ratios.items()]


def render_section(name: str, result: dict[str, Any]) -> list[str]:
    if name == "speed":
        lines = [f"## Default model and Lead-3 (dev set, {result['articles']} articles, {result['rounds']} rounds)",
                 "", "Neighbour: `python -c 'while True: pass'` running for the whole timed run. `threads: 1` is "
                 f"the {result['default_model']} spec's default (after issue 36); `library threads` sets "
                 "`threads: null`, which is how the model ran before it: numpy's BLAS, OpenMP and torch each "
                 "use their own default, one thread per core. `alone` means without the neighbour: the load "
                 "average column shows what else the machine was running.", ""]
        lines += rate_table(result["variants"], "articles") + [""] + ratio_lines(result["ratios"], "articles")
        lines += [f"- Same bullets with either thread setting ({where}): {same}/{result['articles']} articles"
                  for where, same in result["same_text"].items()]
        languages = result["languages"]
        lines += ["", "Non-English fixture articles (default model, `threads: 1`, 4 copies each, one run):", ""]
        if "skipped" in languages:
            lines.append(f"- skipped: {languages['skipped']}")
        else:
            lines += [f"- {lang}: {row['articles_per_second']:.2f} articles/s, {row['bullets']} bullets"
                      for lang, row in languages["files"].items()]
        return lines
    if name == "seq2seq":
        from eval.bench_seq2seq import render

        return render(result, rate_table)
    if name == "rouge":
        lines = [f"## ROUGE: ours vs rouge-score ({result['pairs']} pairs, {result['rounds']} rounds)", "",
                 f"Config: `{json.dumps(result['config'], sort_keys=True)}`", ""]
        lines += rate_table(result["variants"], "pairs") + [""] + ratio_lines(result["ratios"], "pairs")
        return lines + [f"- Identical scores: {'yes' if not result['mismatches'] else 'NO'} "
                        f"({result['mismatches']} pairs differ)"]
    if name == "coldstart":
        lines = [f"## Cold start: `summarizer run SEED` to the first bullet (median of {result['repeats']})", "",
                 "| command | median wall s | median CPU s | runs (wall s) | load avg |", "|---|---|---|---|---|"]
        return lines + [f"| `{row['command']}` | {row['median_wall']:.2f} | {row['median_cpu']:.2f} | "
                        f"{', '.join(map(str, row['runs']))} | {row['load_average']} |"
                        for row in result["models"].values()]
    lines = ["## Feed ingest (eval/bench_ingest.py)", ""]
    if "skipped" in result:
        return lines + [f"- skipped: {result['skipped']}"]
    lines += [f"- {result['row']}", ""] if "row" in result else []
    return lines + [f"- {key}: {value}" for key, value in result["measured"].items()]


def write_report(out: Path, command: str, results: dict[str, Any], seconds: float) -> None:
    started = results.pop("_started")
    lines = ["# Benchmark", "", "Generated by the command below; every ratio compares numbers measured in this run.",
             "", "```", command, "```", "", f"Started {started}, took {seconds:.0f} s.", "", *machine(), ""]
    for name, result in results.items():
        if "error" in result:
            lines += [f"## {name}", "", f"FAILED: `{result['error']}`", ""]
        else:
            lines += render_section(name, result) + [""]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines).rstrip() + "\n", encoding="utf-8")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m eval.bench", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--sections", default=",".join(SECTIONS), help="comma-separated sections to run")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="the report (Markdown)")
    parser.add_argument("--limit", type=int, default=20, help="dev-set articles for the speed section")
    parser.add_argument("--rounds", type=int, default=2, help="ABBA rounds per section")
    parser.add_argument("--rouge-pairs", type=int, default=2000, help="ROUGE (prediction, reference) pairs")
    parser.add_argument("--repeats", type=int, default=3, help="timed cold starts per model")
    parser.add_argument("--seq2seq-articles", type=int, default=16, help="dev-set articles for seq2seq")
    parser.add_argument("--new-tokens", type=int, default=48, help="seq2seq tokens generated per article")
    # Internal: run one timed worker in this fresh process, its JSON payload on standard input.
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.section_list = [name.strip() for name in args.sections.split(",") if name.strip()]
    unknown = sorted(set(args.section_list) - set(SECTIONS))
    if unknown:
        parser.error(f"unknown section(s) {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
    return args


def command_line(argv: Sequence[str]) -> str:
    return shlex.join(["python", "-m", "eval.bench", *argv])


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    if args.worker:
        name, payload = args.worker, sys.stdin.read()
        workers = {"speed": worker_speed, "rouge": worker_rouge}
        if name == "seq2seq":
            from eval.bench_seq2seq import worker_seq2seq as worker
        else:
            worker = workers[name]
        print(json.dumps(worker(json.loads(payload))))
        return 0
    runners = {"speed": run_speed, "rouge": run_rouge, "coldstart": run_coldstart, "ingest": run_ingest}
    started = time.perf_counter()
    results: dict[str, Any] = {"_started": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}
    for name in args.section_list:
        print(f"bench: {name} ...", file=sys.stderr, flush=True)
        try:
            if name == "seq2seq":
                from eval.bench_seq2seq import run_seq2seq

                results[name] = run_seq2seq(args, dev_records(), run_worker, interleave, totals, ratio)
            else:
                results[name] = runners[name](args)
        except Exception as error:  # noqa: BLE001 - a failed section is reported; the others still run
            results[name] = {"error": f"{type(error).__name__}: {error}"}
        for key, value in results[name].get("ratios", {}).items():
            print(f"{name}: {key}: {value:.3g}x")
        if "error" in results[name]:
            print(f"{name}: FAILED: {results[name]['error']}", file=sys.stderr)
    write_report(args.out, command_line(argv), results, time.perf_counter() - started)
    print(f"report: {args.out}")
    return 1 if any("error" in result for result in results.values() if isinstance(result, dict)) else 0


if __name__ == "__main__":
    raise SystemExit(main())
