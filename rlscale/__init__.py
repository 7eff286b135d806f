"""rlscale: many value-based RL configs in one compiled program, and their scaling laws.

The top-level names are imported lazily, so `from rlscale import fit_laws` never loads JAX.
"""

import importlib

__version__ = "0.1.0"

_EXPORTS = {
    "SweepConfig": "rlscale.config",
    "make_plan": "rlscale.plan",
    "run_sweep": "rlscale.run.runner",
    "load_runs": "rlscale.run.tables",
    "fit_laws": "rlscale.laws",
    "FitOptions": "rlscale.laws",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'rlscale' has no attribute {name!r}")
