"""Stage 2 of the protocol: the configs to run at more σ, from a grid fit's laws.

At every requested σ: B*(σ) from the batch-size law rounded to a multiple of 16
(`round_batch_size`, as the paper's runs) and η*(σ) from the learning-rate law (4 significant
digits), both for the chosen env; optionally the baseline, the grid's fastest config at
σ = `baseline_utd` (at the selection threshold) run unchanged at every σ (the paper's "σ = 2
baseline"). Env steps per σ are sized from the grid fit's data law at threshold J (default: the
highest fitted J with a law for the env, else the pooled law): `margin` × the upper end of the
interval of D_J(σ) over the bootstrap-refitted laws.
"""

from __future__ import annotations

import math

from rlscale.laws.power_laws import round_batch_size
from rlscale.laws.results import POOLED_SCOPE, BaselineConfig, FitResult, Proposal, ProposedConfig, fastest_config
from rlscale.laws.table import FitInputError

DEFAULT_ENV_STEPS_MARGIN = 1.5
LEARNING_RATE_DIGITS = 4


def propose_stage2(
    fit: FitResult,
    utds: list[float],
    env: str | None = None,
    baseline_utd: float | None = None,
    threshold: float | None = None,
    margin: float = DEFAULT_ENV_STEPS_MARGIN,
) -> Proposal:
    """The stage-2 configs for `env` of `fit` at every σ of `utds` (see the module docstring).

    Raises:
        FitInputError: no or unknown env for a multi-env fit, no σ or one <= 0 (the sweep's upper
            bound, `rlscale.config.MAX_UTD`, is its callers' to check), a margin <= 0,
            a baseline σ where no grid config reaches the selection threshold, or no data law to
            size the env steps with.
    """
    envs = list(fit.batch_size_law.intercept)
    if env is None:
        if len(envs) != 1:
            raise FitInputError(f"the fit has {len(envs)} envs ({', '.join(envs)}): choose one with --env (one sweep per env)")
        env = envs[0]
    if env not in envs or env not in fit.learning_rate_law.intercept:
        raise FitInputError(f"env {env!r} has no B*(σ)/η*(σ) law in the fit; its envs are {envs}")
    if not utds or not all(utd > 0 for utd in utds):
        raise FitInputError(f"stage 2 needs positive σ, got {list(utds)}")
    if not margin > 0:
        raise FitInputError(f"the env-steps margin must be positive, got {margin}")
    scope, law = _sizing_law(fit, env, threshold)
    notes = []
    outside = [utd for utd in utds if not min(fit.utds) <= utd <= max(fit.utds)]
    if outside:
        notes.append(
            f"σ = {', '.join(f'{utd:g}' for utd in outside)} outside the grid's [{min(fit.utds):g}, {max(fit.utds):g}]: "
            "B*, η* and the env steps there are extrapolated"
        )
    if scope == POOLED_SCOPE:
        notes.append(f"env steps sized with the pooled data law (env '{env}' has none at J={law.threshold:g})")
    baseline = _baseline(fit, env, baseline_utd) if baseline_utd is not None else None
    configs = []
    for utd in sorted(set(float(value) for value in utds)):
        low, high = law.predict_interval(utd, fit.interval)
        upper = high if math.isfinite(high) else float(law.predict(utd))
        needed = margin * max(upper, float(law.predict(utd)))
        continuous = float(fit.batch_size_law.predict(env, utd))
        rate = float(f"{float(fit.learning_rate_law.predict(env, utd)):.{LEARNING_RATE_DIGITS}g}")
        ours = ProposedConfig(utd, round_batch_size(continuous), rate, "law", continuous, needed)
        configs.append(ours)
        if baseline is not None and (baseline.batch_size, baseline.learning_rate) != (ours.batch_size, ours.learning_rate):
            configs.append(
                ProposedConfig(utd, baseline.batch_size, baseline.learning_rate, "baseline", float(baseline.batch_size), needed)
            )
    return Proposal(
        env=env,
        threshold=law.threshold,
        sizing_scope=scope,
        env_steps_margin=margin,
        configs=tuple(configs),
        baseline=baseline,
        notes=tuple(notes),
    )


def _sizing_law(fit: FitResult, env: str, threshold: float | None):
    """(scope, data law) that sizes the env steps: the env's law at J, else the pooled one."""
    thresholds = sorted(fit.thresholds) if threshold is None else [float(threshold)]
    for scope in (env, POOLED_SCOPE):
        for value in reversed(thresholds):
            law = fit.data_law_for(value, scope)
            if law is not None:
                return scope, law
    fitted = sorted({law.threshold for law in fit.data_law})
    raise FitInputError(
        f"no data law for env {env!r} (or pooled) at J={thresholds} to size the env steps with "
        f"(fitted thresholds: {fitted}); pass --env-steps"
    )


def _baseline(fit: FitResult, env: str, baseline_utd: float) -> BaselineConfig:
    baseline = fastest_config(fit.best_hparams, env, baseline_utd, fit.selection_threshold)
    if baseline is not None:
        return baseline
    available = sorted({item.utd for item in fit.best_hparams if item.env == env and math.isclose(item.threshold, fit.selection_threshold)})
    raise FitInputError(
        f"no grid config of env {env!r} at σ={baseline_utd:g} reaches the selection threshold "
        f"{fit.selection_threshold:g}; --baseline-utd must be one of {available}"
    )
