"""Shared test configuration: Hypothesis profiles, the browser, and the built site served."""

import functools
import http.server
import os
import threading
from pathlib import Path

import pytest
from helpers import launch_chromium, unavailable
from hypothesis import settings

settings.register_profile("ci", max_examples=300, deadline=None, print_blob=True)
settings.register_profile("dev", max_examples=100, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium, driven by Playwright, for the tests of the site and of JupyterLab."""
    try:
        from playwright import sync_api
    except ImportError:
        unavailable("the playwright package is not installed (requirements-dev.txt)")
    with sync_api.sync_playwright() as p:
        chromium = launch_chromium(p)
        yield chromium
        chromium.close()


SITE = Path(__file__).resolve().parents[1] / "_build" / "html"


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    """The built site (``_build/html``), served on 127.0.0.1; its base URL."""
    if not (SITE / "index.html").exists():
        unavailable("no built site in _build/html (run make book)")
    handler = functools.partial(QuietHandler, directory=str(SITE))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join()
