"""Shared test configuration: Hypothesis profiles and the browser fixture."""

import os

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
