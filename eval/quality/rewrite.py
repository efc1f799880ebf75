"""Extract-then-rewrite with the packaged GGUF model (SmolLM2-135M), with and without the grounding check.

    .venv/bin/python eval/quality/rewrite.py --limit 20 --out-dir /tmp/quality

For the first --limit dev articles, the `points` extractor picks 3 sentences; SmolLM2 then gets only
those sentences, either with the shared bullet prompt (summarizer.prompts, the sentences standing
in for the article) or with a rewrite prompt asking it to shorten each sentence. Each variant is
written twice in `summarizer run`'s JSONL shape: as generated, and after summarizer.grounding drops
the bullets the original article does not support. Score them with
`eval/quality/methods.py --predictions NAME=PATH`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tuning import DEFAULT_DEV, CachedEncoder, load_dev, make_backend, spec_options, summarize

from summarizer.articles import Article
from summarizer.backends.registry import create_backend
from summarizer.bullets import to_bullets
from summarizer.grounding import ground_text
from summarizer.specs import resolve_spec

REWRITE_SYSTEM = "You rewrite news sentences as short bullet points. You never add facts."
REWRITE_USER = """Rewrite each sentence below as one short bullet point that starts with "- ".
Keep the names, numbers and dates exactly as written. Do not add anything.

{sentences}"""


def rewrite_messages(sentences: list[str]) -> list[dict[str, str]]:
    body = "\n".join(f"{number}. {sentence}" for number, sentence in enumerate(sentences, 1))
    return [{"role": "system", "content": REWRITE_SYSTEM},
            {"role": "user", "content": REWRITE_USER.format(sentences=body)}]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dev", type=Path, default=DEFAULT_DEV)
    parser.add_argument("--limit", type=int, default=20)
    parser.add_argument("--bullets", type=int, default=3)
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--out-dir", type=Path, default=Path("/tmp/quality"))
    args = parser.parse_args(argv)

    items = load_dev(args.dev)[: args.limit]
    extracts = summarize(make_backend(spec_options("points"), CachedEncoder()), items, args.bullets)
    llm = create_backend(resolve_spec(args.model))
    llm.ensure_loaded()
    variants = {"extract+prompt": [], "extract+rewrite": []}
    for item, extract in zip(items, extracts):
        shared = llm.chat_request(Article(id=item.article.id, text=" ".join(extract)), args.bullets)
        variants["extract+prompt"].append(llm.complete(shared))
        variants["extract+rewrite"].append(llm.complete(shared | {"messages": rewrite_messages(extract)}))
        print(f"{item.article.id}: done", file=sys.stderr)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    for name, raws in variants.items():
        for grounded in (False, True):
            path = args.out_dir / f"{args.model}-{name}{'-grounded' if grounded else ''}.jsonl"
            with open(path, "w", encoding="utf-8") as handle:
                for item, raw in zip(items, raws):
                    text = ground_text(raw, item.article.text) if grounded else raw
                    bullets = to_bullets(text, args.bullets, drop_unfinished_last=True)
                    handle.write(json.dumps({"id": item.article.id, "bullets": bullets, "raw_output": raw}) + "\n")
            print(path)
    close = getattr(llm, "close", None)
    if callable(close):
        close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
