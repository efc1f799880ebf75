"""`summarizer digest`: the store's recent summaries as Markdown, HTML, JSONL, Atom or RSS."""

from __future__ import annotations

import argparse
import os
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("digest", help="write a digest of recent summaries from the store")
    parser.add_argument("--store", default=os.environ.get("SUMMARIZER_STORE", "summarizer.db"),
                        help="SQLite store written by `summarizer run --store` "
                             "(default: $SUMMARIZER_STORE, else summarizer.db)")
    parser.add_argument("--since", default="24h", help="how far back: 90m, 24h, 7d, 2w (default: %(default)s)")
    parser.add_argument("--format", choices=("md", "html", "jsonl", "atom", "rss"),
                        help="output format (default: from --out's suffix, else md)")
    parser.add_argument("--out", help="output file (default: standard output)")
    parser.add_argument("--model", help="only summaries by this model spec (default: every model)")
    parser.add_argument("--title", default="News digest", help="the digest's title (default: %(default)s)")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from pathlib import Path

    from summarizer.store import Store, StoreError, digest

    if not Path(args.store).is_file():
        print(f"error: store {args.store} does not exist; create it with `summarizer run --store {args.store} ...`",
              file=sys.stderr)
        return 2
    fmt = args.format or digest.format_for_path(args.out, "md")
    try:
        since = digest.since_moment(args.since)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        with Store(args.store) as store:
            result = digest.build_digest(store, since, model=args.model, title=args.title)
            text = digest.render_digest(result, fmt)
    except StoreError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text, encoding="utf-8")
        print(f"wrote {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0
