"""The store tests poll the feed fixtures' 127.0.0.1 server: reuse the feeds tests' fixtures."""

from tests.feeds.conftest import feed_server, fetcher  # noqa: F401 - pytest finds fixtures by name
