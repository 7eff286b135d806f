"""TD3 as an rlscale plug-in: options and entry in `plugin` (JAX-free), the agent in `agent`."""
