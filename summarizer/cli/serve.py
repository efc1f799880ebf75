"""`summarizer serve`: the newsroom desk, a web app over the store (pages, JSON API, Atom/RSS feeds)."""

from __future__ import annotations

import argparse
import os
import sys

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "serve", help="run the newsroom desk: read, search and subscribe to the summaries in a store",
        description="Serve the desk (see docs/desk.md). Binds 127.0.0.1 unless --host says otherwise; any "
                    "other address needs --token.")
    parser.add_argument("--store", default=os.environ.get("SUMMARIZER_STORE", "summarizer.db"),
                        help="SQLite store, created if missing (default: $SUMMARIZER_STORE or summarizer.db)")
    parser.add_argument("--host", default=DEFAULT_HOST, help=f"address to listen on (default: {DEFAULT_HOST})")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default: {DEFAULT_PORT})")
    parser.add_argument("--poll", metavar="DURATION",
                        help="poll the desk's feeds in the background every DURATION, e.g. 30m or 2h "
                             "(default: off; `summarizer run --feeds ... --store ...` from cron works too)")
    parser.add_argument("--feeds", help="YAML feeds list to put on the desk, e.g. configs/feeds.yaml (default: none; "
                                        "feeds can also be added on /feeds)")
    parser.add_argument("--model", help="model for polling and POST /api/summarize (default: the run config's model)")
    parser.add_argument("--bullets", type=int, help="bullets per article (default: the run config's)")
    parser.add_argument("--config", help="run config name or path (default: configs/default.yaml)")
    parser.add_argument("--token", default=os.environ.get("SUMMARIZER_DESK_TOKEN"),
                        help="token every request must carry; required off loopback "
                             "(default: $SUMMARIZER_DESK_TOKEN, else none)")
    parser.add_argument("--allow-private-hosts", action="store_true",
                        help="let polls and /api/summarize fetch private and loopback addresses "
                             "(default: off, unless $SUMMARIZER_ALLOW_PRIVATE_HOSTS is set; see docs/security.md)")
    parser.add_argument("--title", default="News desk", help="the desk's and its feeds' title (default: News desk)")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from summarizer.desk.security import bind_refusal

    refusal = bind_refusal(args.host, args.token)
    if refusal:
        print(f"error: {refusal}", file=sys.stderr)
        return 2
    if not 0 < args.port < 65536:
        print(f"error: --port must be between 1 and 65535, not {args.port}", file=sys.stderr)
        return 2
    poll_interval_s = None
    if args.poll:
        from summarizer.store.digest import parse_duration

        try:
            poll_interval_s = parse_duration(args.poll).total_seconds()
        except ValueError as error:
            print(f"error: --poll: {error}", file=sys.stderr)
            return 2
    return serve(args, poll_interval_s)


def serve(args: argparse.Namespace, poll_interval_s: float | None) -> int:
    try:
        import uvicorn

        from summarizer.desk.app import DeskSettings, create_app
    except ImportError as error:
        print(f"error: the desk needs its web stack ({error.name} is missing): pip install 'summarizer[desk]'",
              file=sys.stderr)
        return 2
    from summarizer.backends.registry import backend_for
    from summarizer.config import load_config
    from summarizer.desk.model import SharedModel, SummarySettings
    from summarizer.desk.queries import register_feeds
    from summarizer.hub import ModelUnavailableError
    from summarizer.ingest.feeds import load_feed_list
    from summarizer.store import Store, StoreError

    try:
        config = load_config(args.config)
    except (FileNotFoundError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    n_bullets = args.bullets or config.bullets
    if n_bullets < 1:
        print("error: --bullets must be at least 1", file=sys.stderr)
        return 2
    model_name = args.model or config.model
    try:
        backend = backend_for(model_name)
        backend.ensure_loaded()
    except (ModelUnavailableError, ValueError, FileNotFoundError, ImportError) as error:
        print(f"error: cannot use model '{model_name}': {error}", file=sys.stderr)
        return 2
    try:
        with Store(args.store) as store:
            if args.feeds:
                register_feeds(store.conn, [(feed.url, feed.name) for feed in load_feed_list(args.feeds)])
    except (OSError, ValueError, StoreError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    model = SharedModel(backend, SummarySettings(n_bullets, config.bullet_max_chars, config.max_chars, config.fallback))
    settings = DeskSettings(store_path=args.store, model=model, host=args.host, token=args.token,
                            poll_interval_s=poll_interval_s, title=args.title,
                            allow_private_hosts=True if args.allow_private_hosts else None)
    shown_host = f"[{args.host}]" if ":" in args.host else args.host
    print(f"desk on http://{shown_host}:{args.port}/ (store {args.store}, model {model.name}, polling "
          + (f"every {args.poll}" if args.poll else "off") + ")", file=sys.stderr)
    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level="info", server_header=False,
                proxy_headers=False)
    return 0
