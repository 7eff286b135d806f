"""The names of the conformance checks and the defaults they run with (JAX-free, so the CLI can
build its parser without importing JAX; the checks themselves are in `conformance`)."""

from rlscale.agents.spec import NetworkConfig

AGENT_CHECKS = ("finite_update", "masked_batch", "no_retrace", "in_group_vs_alone", "map_vs_vmap")
ENV_CHECKS = ("spec", "reset_step_shapes", "jit_vmap", "determinism", "termination_vs_truncation")
CHECK_NETWORK = NetworkConfig(hidden_width=16, hidden_depth=1)
"""The small network the agent checks build (the checks are about structure, not capacity)."""
CHECK_ENV = "pendulum"
"""The env the agent checks train on."""
