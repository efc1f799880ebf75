"""The newsroom desk: a web app over the store (pages, JSON API, Atom/RSS feeds, background polling).

Importing this package is light; the web stack (Starlette, Jinja2, uvicorn) is imported by ``desk.app``.
"""
