"""`summarizer demo`: summarize the seed article(s) offline and show the bullets beside the human ones."""

from __future__ import annotations

import argparse
import textwrap
from typing import TYPE_CHECKING

from summarizer.paths import PROJECT_ROOT

if TYPE_CHECKING:
    from summarizer.articles import Summary
    from summarizer.evaluation.rouge import RougeScorer

ROUGE_TYPES = ("rouge1", "rouge2", "rougeL", "rougeLsum")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("demo", help="summarize the seed article offline and score it against its bullets")
    parser.add_argument("--model", help="model to use (default: the model in configs/default.yaml)")
    parser.add_argument("--bullets", type=int, help="bullets to generate (default: as many as the human ones)")
    parser.add_argument("--seeds", default=str(PROJECT_ROOT / "seeds"), help="seed file or directory")
    parser.set_defaults(handler=handle)


def render(summary: Summary, reference: list[str], scorer: RougeScorer) -> str:
    lines = [f"=== {summary.title or summary.id}  [{summary.model}, {summary.path}]", "", "Generated bullets:"]
    lines += [textwrap.fill(b, 100, initial_indent="  - ", subsequent_indent="    ") for b in summary.bullets]
    if summary.error:
        lines.append(f"  (error: {summary.error})")
    lines += ["", "Human bullets (seed):"]
    lines += [textwrap.fill(b, 100, initial_indent="  - ", subsequent_indent="    ") for b in reference]
    if reference and summary.bullets:
        scores = scorer.score("\n".join(reference), "\n".join(summary.bullets))
        cells = [f"{name} P/R/F {s.precision * 100:.1f}/{s.recall * 100:.1f}/{s.fmeasure * 100:.1f}"
                 for name, s in scores.items()]
        lines += ["", "ROUGE (rouge-score mode, Porter stemming): " + "; ".join(cells)]
    return "\n".join(lines) + "\n"


def handle(args: argparse.Namespace) -> int:
    from summarizer.backends.registry import backend_for
    from summarizer.config import load_config
    from summarizer.evaluation.rouge import RougeScorer
    from summarizer.ingest import IngestOptions, load_articles
    from summarizer.pipeline import RunSettings, run

    config = load_config()
    articles = list(load_articles([args.seeds], IngestOptions()))
    backend = backend_for(args.model or config.model)
    scorer = RougeScorer(rouge_types=ROUGE_TYPES, mode="rouge-score", use_stemmer=True)
    summaries: list[Summary] = []
    for article in articles:
        n_bullets = args.bullets or len(article.reference_bullets) or config.bullets
        run([article], backend, summaries.append, RunSettings.from_config(config, n_bullets=n_bullets))
    for article, summary in zip(articles, summaries):
        print(render(summary, article.reference_bullets, scorer))
    return 1 if any(summary.error for summary in summaries) else 0
