"""Comparing a refit with a fit committed under fits/: equal structure and strings, numbers to tolerances."""

from __future__ import annotations

import math

# The data law's optimizer stops at a tolerance, and BLAS rounding differs between CPUs, so a refit
# on another machine matches the committed numbers to about 1e-6 (relative), not bit for bit.
RELATIVE_TOLERANCE = 1e-5
ABSOLUTE_TOLERANCE = 1e-9


def assert_close(fitted, committed, path: str) -> None:
    """`fitted` equals `committed` in structure, strings and None; numbers to the tolerances."""
    if isinstance(committed, dict):
        assert isinstance(fitted, dict) and fitted.keys() == committed.keys(), path
        for key in committed:
            assert_close(fitted[key], committed[key], f"{path}/{key}")
    elif isinstance(committed, list):
        assert isinstance(fitted, list) and len(fitted) == len(committed), path
        for index, (fitted_item, committed_item) in enumerate(zip(fitted, committed)):
            assert_close(fitted_item, committed_item, f"{path}[{index}]")
    elif isinstance(committed, float) and isinstance(fitted, float):
        same = math.isclose(fitted, committed, rel_tol=RELATIVE_TOLERANCE, abs_tol=ABSOLUTE_TOLERANCE)
        assert same or (math.isnan(fitted) and math.isnan(committed)), f"{path}: {fitted} != {committed}"
    else:
        assert fitted == committed, f"{path}: {fitted} != {committed}"
