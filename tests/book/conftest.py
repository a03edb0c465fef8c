"""Fixtures shared by the browser tests of the built site (test_site.py, test_accessibility.py)."""

import functools
import http.server
import threading
from pathlib import Path

import pytest
from helpers import unavailable

SITE = Path(__file__).resolve().parents[2] / "_build" / "html"


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
