"""Helpers shared by the book's tests (test files import from here, never from conftest)."""

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")


def unavailable(reason: str) -> None:
    """Skip a test whose prerequisite is missing, loudly; under CI, fail instead of skipping."""
    if os.environ.get("CI"):
        pytest.fail(f"cannot run in CI: {reason}")
    pytest.skip(f"SKIPPED, NOT PASSED: {reason}")


def launch_chromium(playwright):
    """Launch Debian's Chromium through Playwright (no browser download), or skip or fail."""
    if not Path(CHROMIUM).exists():
        unavailable(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    return playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
