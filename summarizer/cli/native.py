"""`summarizer build-llama-server`: compile llama.cpp's llama-server for this CPU (-march=native)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from summarizer.backends.llama_server import compiled_features
from summarizer.backends.llama_server_build import BuildError, build_llama_server, default_prefix


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "build-llama-server",
        help="compile llama.cpp's llama-server for this CPU, for specs with runtime: llama-server",
        description="Downloads the source distribution of the installed xllamacpp from PyPI (the same llama.cpp "
                    "revision), compiles its llama-server with GGML_NATIVE (this CPU's vector instructions) and "
                    "installs it into this Python environment, where runtime: llama-server finds it after PATH.")
    parser.add_argument("--prefix", type=Path, default=None,
                        help=f"environment to install into (default: this one, {default_prefix()})")
    parser.add_argument("--source", type=Path, default=None,
                        help="a llama.cpp checkout to build instead of the one in xllamacpp's sdist")
    parser.add_argument("--jobs", type=int, default=None, help="parallel compile jobs (default: all cores)")
    parser.add_argument("--work", type=Path, default=None,
                        help="keep the download and build here (default: a temporary directory, removed after)")
    parser.add_argument("--cmake-arg", action="append", default=[], metavar="-DNAME=VALUE",
                        help="extra configure option, after ours (repeatable), e.g. -DGGML_CUDA=ON")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    print("compiling llama-server for this CPU; on 2 cores this takes several minutes", file=sys.stderr)
    try:
        built = build_llama_server(prefix=args.prefix, source=args.source, jobs=args.jobs, work=args.work,
                                   cmake_extra=args.cmake_arg)
    except BuildError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    features = compiled_features(built.binary) or []
    print(f"built {built.binary} from {built.source} in {built.seconds:.0f} s")
    print(f"linked as {built.link}")
    print(f"compiled for: {', '.join(name.upper() for name in features) or 'unknown'}")
    return 0
