"""Shared test configuration: Hypothesis profiles, the browser, and the built site served."""

import os

import pytest
from helpers import launch_chromium, serve_site, unavailable
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


@pytest.fixture(scope="module")
def server():
    """The built site (``_build/html``), served on 127.0.0.1; its base URL."""
    with serve_site() as url:
        yield url
