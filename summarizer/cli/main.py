"""`summarizer` console script: one subcommand module per command group, each thin over the library."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from summarizer import __version__
from summarizer.cli import demo, digest, evaluate, models, run

COMMAND_GROUPS = (run, models, demo, evaluate, digest)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="summarizer", description="News articles in, points of attention out.")
    parser.add_argument("--version", action="version", version=f"summarizer {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging (-vv for debug)")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for group in COMMAND_GROUPS:
        group.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    level = {0: logging.WARNING, 1: logging.INFO}.get(args.verbose, logging.DEBUG)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    return int(args.handler(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
