"""URL forms: the canonical URL that identifies one article across feeds, polls and tracking links."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

# Query parameters that identify the reader or the campaign, never the article.
TRACKING_PARAMETERS = frozenset({"fbclid", "gclid", "dclid", "mc_cid", "mc_eid", "igshid"})
DEFAULT_PORTS = {"http": 80, "https": 443}


def canonical_url(url: str) -> str:
    """The form of a URL used to recognise the same article: no tracking parameters (utm_*, fbclid...),
    no fragment, no trailing slash, lowercase scheme and host, no default port."""
    url = url.strip()
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        return url
    host = parts.hostname.lower()
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = host if port in (None, DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    if parts.username:
        credentials = parts.username + (f":{parts.password}" if parts.password else "")
        netloc = f"{credentials}@{netloc}"
    query = [(name, value) for name, value in parse_qsl(parts.query, keep_blank_values=True)
             if not name.lower().startswith("utm_") and name.lower() not in TRACKING_PARAMETERS]
    return urlunsplit((scheme, netloc, parts.path.rstrip("/"), urlencode(query), ""))
