"""`summarizer` console script: one subcommand module per command group, each thin over the library.

The command modules import only the standard library at their top level (their handlers import the
rest), so building this parser pulls in no model framework: tests/cli/test_main.py checks it.
"""

from __future__ import annotations

import argparse
import functools
import logging
import sys
from collections.abc import Sequence

from summarizer import __version__
from summarizer.cli import DefaultsHelpFormatter, demo, digest, evaluate, meta_eval, models, run, serve

COMMAND_GROUPS = (run, models, demo, evaluate, meta_eval, digest, serve)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="summarizer", description="News articles in, points of attention out.",
                                     formatter_class=DefaultsHelpFormatter)
    parser.add_argument("--version", action="version", version=f"summarizer {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging (-vv for debug)")
    # Every subcommand's help shows its options' defaults, whichever module registers it.
    subparser_class = functools.partial(argparse.ArgumentParser, formatter_class=DefaultsHelpFormatter)
    subparsers = parser.add_subparsers(dest="command", required=True, parser_class=subparser_class)
    for group in COMMAND_GROUPS:
        group.register(subparsers)
    for command in subparsers.choices.values():
        give_defaults_a_help_line(command)
    return parser


def give_defaults_a_help_line(parser: argparse.ArgumentParser) -> None:
    """argparse prints nothing for an option without help text, not even its default: give such options
    one, so that every default shows in ``--help``."""
    for action in parser._actions:
        if action.help is None and action.option_strings and action.default not in (None, False, argparse.SUPPRESS):
            action.help = "(default: %(default)s)"


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    level = {0: logging.WARNING, 1: logging.INFO}.get(args.verbose, logging.DEBUG)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    return int(args.handler(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
