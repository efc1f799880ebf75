"""`summarizer models`: every spec, its backend and source, and whether it runs offline right now."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("models", help="list model specs and whether each is usable offline",
                                   description="Lists the specs in models/ (and $SUMMARIZER_MODELS_DIR, ./models) "
                                               "with whether each can run offline right now, and why not.")
    parser.set_defaults(handler=handle)


def model_rows() -> list[tuple[str, str, str, str]]:
    from summarizer.backends.registry import create_backend
    from summarizer.specs import list_specs

    rows = []
    for spec in list_specs():
        try:
            usable, reason = create_backend(spec).offline_status()
            status = f"{'yes' if usable else 'no'} ({reason})"
        except Exception as error:  # noqa: BLE001 - one broken spec must not hide the others
            status = f"no (invalid spec: {error})"
        rows.append((spec.name, spec.backend, spec.source, status))
    return rows


def handle(args: argparse.Namespace) -> int:
    rows = [("MODEL", "BACKEND", "SOURCE", "OFFLINE NOW")] + model_rows()
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row[:3], widths)) + "  " + row[3])
    return 0
