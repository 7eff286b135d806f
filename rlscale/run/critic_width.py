"""The hidden width whose critic has N parameters, for an agent and env (`rlscale recommend` on a fit
with the joint (σ, N) laws, whose N* is a critic parameter count).

The critic's parameter count is the agent's model size as the rows write it
(`rlscale.agents.core.critic_parameter_count`: its `critic_parameter_count()`, built for the env's
observation and action sizes and counted without running anything). At a
fixed depth it is a polynomial of degree at most 2 in the width (dense layers w·w, w·in, biases and
norms ∝ w), so three counts give it exactly (as the authors map N to a width through a quadratic
fit, `params_to_width`); the width is the integer whose count is nearest N*, checked by counting it.
The sweep's depth and layer norm are the first of `NETWORK_CANDIDATES` under which every trained
model size is the count of an integer width; when none is, depth 2 without layer norm is assumed
(noted).
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

NETWORK_CANDIDATES: tuple[tuple[int, bool], ...] = tuple((depth, norm) for depth in (2, 1, 3, 4, 5, 6) for norm in (False, True))
"""(hidden depth, layer norm) tried in turn when inferring the sweep's network from its model sizes."""
DEFAULT_NETWORK = (2, False)
SAMPLE_WIDTHS = (8, 16, 32)
"""Widths whose critic counts determine the count's quadratic in the width."""


@dataclass(frozen=True)
class CriticWidth:
    """A width and what it gives: `model_size` is its critic's exact parameter count."""

    hidden_width: int
    hidden_depth: int
    layer_norm: bool
    model_size: int


@lru_cache(maxsize=None)
def _count(algo: str, env: str, width: int, depth: int, layer_norm: bool, options_json: str) -> int:
    from rlscale.agents.core import critic_parameter_count as model_size
    from rlscale.agents.registry import make_agent
    from rlscale.agents.spec import NetworkConfig
    from rlscale.envs.registry import get_spec

    spec = get_spec(env)
    network = NetworkConfig(hidden_width=width, hidden_depth=depth, layer_norm=layer_norm)
    agent = make_agent(algo, spec.observation_size, spec.action_size, network, **json.loads(options_json))
    return model_size(agent)


def critic_parameter_count(algo: str, env: str, width: int, depth: int, layer_norm: bool = False, options: Mapping | None = None) -> int:
    """Parameters of the critic of `algo` on `env` at this network (ValueError for an unknown agent,
    env or option)."""
    return _count(algo, env, int(width), int(depth), bool(layer_norm), json.dumps(dict(options or {}), sort_keys=True))


def _quadratic(algo: str, env: str, depth: int, layer_norm: bool, options: Mapping | None) -> tuple[float, float, float]:
    """(p2, p1, p0) with count(w) = p2·w² + p1·w + p0, from the counts at `SAMPLE_WIDTHS`."""
    counts = [critic_parameter_count(algo, env, width, depth, layer_norm, options) for width in SAMPLE_WIDTHS]
    (w0, w1, w2), (c0, c1, c2) = SAMPLE_WIDTHS, counts
    p2 = ((c2 - c1) / (w2 - w1) - (c1 - c0) / (w1 - w0)) / (w2 - w0)
    p1 = (c1 - c0) / (w1 - w0) - p2 * (w1 + w0)
    return p2, p1, c0 - p2 * w0**2 - p1 * w0


def _continuous_width(coefficients: tuple[float, float, float], model_size: float) -> float:
    p2, p1, p0 = coefficients
    if p2 == 0:
        return (model_size - p0) / p1
    return (-p1 + math.sqrt(max(p1 * p1 - 4 * p2 * (p0 - model_size), 0.0))) / (2 * p2)


def width_for(
    algo: str, env: str, model_size: float, depth: int, layer_norm: bool = False, options: Mapping | None = None
) -> CriticWidth:
    """The width (>= 1) whose critic count is nearest `model_size` (in log) at this depth."""
    width = _continuous_width(_quadratic(algo, env, depth, layer_norm, options), model_size)
    candidates = {max(1, math.floor(width)), max(1, math.ceil(width))}
    counted = {candidate: critic_parameter_count(algo, env, candidate, depth, layer_norm, options) for candidate in candidates}
    best = min(counted, key=lambda candidate: (abs(math.log(counted[candidate] / model_size)), candidate))
    return CriticWidth(best, depth, layer_norm, counted[best])


def infer_network(algo: str, env: str, trained_sizes: Sequence[float], options: Mapping | None = None) -> tuple[int, bool] | None:
    """The first (depth, layer norm) of `NETWORK_CANDIDATES` under which every trained size is the
    critic count of an integer width, or None."""
    for depth, layer_norm in NETWORK_CANDIDATES:
        coefficients = _quadratic(algo, env, depth, layer_norm, options)
        widths = [_continuous_width(coefficients, size) for size in trained_sizes]
        if all(width >= 1 and abs(width - round(width)) < 1e-6 for width in widths):
            if all(
                critic_parameter_count(algo, env, round(width), depth, layer_norm, options) == round(size)
                for width, size in zip(widths, trained_sizes)
            ):
                return depth, layer_norm
    return None


def with_critic_width(recommendation, fit, algo: str | None, hidden_depth: int | None, layer_norm: bool = False):
    """`recommendation` with the hidden width whose critic count is nearest N* (for the fit's agent
    and the recommendation's env; at `hidden_depth` with `layer_norm` when the depth is given, else
    the network inferred from the trained sizes), or with a note saying why none is given."""
    algo = algo or fit.sigma_n.algo
    env = recommendation.env
    if algo is None or env is None:
        missing = "the agent (pass --algo)" if algo is None else "one env (pass --env)"
        return dataclasses.replace(recommendation, notes=recommendation.notes + (f"no hidden width: {missing} is unknown",))
    try:
        options = json.loads(fit.sigma_n.agent_options) if fit.sigma_n.agent_options else {}
        notes = []
        if hidden_depth is not None:
            depth = hidden_depth
        else:
            inferred = infer_network(algo, env, recommendation.trained_model_sizes, options)
            if inferred is None:
                notes.append(
                    f"the trained model sizes are not critic counts of {algo} on {env} at depths 1-6: depth 2 assumed "
                    "(pass --hidden-depth)"
                )
            depth, layer_norm = inferred or DEFAULT_NETWORK
        chosen = width_for(algo, env, recommendation.model_size, depth, layer_norm, options)
    except ValueError as error:
        reason = getattr(error, "short", str(error))
        return dataclasses.replace(recommendation, notes=recommendation.notes + (f"no hidden width: {reason}",))
    notes.append(
        f"hidden width {chosen.hidden_width} at depth {depth}{' with layer norm' if layer_norm else ''}: its {algo} critic on {env} "
        f"has {chosen.model_size} parameters (N* = {recommendation.model_size:.4g})"
    )
    return dataclasses.replace(
        recommendation,
        hidden_width=chosen.hidden_width,
        hidden_depth=depth,
        width_model_size=float(chosen.model_size),
        notes=recommendation.notes + tuple(notes),
    )
