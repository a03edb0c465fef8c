"""What a first visit costs a reader on a phone: bytes over the network and time to the text.

The built site (``_build/html``) is served gzip-compressed, as GitHub Pages serves it, and
Debian's Chromium opens a page at 390 px on a simulated mid-range phone on a slow 4G network,
the conditions of Lighthouse's mobile audit:

* network (CDP ``Network.emulateNetworkConditions``): 150 ms round-trip latency, 1.6 Mbit/s
  down, 750 kbit/s up;
* CPU (CDP ``Emulation.setCPUThrottlingRate``): 4 times slower than this machine.

Weight: the sum of the bytes transferred (``encodedDataLength``: gzip-compressed bodies and
headers) of every resource the page requests until the network is idle, fonts and scripts
that load late included. Time: when the first paragraph of the page's text is painted (Element
Timing, ``renderTime``), from the start of navigation. The numbers are printed (``-s``).
Marked ``browser``.
"""

import gzip
import http.server
import io
from pathlib import Path
from typing import ClassVar

import pytest
from helpers import serve_site

pytestmark = pytest.mark.browser

LATENCY_MS = 150
DOWN_BYTES_PER_S = 1.6e6 / 8
UP_BYTES_PER_S = 750e3 / 8
CPU_SLOWDOWN = 4

# (page, most bytes transferred, most milliseconds until its first paragraph is painted)
BUDGETS = {
    "intro.html": (1_000_000, 3000),
    "chapters/01-softmax.html": (1_500_000, 3000),
}

# What GitHub Pages compresses (by type); images and woff2 fonts are compressed already.
COMPRESSED = {".html", ".js", ".css", ".svg", ".json", ".txt", ".xml", ".ttf", ".otf", ".ico"}


class GzipHandler(http.server.SimpleHTTPRequestHandler):
    """Serve a folder as a static host does: text types gzip-compressed when asked for."""

    cache: ClassVar[dict] = {}

    def log_message(self, *args):
        pass

    def send_head(self):
        path = Path(self.translate_path(self.path))
        if path.is_dir():
            path = path / "index.html"
        wants_gzip = "gzip" in self.headers.get("Accept-Encoding", "")
        if not (wants_gzip and path.suffix in COMPRESSED and path.is_file()):
            return super().send_head()
        body = self.cache.get(path)
        if body is None:
            body = self.cache[path] = gzip.compress(path.read_bytes(), compresslevel=6)
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        return io.BytesIO(body)


@pytest.fixture(scope="module")
def gzip_server():
    with serve_site(GzipHandler) as url:
        yield url


# Runs before any of the page's own scripts: marks the first paragraph of the article for
# Element Timing as soon as the parser creates it, and records the paint entries.
_TIMING = """
window.__paints = {};
new PerformanceObserver(list => {
  for (const e of list.getEntries()) window.__paints[e.identifier || e.name] =
    e.renderTime || e.loadTime || e.startTime;
}).observe({type: "element", buffered: true});
new PerformanceObserver(list => {
  for (const e of list.getEntries()) window.__paints[e.name] = e.startTime;
}).observe({type: "paint", buffered: true});
new MutationObserver((records, observer) => {
  const p = document.querySelector("article p");
  if (p) { p.setAttribute("elementtiming", "first-paragraph"); observer.disconnect(); }
}).observe(document, {childList: true, subtree: true});
"""


def measure(browser, url):
    """Open `url` as a first visit on a throttled phone: (bytes, ms to first paragraph)."""
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    try:
        page = context.new_page()
        page.add_init_script(_TIMING)
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        cdp.send(
            "Network.emulateNetworkConditions",
            {
                "offline": False,
                "latency": LATENCY_MS,
                "downloadThroughput": DOWN_BYTES_PER_S,
                "uploadThroughput": UP_BYTES_PER_S,
            },
        )
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})
        sizes = {}
        cdp.on(
            "Network.loadingFinished",
            lambda e: sizes.__setitem__(e["requestId"], e["encodedDataLength"]),
        )
        urls = {}
        cdp.on(
            "Network.requestWillBeSent",
            lambda e: urls.__setitem__(e["requestId"], e["request"]["url"]),
        )
        page.goto(url, wait_until="load", timeout=60_000)
        page.wait_for_load_state("networkidle", timeout=60_000)
        page.wait_for_function("() => 'first-paragraph' in window.__paints", timeout=10_000)
        paints = page.evaluate("() => window.__paints")
        heaviest = sorted(((n, urls.get(r, r)) for r, n in sizes.items()), reverse=True)[:6]
        return sum(sizes.values()), paints, heaviest
    finally:
        context.close()


@pytest.mark.parametrize("path", list(BUDGETS))
def test_a_first_visit_on_a_mid_range_phone_is_light_and_shows_text_soon(
    browser, gzip_server, path
):
    most_bytes, most_ms = BUDGETS[path]
    total, paints, heaviest = measure(browser, f"{gzip_server}/{path}")
    text_ms = paints["first-paragraph"]
    print(
        f"\n{path}: {total / 1e6:.2f} MB transferred (gzip), first paragraph painted at "
        f"{text_ms / 1000:.2f} s (first contentful paint "
        f"{paints.get('first-contentful-paint', 0) / 1000:.2f} s)"
    )
    for n, url in heaviest:
        print(f"  {n / 1e3:8.1f} kB  {url.removeprefix(gzip_server)}")
    assert total < most_bytes, f"{path}: {total} bytes transferred"
    assert text_ms < most_ms, f"{path}: first paragraph painted after {text_ms:.0f} ms"
