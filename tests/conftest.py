"""Shared test configuration: Hypothesis profiles, an mpmath oracle, the browser fixture."""

import os

import mpmath
import numpy as np
import pytest
from helpers import launch_chromium, unavailable
from hypothesis import settings

settings.register_profile("ci", max_examples=300, deadline=None, print_blob=True)
settings.register_profile("dev", max_examples=100, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


def mp_lse_naive(row, dps=400):
    """log(sum(exp(row))) straight from the definition, in enough digits to need no tricks.

    This is the independent oracle: no shift, no log1p, only a huge working precision.
    Valid for finite rows with spreads well below 10**dps.
    """
    with mpmath.workdps(dps):
        return mpmath.log(mpmath.fsum(mpmath.exp(mpmath.mpf(float(v))) for v in row))


def mp_softmax_naive(row, dps=400):
    """Softmax of a finite row from the definition, in `dps` digits (independent oracle)."""
    with mpmath.workdps(dps):
        e = [mpmath.exp(mpmath.mpf(float(v))) for v in row]
        s = mpmath.fsum(e)
        return [ei / s for ei in e]


def as_float(values, dtype=np.float64):
    """Round mpmath values to `dtype` (through float64; double rounding is irrelevant here)."""
    return np.array([float(v) for v in values], dtype=np.float64).astype(dtype)


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
