"""The desk's Starlette app: server-rendered pages, each with a JSON twin built from the same query.

Page             JSON twin              query (summarizer.desk.queries)
/                /api/articles          list_articles
/articles/{id}   /api/articles/{id}     get_article (+ evidence.align_bullets)
/feeds           /api/feeds             list_feeds (+ the poller's schedule)

Plus the feeds of summaries (/feed.atom, /feed.rss, /feeds/{id}/feed.atom|rss) and POST /api/summarize.
Handlers that touch SQLite are plain functions, which Starlette runs in worker threads; each thread
keeps its own store connection (SQLite connections are not shared between threads).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import jinja2
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from summarizer.desk import queries, security
from summarizer.desk.evidence import align_bullets
from summarizer.desk.model import SharedModel, article_from_request
from summarizer.desk.polling import Poller
from summarizer.desk.security import ApiError, csrf_token, csrf_valid, read_json_body, safe_link, safe_next
from summarizer.desk.syndication import FeedInfo, feed_id_for, render_feed
from summarizer.ingest.decode import length_problem
from summarizer.ingest.http import Fetcher, FetchError
from summarizer.ingest.webpage import load_webpage
from summarizer.store import Store
from summarizer.store.digest import display_time

log = logging.getLogger(__name__)

PACKAGE_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = PACKAGE_DIR / "templates"
STATIC_DIR = PACKAGE_DIR / "static"
FEED_ENTRIES = 50
FEED_MEDIA_TYPES = {"atom": "application/atom+xml; charset=utf-8", "rss": "application/rss+xml; charset=utf-8"}
SUMMARIZE_FIELDS = ("text", "title", "url")


@dataclass
class DeskSettings:
    store_path: Path
    model: SharedModel
    host: str = "127.0.0.1"
    token: str | None = None
    poll_interval_s: float | None = None
    title: str = "News desk"
    max_body_bytes: int = security.MAX_BODY_BYTES
    # None: the fetcher's own default ($SUMMARIZER_ALLOW_PRIVATE_HOSTS, else refused).
    allow_private_hosts: bool | None = None
    session_secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))


class StoreConnections(threading.local):
    """One Store per worker thread."""

    def __init__(self, path: Path):
        self.path = path
        self.store: Store | None = None

    def get(self) -> Store:
        if self.store is None:
            self.store = Store(self.path)
        return self.store


def build_templates() -> Jinja2Templates:
    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES_DIR), autoescape=True,
                                     undefined=jinja2.StrictUndefined)
    environment.filters["safe_link"] = safe_link
    environment.filters["when"] = display_time
    return Jinja2Templates(env=environment)


def create_app(settings: DeskSettings, fetcher: Fetcher | None = None) -> Starlette:
    connections = StoreConnections(settings.store_path)
    templates = build_templates()
    def new_fetcher() -> Fetcher:
        return Fetcher(allow_private_hosts=settings.allow_private_hosts)

    poller = Poller(settings.store_path, settings.model, settings.poll_interval_s, fetcher_factory=new_fetcher)
    shared_fetcher = fetcher or new_fetcher()
    background: set[asyncio.Task[Any]] = set()

    def conn() -> Any:
        return connections.get().conn

    def render(request: Request, template: str, context: dict[str, Any], status_code: int = 200) -> Response:
        context = {"title": settings.title, "csrf_token": csrf_token(request), "token_required": bool(settings.token),
                   "authenticated": bool(request.session.get("authenticated")), **context}
        return templates.TemplateResponse(request, template, context, status_code=status_code)

    # --- the desk --------------------------------------------------------------------------------------
    def desk_page(request: Request) -> Response:
        page = queries.list_articles(conn(), queries.parse_filters(dict(request.query_params)))
        feeds = queries.list_feeds(conn())
        return render(request, "desk.html", {"page": page, "feeds": feeds, "filters": page.filters})

    def api_articles(request: Request) -> Response:
        return JSONResponse(queries.list_articles(conn(), queries.parse_filters(dict(request.query_params))).to_json())

    def article_or_404(article_id: str) -> dict[str, Any]:
        article = queries.get_article(conn(), article_id)
        if article is None:
            raise HTTPException(404, f"no article {article_id!r} in this store")
        article["evidence"] = align_bullets(article["bullets"], article["text"])
        return article

    def article_page(request: Request) -> Response:
        return render(request, "article.html", {"article": article_or_404(request.path_params["article_id"])})

    def api_article(request: Request) -> Response:
        article = article_or_404(request.path_params["article_id"])
        evidence = article.pop("evidence")
        return JSONResponse({**queries.public_article(article), "text": article["text"],
                             "warnings": article["warnings"], "settings": article["settings"], "run": article["run"],
                             "summaries": article["summaries"], "evidence": evidence.to_json()})

    # --- feeds -----------------------------------------------------------------------------------------
    def feeds_with_schedule() -> list[dict[str, Any]]:
        feeds = queries.list_feeds(conn())
        for feed in feeds:
            feed["schedule"] = poller.status(feed["url"])
        return feeds

    def feeds_page(request: Request) -> Response:
        message = request.query_params.get("message")
        return render(request, "feeds.html", {"feeds": feeds_with_schedule(), "message": message,
                                              "poll_interval_s": settings.poll_interval_s})

    def api_feeds(request: Request) -> Response:
        return JSONResponse({"poll_interval_s": settings.poll_interval_s, "feeds": feeds_with_schedule()})

    async def checked_form(request: Request) -> Any:
        form = await request.form(max_files=0, max_fields=20)
        if not csrf_valid(request, form.get("csrf_token")):
            raise HTTPException(403, "the form's CSRF token is missing or stale: reload the page and submit again")
        return form

    def back_to_feeds(message: str) -> Response:
        from urllib.parse import urlencode

        return RedirectResponse(f"/feeds?{urlencode({'message': message})}", status_code=303)

    async def add_feed(request: Request) -> Response:
        form = await checked_form(request)
        url = str(form.get("url") or "").strip()
        if safe_link(url) is None:
            return back_to_feeds(f"not added: {url!r} is not an http(s) URL")
        await run_in_threadpool(lambda: queries.add_feed(conn(), url))
        return back_to_feeds(f"added {url}; it is polled "
                             + ("on the next round" if settings.poll_interval_s else "when you press Poll now"))

    async def feed_action(request: Request) -> Response:
        form = await checked_form(request)
        feed_id, action = int(request.path_params["feed_id"]), request.path_params["action"]
        feed = await run_in_threadpool(lambda: queries.get_feed(conn(), feed_id))
        if feed is None:
            raise HTTPException(404, f"no feed {feed_id}")
        del form
        if action == "remove":
            await run_in_threadpool(lambda: queries.remove_feed(conn(), feed_id))
            return back_to_feeds(f"removed {feed['url']} (its articles stay on the desk)")
        if action == "poll":
            if safe_link(feed["url"]) is None:
                return back_to_feeds(f"{feed['url']} is a local file; poll it with summarizer run")
            task = asyncio.get_running_loop().create_task(asyncio.to_thread(poller.poll_feed, feed["url"]))
            # The loop keeps only a weak reference to tasks: hold this one until it is done.
            background.add(task)
            task.add_done_callback(background.discard)
            return back_to_feeds(f"polling {feed['url']}; reload to see the result")
        raise HTTPException(404, f"no action {action!r}")

    def syndication_feed(request: Request) -> Response:
        fmt = request.path_params["fmt"]
        if fmt not in FEED_MEDIA_TYPES:
            raise HTTPException(404, f"no feed format {fmt!r}; use .atom or .rss")
        feed_id = request.path_params.get("feed_id")
        title, scope = settings.title, ""
        if feed_id is not None:
            feed = queries.get_feed(conn(), feed_id)
            if feed is None:
                raise HTTPException(404, f"no feed {feed_id}")
            title, scope = f"{settings.title}: {feed['title'] or feed['url']}", feed["url"]
        entries = queries.summarized_entries(conn(), feed_id=feed_id, limit=FEED_ENTRIES)
        updated = max((entry.created_at for entry in entries), default=None)
        base = str(request.base_url).rstrip("/")
        info = FeedInfo(title=title, feed_id=feed_id_for(title, scope), self_url=base + request.url.path,
                        site_url=base + "/" + (f"?feed={feed_id}" if feed_id is not None else ""),
                        updated=datetime.fromisoformat(updated) if updated else datetime.now(timezone.utc),
                        subtitle="Points of attention of recent articles")
        return Response(render_feed(fmt, entries, info), media_type=FEED_MEDIA_TYPES[fmt])

    # --- the model -------------------------------------------------------------------------------------
    def fetch_article(url: str) -> Any:
        try:
            return load_webpage(url, shared_fetcher)
        except FetchError as error:
            raise ApiError(502, f"cannot fetch {url}: {error}") from None

    async def api_summarize(request: Request) -> Response:
        data = await read_json_body(request, settings.max_body_bytes)
        unknown = sorted(set(data) - set(SUMMARIZE_FIELDS))
        if unknown:
            raise ApiError(400, f"unknown field(s) {', '.join(unknown)}; send text, title and/or url")
        for name in SUMMARIZE_FIELDS:
            if data.get(name) is not None and not isinstance(data[name], str):
                raise ApiError(400, f"{name} must be a string, not {type(data[name]).__name__}")
        text, title, url = data.get("text"), data.get("title") or "", data.get("url") or None
        if url is not None and safe_link(url) is None:
            raise ApiError(400, f"url must be an http(s) URL, not {url!r}")
        max_chars = settings.model.settings.max_chars
        if text is not None:
            if not text.strip():
                raise ApiError(400, "text is empty; send the article's text, or only a url to fetch it from")
            article = article_from_request(text, title, url)
        elif url is not None:
            article = await run_in_threadpool(fetch_article, url)
            if article.error:
                raise ApiError(422, f"no article text at {url}: {article.error}")
            article.title = title or article.title
        else:
            raise ApiError(400, "send {\"text\": ..., \"title\": ..., \"url\": ...} or {\"url\": ...}")
        # The same length rule as `summarizer run` (the run config's max_chars).
        too_long = length_problem(len(article.text), max_chars)
        if too_long:
            raise ApiError(413, too_long.split(" (raise it", 1)[0] + " (max_chars in the desk's run config)")
        summary = await run_in_threadpool(settings.model.summarize_one, article)
        if summary.error:
            raise ApiError(422, f"the article could not be summarized: {summary.error}")
        return JSONResponse({"bullets": summary.bullets, "model": summary.model, "path": summary.path,
                             "warning": summary.warning, "title": article.title, "url": article.url,
                             "timings": summary.timings, **{k: v for k, v in settings.model.describe().items()
                                                            if k != "model"}})

    # --- login -----------------------------------------------------------------------------------------
    async def login(request: Request) -> Response:
        target = safe_next(request.query_params.get("next"))
        if request.method == "GET":
            return render(request, "login.html", {"next": target, "error": None})
        form = await request.form(max_files=0, max_fields=10)
        target = safe_next(str(form.get("next") or "/"))
        if not csrf_valid(request, form.get("csrf_token")):
            return render(request, "login.html", {"next": target, "error": "the form expired; try again"}, 403)
        if not settings.token or not security.tokens_match(str(form.get("token") or ""), settings.token):
            return render(request, "login.html", {"next": target, "error": "wrong token"}, 403)
        request.session["authenticated"] = True
        return RedirectResponse(target, status_code=303)

    async def logout(request: Request) -> Response:
        await checked_form(request)
        request.session.clear()
        return RedirectResponse("/login" if settings.token else "/", status_code=303)

    # --- errors ----------------------------------------------------------------------------------------
    def wants_json(request: Request) -> bool:
        return request.url.path.startswith("/api/")

    def error_response(request: Request, status: int, message: str) -> Response:
        if wants_json(request):
            return JSONResponse({"error": message, "status": status}, status_code=status)
        try:
            return render(request, "error.html", {"status": status, "message": message}, status)
        except Exception:  # noqa: BLE001 - the error page itself must not fail
            return HTMLResponse("<h1>Error</h1>", status_code=status)

    async def on_api_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, ApiError)
        return error_response(request, error.status, error.message)

    async def on_query_error(request: Request, error: Exception) -> Response:
        return error_response(request, 400, str(error))

    async def on_http_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, HTTPException)
        return error_response(request, error.status_code, str(error.detail))

    async def on_unexpected(request: Request, error: Exception) -> Response:
        log.error("%s %s failed", request.method, request.url.path, exc_info=error)
        return error_response(request, 500, "the desk hit an internal error; the server log has the details")

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        stop = asyncio.Event()
        task = asyncio.create_task(poller.run(stop)) if settings.poll_interval_s else None
        try:
            yield
        finally:
            stop.set()
            if task is not None:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await asyncio.wait_for(task, timeout=10)
            if fetcher is None:
                shared_fetcher.close()

    routes = [
        Route("/", desk_page),
        Route("/articles/{article_id}", article_page),
        Route("/feeds", feeds_page),
        Route("/feeds", add_feed, methods=["POST"]),
        Route("/feeds/{feed_id:int}/{action}", feed_action, methods=["POST"]),
        Route("/feed.{fmt:str}", syndication_feed),
        Route("/feeds/{feed_id:int}/feed.{fmt:str}", syndication_feed),
        Route("/api/articles", api_articles),
        Route("/api/articles/{article_id}", api_article),
        Route("/api/feeds", api_feeds),
        Route("/api/summarize", api_summarize, methods=["POST"]),
        Route("/login", login, methods=["GET", "POST"]),
        Route("/logout", logout, methods=["POST"]),
        Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
    ]
    middleware = [Middleware(security.SecurityHeadersMiddleware)]
    if security.is_loopback(settings.host):
        # Loopback desks answer only to loopback names: a DNS-rebinding page cannot reach them.
        middleware.append(Middleware(security.LoopbackHostMiddleware))
    middleware += [
        Middleware(SessionMiddleware, secret_key=settings.session_secret, session_cookie="desk_session",
                   same_site="strict", https_only=False),
        Middleware(security.TokenMiddleware, token=settings.token),
    ]
    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan, exception_handlers={
        ApiError: on_api_error, queries.QueryError: on_query_error, HTTPException: on_http_error,
        Exception: on_unexpected})
    app.state.poller = poller
    app.state.settings = settings
    return app
