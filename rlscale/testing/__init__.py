"""Tools for testing agents and envs against rlscale's contracts.

`check_agent(NAME)` / `check_env(NAME)` run the conformance checks (see `conformance`) and return a
`ConformanceReport`; call `.assert_passed()` in a pytest test. The names are imported lazily
(the checks import JAX and the engine).
"""

import importlib

_EXPORTS = {
    "AGENT_CHECKS": "rlscale.testing.checks",
    "ENV_CHECKS": "rlscale.testing.checks",
    "CheckResult": "rlscale.testing.conformance",
    "ConformanceReport": "rlscale.testing.conformance",
    "check_agent": "rlscale.testing.conformance",
    "check_env": "rlscale.testing.conformance",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'rlscale.testing' has no attribute {name!r}")
