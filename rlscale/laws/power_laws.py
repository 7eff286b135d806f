"""Best hyperparameters per (env, σ) and their shared-exponent power laws in σ.

The laws are B*(σ) = (β_B,env / σ)^α_B and η*(σ) = (β_η,env / σ)^α_η, fitted as ordinary least
squares of log10(best value) = a_env + slope · log10(σ) with one slope shared by all envs and
one intercept per env; α = -slope and β_env = 10^(a_env / α).

The best value per (env, σ) follows the qscaled procedure: for every other-hyperparameter value
(every η when choosing B) and every bootstrap resample, take the value with the smallest time to
the selection threshold, never reached counting as +inf (ties, and a resample where nothing
reaches, go to the smaller value); the best value is the arithmetic mean of those choices. An
(env, σ) where no config ever reaches the threshold keeps those votes for its smallest value, as in
qscaled (`unreached="smallest"`), or is left out of the laws (`unreached="drop"`).

Times are logged on an evaluation grid, so two values often reach the threshold at the same logged
step: a tie. qscaled's argmin gives a tied vote to the smaller value (`tied_votes="smallest"`), which
pulls B* and η* down wherever ties are common (fast crossings on a coarse evaluation grid: high σ);
`tied_votes="split"` shares the vote equally among the tied values. Each group reports the share of
its reached votes that were ties, so a fit can say how much the rule could matter.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rlscale.laws.bootstrap import summarize, summarize_scalar
from rlscale.laws.results import HparamPoint, PowerLaw
from rlscale.laws.table import FitInputError

# Ranking value of a time never reached: above every real time, below "no such config" (+inf).
UNREACHED = np.finfo(float).max
UNREACHED_CELL_RULES = ("smallest", "drop")
"""What an (env, σ) where no config reaches the selection threshold in any resample contributes:
"smallest": its votes, every one for the smallest value present (qscaled); "drop": nothing."""
TIED_VOTE_RULES = ("smallest", "split")
"""A vote whose fastest time several values share: "smallest" gives it to the smallest of them
(qscaled's argmin), "split" gives each an equal share (the vote counts as their mean)."""
# A fitted slope smaller than this is rounding error of a flat law (the same best value at every σ)
# and is returned as exactly 0; real exponents are above 1e-3.
FLAT_SLOPE_TOLERANCE = 1e-10


def bootstrap_best_values(
    configs: pd.DataFrame,
    bootstrap_times: np.ndarray,
    chosen: str,
    other: str,
    group_keys: tuple[str, ...] = ("env", "utd"),
    unreached: str = "smallest",
    tied_votes: str = "smallest",
) -> pd.DataFrame:
    """The bootstrap-averaged best `chosen` hyperparameter per (env, utd), as qscaled computes it
    (per `group_keys`: with ("env", "utd", "model_size"), per (env, σ, N) as the (σ, N) laws need).

    For every value of `other` present at (env, utd) and every resample, the vote is the `chosen`
    value with the smallest time among the configs present with that `other` value; a time never
    reached counts as +inf and ties go to the smaller value, so a resample in which no `chosen`
    value reaches the threshold votes for the smallest one present (qscaled's `np.argmin` over
    times with NaN replaced by +inf, `core/grid_search/bootstrapping.py`). The best value is the
    arithmetic mean of all votes.

    Args:
        configs: one row per config (C rows) with `env`, `utd`, `chosen`, `other` columns.
        bootstrap_times: shape (R, C): time to the selection threshold per resample and config
            (+inf: never reached).
        chosen: the hyperparameter to choose (`batch_size` or `learning_rate`).
        other: the hyperparameter to average over.
        group_keys: the columns of a group (default one per (env, utd)).
        unreached: one of `UNREACHED_CELL_RULES`, for groups where no config reaches the
            threshold in any resample: "smallest" keeps their votes (all for the smallest value,
            as qscaled's argmin gives), "drop" leaves them out.
        tied_votes: one of `TIED_VOTE_RULES`, for a vote whose fastest reached time several values
            share (a vote where nothing reaches goes to the smallest value under both).

    Returns:
        One row per group (columns `group_keys`, numeric keys as floats) with `value` (mean of the
        votes over all `other` values and resamples), `per_resample` (shape (R,) array: the mean
        of each resample's votes), `reached_votes` (votes whose fastest time was reached) and
        `tied_votes` (those of them shared by several values).
    """
    rows = []
    n_resamples = bootstrap_times.shape[0]
    for group_labels, group in configs.groupby(list(group_keys), sort=True):
        group_times = bootstrap_times[:, group.index.to_numpy()]
        if unreached == "drop" and not np.isfinite(group_times).any():
            continue
        chosen_values = np.sort(group[chosen].unique())
        other_values = np.sort(group[other].unique())
        chosen_index = np.searchsorted(chosen_values, group[chosen].to_numpy())
        other_index = np.searchsorted(other_values, group[other].to_numpy())
        # Ranking key per (resample, chosen, other): the time where reached, UNREACHED (above every
        # time) where never reached, +inf where the grid has no such config, so argmin takes the
        # fastest present value, and the smallest present one when none reaches.
        keys = np.full((n_resamples, len(chosen_values), len(other_values)), np.inf)
        keys[:, chosen_index, other_index] = np.where(np.isfinite(group_times), group_times, UNREACHED)
        present = np.zeros((len(chosen_values), len(other_values)), dtype=bool)
        present[chosen_index, other_index] = True
        keys = keys[:, :, present.any(axis=0)]
        fastest = keys.min(axis=1, keepdims=True)
        at_fastest = keys == fastest
        reached = fastest[:, 0, :] < UNREACHED
        tied = reached & (at_fastest.sum(axis=1) > 1)
        votes = chosen_values[np.argmin(keys, axis=1)]
        if tied_votes == "split":
            shared = (chosen_values[None, :, None] * at_fastest).sum(axis=1) / at_fastest.sum(axis=1)
            votes = np.where(tied, shared, votes)
        labels = {key: value if key == "env" else float(value) for key, value in zip(group_keys, group_labels)}
        rows.append(
            {
                **labels, "value": float(votes.mean()), "per_resample": votes.mean(axis=1),
                "reached_votes": int(reached.sum()), "tied_votes": int(tied.sum()),
            }
        )
    return pd.DataFrame(rows, columns=[*group_keys, "value", "per_resample", "reached_votes", "tied_votes"])


def fit_shared_slope(envs: np.ndarray, sigmas: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """OLS of log10(values) on log10(σ) with one shared slope and one intercept per env.

    Args:
        envs: shape (n,), env label per point.
        sigmas: shape (n,), σ per point.
        values: shape (n,) or (n, K): positive values; K columns are fitted independently
            (a column with NaNs is fitted on its finite points only).

    Returns:
        (slopes, intercepts): shapes (K,) and (K, E) with E = number of distinct envs in sorted
        order; NaN where a column has too few points to identify the fit. A slope within
        FLAT_SLOPE_TOLERANCE of 0 is exactly 0, so a flat law does not take the sign of the
        least-squares rounding (which differs between CPUs).
    """
    values = np.asarray(values, dtype=float)
    single = values.ndim == 1
    targets = np.log10(values[:, None] if single else values)
    env_names, env_index = np.unique(envs, return_inverse=True)
    design = np.zeros((len(envs), len(env_names) + 1))
    design[np.arange(len(envs)), env_index] = 1.0
    design[:, -1] = np.log10(sigmas)
    n_columns = targets.shape[1]
    slopes = np.full(n_columns, np.nan)
    intercepts = np.full((n_columns, len(env_names)), np.nan)
    complete = np.isfinite(targets).all(axis=0)
    if complete.any() and np.linalg.matrix_rank(design) == design.shape[1]:
        solution = np.linalg.lstsq(design, targets[:, complete], rcond=None)[0]
        slopes[complete] = solution[-1]
        intercepts[complete] = solution[:-1].T
    for column in np.flatnonzero(~complete):
        usable = np.isfinite(targets[:, column])
        sub_design = design[usable]
        present = sub_design[:, :-1].any(axis=0)
        sub_design = sub_design[:, np.r_[present, True]]
        if usable.sum() > sub_design.shape[1] - 1 and np.linalg.matrix_rank(sub_design) == sub_design.shape[1]:
            solution = np.linalg.lstsq(sub_design, targets[usable, column], rcond=None)[0]
            slopes[column] = solution[-1]
            intercepts[column, present] = solution[:-1]
    slopes[np.abs(slopes) < FLAT_SLOPE_TOLERANCE] = 0.0
    return slopes, intercepts


def _beta(intercepts: np.ndarray, alpha: np.ndarray | float) -> np.ndarray:
    """β = 10^(a / α) of the law's intercepts a (broadcast against α); NaN where α = 0, where a
    flat law leaves β unidentified."""
    alpha = np.asarray(alpha, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return np.where(alpha == 0.0, np.nan, 10.0 ** (intercepts / alpha))


def fit_hparam_law(best: pd.DataFrame, hyperparameter: str) -> PowerLaw:
    """Fit the shared-exponent law to `bootstrap_best_values` output, with bootstrap intervals.

    β is not identified where α = 0 (a flat law: every β gives the same value 10^a_env), so a
    flat resample's β is NaN and left out of β's median and interval.

    Raises:
        FitInputError: fewer than two distinct σ with a best value, or a degenerate fit.
    """
    if best.empty or best["utd"].nunique() < 2:
        raise FitInputError(
            f"cannot fit the {hyperparameter} law: fewer than two distinct σ have any config reaching the "
            "selection threshold"
        )
    envs = best["env"].to_numpy()
    sigmas = best["utd"].to_numpy(dtype=float)
    slope, intercepts = fit_shared_slope(envs, sigmas, best["value"].to_numpy())
    if not np.isfinite(slope[0]):
        raise FitInputError(f"cannot fit the {hyperparameter} law: the shared-slope least squares is degenerate")
    per_resample = np.stack(best["per_resample"].to_list(), axis=0)
    boot_slopes, boot_intercepts = fit_shared_slope(envs, sigmas, per_resample)
    env_names = np.unique(envs)
    alpha = -float(slope[0])
    boot_alpha = -boot_slopes
    boot_beta = _beta(boot_intercepts, boot_alpha[:, None])
    alpha_median, alpha_low, alpha_high = summarize_scalar(boot_alpha)
    beta_median, beta_low, beta_high = summarize(boot_beta, axis=0)
    beta = {str(env): float(value) for env, value in zip(env_names, _beta(intercepts[0], alpha))}
    points = []
    for _, row in best.iterrows():
        _, low, high = summarize_scalar(row["per_resample"])
        points.append(HparamPoint(env=str(row["env"]), utd=float(row["utd"]), value=float(row["value"]), ci=(low, high)))
    return PowerLaw(
        hyperparameter=hyperparameter,
        alpha=alpha,
        beta=beta,
        intercept={str(env): float(intercepts[0, index]) for index, env in enumerate(env_names)},
        alpha_median=alpha_median,
        alpha_ci=(alpha_low, alpha_high),
        beta_median={str(env): float(beta_median[index]) for index, env in enumerate(env_names)},
        beta_ci={str(env): (float(beta_low[index]), float(beta_high[index])) for index, env in enumerate(env_names)},
        points=tuple(points),
    )


def round_batch_size(batch_size: float, multiple: int = 16) -> int:
    """A law's continuous batch size rounded to the nearest positive multiple of `multiple`
    (use multiple=1 for the nearest integer)."""
    return int(max(multiple, multiple * round(float(batch_size) / multiple)))
