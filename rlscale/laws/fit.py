"""`fit_laws`: the paper's protocol from a long-form table to every law, as typed results.

Steps (Rybkin et al. 2025, Sections 4–5 and App. D): normalize returns per env, drop post-reset dips,
time to threshold per config with a bootstrap over seeds, then

- **stage "grid"** (one table did everything): the bootstrap-averaged best (B, η) per (env, σ) and
  their shared-exponent laws B*(σ), η*(σ) (qscaled's procedure, `power_laws.py`);
- **stage "hparam_laws"** (`FitOptions.hparam_laws`: runs at the hyperparameters a grid fit
  proposed): B*(σ), η*(σ) taken from that grid fit;

and in both the data law D_J(σ) per env and pooled over envs (App. D, `pooling.py`) from the config
nearest B*(σ), η*(σ) at each (env, σ) (or the grid's fastest, `data_points="minimum"`), the
baseline's data law when asked for, compute C_J(σ) = 10·N·B*(σ)·σ·D_J(σ) with B* pooled by the
arithmetic mean over envs, the data–compute frontier, and the budget law σ*(F) with its largest
budgets held out. Everything is deterministic given `FitOptions.seed`.

Every default is the paper's or its code's (qscaled) unless README's "Defaults and the paper" says why
not; `notes` name each choice that changes a fitted number.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from rlscale.laws.bootstrap import summarize, summarize_scalar
from rlscale.laws.budget import DENSE_GRID_POINTS, budget_optima, fit_budget_law, resampled_budget_laws, undetermined_exponent_reason
from rlscale.laws.crossings import INTERPOLATED, ConfigCurves, ThresholdTimes, build_config_curves, times_to_threshold
from rlscale.laws.data_law import LOSSES, fit_data_law, fit_data_law_resamples
from rlscale.laws.frontier import compute_flops, pareto_mask
from rlscale.laws.grid_edges import edge_report
from rlscale.laws.horizon import crossing_dependence, truncated_table
from rlscale.laws.model_size import split_from_fits
from rlscale.laws.points import config_points
from rlscale.laws.pooling import pool_env_times
from rlscale.laws.power_laws import UNREACHED_CELL_RULES, bootstrap_best_values, fit_hparam_law
from rlscale.laws.results import (
    POOLED_SCOPE,
    SigmaNFit,
    BaselineConfig,
    BestHparams,
    BudgetLaw,
    CensoredConfig,
    DataLawFit,
    DataPoint,
    FitResult,
    FrontierCurve,
    HorizonCut,
    HorizonSensitivity,
    PowerLaw,
    ResetSchedule,
    VoteTies,
    fastest_config,
    tie_shares,
    tie_summary,
)
from rlscale.laws.options import LOWEST_THRESHOLD_FRACTION, RETURN_SCALE, FitOptions
from rlscale.laws.sigma_n import GROUP_KEYS, fit_sigma_n, sigma_n_delta
from rlscale.laws.table import CONFIG_KEYS, FitInputError, normalize_returns, validate_table

# Paper defaults per suite: (N = agent parameter count, δ = FLOPs per environment step).
SUITE_COMPUTE_DEFAULTS: dict[str, tuple[float, float]] = {"gym": (1.5e5, 4e9), "dmc": (4.92e6, 1e10)}
# When no δ is known for the suite, δ defaults to the Gym ratio δ/N = 4e9 / 1.5e5 times N.
DEFAULT_DELTA_PER_PARAMETER = 4e9 / 1.5e5
PAPER_GRID_THRESHOLDS = (100.0, 200.0, 300.0, 400.0, 500.0, 600.0, 700.0, 800.0)
"""qscaled's thresholds (`utils/configs.py`); its grid stage chooses the best (B, η) at the last, 800."""
PAPER_LOWEST_THRESHOLDS: dict[str, float] = {"dmc": 200.0, "gym": 300.0}
"""The lowest of the paper's fitted-stage thresholds per suite (qscaled `experiments/2_fitted/*_explore.ipynb`:
`1000 − logspace(log10(1000 − J_low), log10(1000 − 800), 10)`)."""
TIE_NOTE_SHARE = 0.1
"""A grid fit notes its tied votes when at least this share of B* or η* votes were ties."""
HPARAM_MATCH_FACTOR = 1.25
"""A stage-2 run whose B or η is off its law's value by more than this factor gets a note."""
TIME_TO_THRESHOLD_OPTIONS = ("crossing", "running_max")
"""The options that decide how a config's times to threshold are read off its curves (a stage-2 fit
names those that differ from its grid fit's)."""


def fit_laws(table: pd.DataFrame, options: FitOptions | None = None) -> FitResult:
    """Fit every law of the paper to a long-form table (see SCHEMA.md for its columns).

    With several distinct `model_size` values (and no `options.model_size`), the laws are fitted per
    model size: the top-level fields describe the largest model, `by_model_size` holds every
    size's own `FitResult`, keyed by the size as a string, and `model_size_split` the
    budget-optimal (N, σ) per threshold (with the largest model's δ for every size); `sigma_n`
    holds the joint (σ, N) laws and the compute-optimal allocation over (σ, N)
    (`rlscale/laws/sigma_n.py`; a table they cannot be fitted to gives a note instead).

    Raises:
        FitInputError: the table or options cannot be fitted; the message names the problem.
    """
    options = options or FitOptions()
    clean = _select_envs(validate_table(table), options.envs)
    sizes = (
        np.sort(clean["model_size"].dropna().unique())
        if "model_size" in clean.columns and options.model_size is None
        else np.array([])
    )
    if len(sizes) > 1:
        if clean["model_size"].isna().any():
            raise FitInputError("column 'model_size' is missing for some rows while the table has several model sizes")
        per_size = {}
        for size in sizes:
            try:
                per_size[_size_key(size)] = _fit_one_model_size(clean[clean["model_size"] == size], options)
            except FitInputError as error:
                raise FitInputError(f"model_size={_size_key(size)}: {error}") from None
        largest = per_size[_size_key(sizes[-1])]
        split = split_from_fits(per_size, largest.delta, options.sigma_grid_extension, options.budget_grid_points)
        sigma_n, sigma_n_notes = _fit_sigma_n(table, clean, options, largest.delta)
        return dataclasses.replace(
            largest,
            by_model_size=per_size,
            model_size_split=tuple(split),
            sigma_n=sigma_n,
            notes=largest.notes + tuple(sigma_n_notes),
        )
    return _fit_one_model_size(clean, options)


def _fit_sigma_n(table: pd.DataFrame, clean: pd.DataFrame, options: FitOptions, fit_delta: float | None) -> tuple[SigmaNFit, list[str]]:
    """The joint (σ, N) laws of a table with several model sizes (`rlscale/laws/sigma_n.py`), with
    their own thresholds (every (env, σ, N) must reach the selection threshold); a table they cannot
    be fitted to gives empty laws and a note."""
    normalized, _ = normalize_returns(clean, options.normalization)
    curves = build_config_curves(normalized, (*CONFIG_KEYS, "model_size"), resets=options.resets, running_max=options.running_max)
    try:
        thresholds, selection, threshold_notes = _choose_thresholds(curves, options, GROUP_KEYS)
        times = times_to_threshold(curves, thresholds, options.n_bootstrap, np.random.default_rng(options.seed), options.crossing)
        delta, delta_source = sigma_n_delta(sorted(clean["suite"].unique()), options.delta, fit_delta)
        fit, notes = fit_sigma_n(curves.configs, times, selection, options, delta, *_single_values(table, ("algo", "agent_options")))
    except FitInputError as error:
        return SigmaNFit(), [f"(σ, N) laws not fitted: {error}"]
    notes = [f"(σ, N) laws: {note}" for note in threshold_notes] + notes
    notes.append(f"(σ, N) allocation: δ={delta:g} FLOPs per env step, {delta_source}; N is the model_size column (critic parameters)")
    if options.hparam_laws is not None:
        notes.append("(σ, N) laws: B*(σ, N) and η*(σ, N) are fitted from this table (the given hparam laws are σ-only)")
    return fit, notes


def _single_values(table: pd.DataFrame, columns: tuple[str, ...]) -> list[str | None]:
    """Per column, its single value as a string (None when absent or not single)."""
    values = []
    for column in columns:
        distinct = table[column].dropna().unique() if column in table.columns else []
        values.append(str(distinct[0]) if len(distinct) == 1 else None)
    return values


def _select_envs(table: pd.DataFrame, envs: tuple[str, ...] | None) -> pd.DataFrame:
    """The rows of `envs` (all rows when None); FitInputError naming the table's envs when one of
    `envs` has no row."""
    if envs is None:
        return table
    names = table["env"].astype(str)
    present = set(names)
    missing = [env for env in envs if env not in present]
    if missing:
        raise FitInputError(f"envs {missing} have no rows; the table's envs are {sorted(present)}")
    selected = table[names.isin(envs)].copy()
    if isinstance(selected["env"].dtype, pd.CategoricalDtype):
        selected["env"] = selected["env"].cat.remove_unused_categories()
    return selected


def _size_key(size: float) -> str:
    return str(int(size)) if float(size).is_integer() else repr(float(size))


def _choose_thresholds(
    curves: ConfigCurves, options: FitOptions, group_keys: tuple[str, ...] = ("env", "utd")
) -> tuple[np.ndarray, float, list[str]]:
    """Thresholds (ascending, shape (J,)) and the selection threshold, with notes on defaults; the
    reachable level is the lowest over the `group_keys` groups of their best config's."""
    notes = []
    final = pd.Series(curves.final_mean_return())
    configs = curves.configs
    reachable_per_group = final.groupby([configs[key] for key in group_keys]).max()
    reachable = float(reachable_per_group.min())
    worst_env, worst_utd = reachable_per_group.idxmin()[:2]
    if options.selection_threshold is not None:
        selection = float(options.selection_threshold)
    elif options.thresholds is not None:
        candidates = [threshold for threshold in sorted(options.thresholds) if threshold <= reachable]
        if not candidates:
            raise FitInputError(
                f"no threshold in {sorted(options.thresholds)} is reached by any config of env '{worst_env}' at "
                f"σ={worst_utd} (its best seed-mean normalized return is {reachable:.1f}); lower the thresholds"
            )
        selection = float(candidates[-1])
        notes.append(f"selection threshold defaulted to {selection}, the highest threshold every (env, σ) reaches")
    else:
        candidates = [threshold for threshold in PAPER_GRID_THRESHOLDS if threshold <= reachable]
        if not candidates:
            raise FitInputError(
                f"no config of env '{worst_env}' at σ={worst_utd} reaches a normalized return of "
                f"{PAPER_GRID_THRESHOLDS[0]:.0f} (its best seed-mean normalized return is {reachable:.1f}), so no "
                "threshold is reached by every (env, σ); check the return normalization or pass --selection-threshold"
            )
        selection = candidates[-1]
        notes.append(
            f"selection threshold defaulted to {selection:g}, the highest of qscaled's thresholds "
            f"{PAPER_GRID_THRESHOLDS[0]:g}, {PAPER_GRID_THRESHOLDS[1]:g}, …, {PAPER_GRID_THRESHOLDS[-1]:g} every (env, σ) "
            f"reaches (the paper selects at {PAPER_GRID_THRESHOLDS[-1]:g})"
        )
    if options.thresholds is None:
        thresholds, note = _default_thresholds(sorted(configs["suite"].unique()), selection, options)
        notes.append(note)
    else:
        thresholds = np.asarray(sorted(set(map(float, options.thresholds)) | {selection}))
    return np.unique(np.round(thresholds, 6)), selection, notes


def _default_thresholds(suites: list[str], selection: float, options: FitOptions) -> tuple[np.ndarray, str]:
    """The paper's fitted-stage thresholds up to `selection`: `options.n_default_thresholds` values
    1000 − logspace(log10(1000 − J_low), log10(1000 − selection), n) (shape (n,) with `selection`
    added), and a note naming J_low's source."""
    if not selection < RETURN_SCALE:
        raise FitInputError(
            f"the default thresholds 1000 − logspace(…) need a selection threshold below {RETURN_SCALE:g}, got "
            f"{selection:g}; pass --thresholds"
        )
    paper_lowest = PAPER_LOWEST_THRESHOLDS.get(suites[0]) if len(suites) == 1 else None
    if options.lowest_threshold is not None:
        lowest, source = float(options.lowest_threshold), "lowest_threshold"
    elif paper_lowest is not None and paper_lowest < selection:
        lowest, source = paper_lowest, f"the paper's lowest for suite '{suites[0]}'"
    else:
        lowest = LOWEST_THRESHOLD_FRACTION * selection
        source = f"{LOWEST_THRESHOLD_FRACTION:g} × the selection threshold, the paper's DMC ratio 200 / 800 (no paper value)"
    if not lowest < selection:
        raise FitInputError(f"lowest_threshold {lowest:g} must be below the selection threshold {selection:g}")
    count = options.n_default_thresholds
    gaps = np.geomspace(RETURN_SCALE - lowest, RETURN_SCALE - selection, count)
    note = (
        f"thresholds defaulted to the paper's rule, {count} values 1000 − logspace(log10 {RETURN_SCALE - lowest:g}, "
        f"log10 {RETURN_SCALE - selection:g}, {count}): J = {lowest:g} … {selection:g} (J_low: {source})"
    )
    return np.union1d(RETURN_SCALE - gaps, [selection]), note


def _fit_one_model_size(clean: pd.DataFrame, options: FitOptions) -> FitResult:
    normalized, bounds = normalize_returns(clean, options.normalization)
    curves = build_config_curves(normalized, resets=options.resets, running_max=options.running_max)
    configs = curves.configs
    thresholds, selection, notes = _choose_thresholds(curves, options)
    rng = np.random.default_rng(options.seed)
    times = times_to_threshold(curves, thresholds, options.n_bootstrap, rng, options.crossing)
    if not np.isfinite(times.point).any():
        raise FitInputError(
            f"no config's seed-mean curve reaches any threshold (thresholds {thresholds.tolist()}; the best "
            f"seed-mean normalized return is {np.max(curves.final_mean_return()):.1f})"
        )
    selection_index = int(np.flatnonzero(np.isclose(thresholds, selection))[0])
    notes += _reset_notes(configs, options.resets)
    if options.crossing == INTERPOLATED:
        notes.append(_INTERPOLATED_NOTE)
    if options.running_max:
        notes.append(_RUNNING_MAX_NOTE)
    best_hparams = _best_hparams(configs, times, options)
    if options.hparam_laws is None:
        if not np.isfinite(times.point[:, selection_index]).any():
            raise FitInputError(f"no config reaches the selection threshold {selection}")
        batch_size_law, learning_rate_law, law_notes, vote_ties = _grid_laws(
            configs, times.bootstrap[:, :, selection_index], selection, options
        )
        stage, data_points, baseline_source = "grid", options.data_points, (best_hparams, selection)
        grid_edges = edge_report(configs, times)
        if not grid_edges.bracketed:
            law_notes.append(
                f"grid edges: {grid_edges.summary()}; where the fastest value sits on an edge it is a bound, not the optimum, "
                "and B*(σ), η*(σ) measure the grid: extend the grid beyond those edges (rlscale study does it itself, "
                "[grid_extension])"
            )
    else:
        batch_size_law, learning_rate_law, law_notes = _laws_of(options.hparam_laws, configs)
        differing = [
            f"{name}={getattr(options.hparam_laws, name)!r} there, {getattr(options, name)!r} here"
            for name in TIME_TO_THRESHOLD_OPTIONS
            if getattr(options.hparam_laws, name) != getattr(options, name)
        ]
        if differing:
            law_notes.append(
                f"the grid fit's B*(σ), η*(σ) were found with other times to threshold ({'; '.join(differing)}): fit both "
                "the same way to compare them on equal terms"
            )
        stage, data_points, grid_edges, vote_ties = "hparam_laws", "law", None, ()
        baseline_source = (options.hparam_laws.best_hparams, options.hparam_laws.selection_threshold)
    notes += law_notes
    chosen, point_notes = (
        _nearest_law_configs(configs, batch_size_law, learning_rate_law, stage)
        if data_points == "law"
        else (None, [_MINIMUM_NOTE])
    )
    notes += point_notes
    data_laws, data_notes = _fit_data_laws(configs, times, chosen, options, "data law")
    notes += data_notes + _data_law_loss_notes(options.data_law_loss)
    baseline, baseline_laws = (), ()
    if options.baseline_utd is not None:
        baseline, baseline_chosen, baseline_notes = _baseline_configs(configs, *baseline_source, options.baseline_utd)
        baseline_laws, baseline_data_notes = _fit_data_laws(configs, times, baseline_chosen, options, "baseline data law")
        notes += baseline_notes + baseline_data_notes
    model_size, delta, size_notes = _compute_constants(clean, options)
    notes += size_notes
    frontier, budget_law, budget_per_env, budget_notes = _frontier_and_budget(
        data_laws, batch_size_law, configs, model_size, delta, options
    )
    notes += budget_notes
    diverged = configs["diverged_at_env_step"].notna()
    if diverged.any():
        notes.append(f"{int(diverged.sum())} config(s) diverged; their curves stop before the divergence step")
    return FitResult(
        thresholds=tuple(float(value) for value in thresholds),
        selection_threshold=float(selection),
        n_bootstrap=options.n_bootstrap,
        seed=options.seed,
        interval=tuple(options.interval),
        normalization=bounds,
        n_rows=len(clean),
        n_configs=len(configs),
        envs=tuple(sorted(configs["env"].unique())),
        utds=tuple(float(value) for value in sorted(configs["utd"].unique())),
        censored=_censored(configs, times),
        best_hparams=best_hparams,
        batch_size_law=batch_size_law,
        learning_rate_law=learning_rate_law,
        data_law=tuple(data_laws),
        model_size=model_size,
        delta=delta,
        frontier=tuple(frontier),
        budget_law=budget_law,
        budget_law_per_env=tuple(budget_per_env),
        notes=tuple(notes),
        stage=stage,
        data_points=data_points,
        data_law_loss=options.data_law_loss,
        baseline=baseline,
        baseline_data_law=tuple(baseline_laws),
        resets=options.resets,
        unreached_cells=options.unreached_cells,
        sigma_grid_extension=options.sigma_grid_extension,
        budget_grid_points=options.budget_grid_points,
        grid_edges=grid_edges,
        tied_votes=options.tied_votes,
        crossing=options.crossing,
        running_max=options.running_max,
        vote_ties=vote_ties,
        horizon=_horizon(clean, curves, times.point[:, selection_index], selection, thresholds, stage, options),
    )


def _horizon(
    clean: pd.DataFrame,
    curves: ConfigCurves,
    selection_times: np.ndarray,
    selection: float,
    thresholds: np.ndarray,
    stage: str,
    options: FitOptions,
) -> HorizonSensitivity:
    """How the selection threshold's crossings (`selection_times`, shape (C,)) depend on later data,
    and, for a grid with `options.horizon_cuts`, the hyperparameter laws refitted on truncated rows at
    the same thresholds (rlscale/laws/horizon.py)."""
    cuts = []
    if stage == "grid":
        for fraction in options.horizon_cuts:
            table, env_steps = truncated_table(clean, fraction)
            cut_options = dataclasses.replace(
                options, thresholds=tuple(thresholds), selection_threshold=selection, horizon_cuts=(), envs=None
            )
            try:
                fit = _fit_one_model_size(table, cut_options)
            except FitInputError as error:
                cuts.append(HorizonCut(float(fraction), env_steps, error=str(error)))
                continue
            cuts.append(
                HorizonCut(
                    float(fraction),
                    env_steps,
                    batch_size_alpha=fit.batch_size_law.alpha,
                    batch_size_alpha_ci=fit.batch_size_law.alpha_ci,
                    learning_rate_alpha=fit.learning_rate_law.alpha,
                    learning_rate_alpha_ci=fit.learning_rate_law.alpha_ci,
                    inside_share=fit.grid_edges.inside_share,
                )
            )
    return HorizonSensitivity(
        full_env_steps=int(clean["env_step"].max()),
        crossing=crossing_dependence(curves, selection_times, selection, options.crossing),
        cuts=tuple(cuts),
    )


_INTERPOLATED_NOTE = (
    "times to threshold interpolated linearly between the logged env steps around each crossing (crossing="
    "'interpolated'; the paper takes the first logged step at or above J)"
)
_RUNNING_MAX_NOTE = (
    "each seed's returns replaced by their running maximum before the seed mean (running_max; the authors' DMC sweep "
    "is shipped in that form, qscaled takes the returns as logged)"
)
_MINIMUM_NOTE = (
    "D_J points: at each (env, σ) the fastest config of the grid (minimum over (B, η) of the seed-mean time; "
    "a minimum over noisy times is biased low, the more so the bigger the grid)"
)


def _grid_laws(
    configs: pd.DataFrame, selection_times: np.ndarray, selection: float, options: FitOptions
) -> tuple[PowerLaw, PowerLaw, list[str], tuple[VoteTies, ...]]:
    """B*(σ) and η*(σ) fitted to the table's own grid (stage 1), with notes on the (env, σ) where no
    config reaches the selection threshold (see `FitOptions.unreached_cells`) and on tied votes, and
    the tie counts per (env, σ)."""
    laws, vote_ties = [], []
    for chosen, other in (("batch_size", "learning_rate"), ("learning_rate", "batch_size")):
        best = bootstrap_best_values(configs, selection_times, chosen, other, unreached=options.unreached_cells, tied_votes=options.tied_votes)
        laws.append(fit_hparam_law(best, chosen))
        vote_ties += [
            VoteTies(str(row.env), float(row.utd), chosen, int(row.reached_votes), int(row.tied_votes)) for row in best.itertuples()
        ]
    notes = _unreached_cell_notes(configs, selection_times, selection, options.unreached_cells)
    return laws[0], laws[1], notes + _tie_notes(vote_ties, selection, options.tied_votes), tuple(vote_ties)


def _tie_notes(vote_ties: list[VoteTies], selection: float, rule: str) -> list[str]:
    """A note when at least TIE_NOTE_SHARE of either law's reached votes were ties; [] otherwise."""
    if max(tie_shares(vote_ties).values(), default=0.0) < TIE_NOTE_SHARE:
        return []
    advice = (
        "qscaled's argmin, which pulls the best values down where ties are common; tied_votes='split' shares them"
        if rule == "smallest"
        else "tied_votes='split'; qscaled gives each to the smallest"
    )
    return [f"{tie_summary(vote_ties, rule)} at J={selection:g}: several values reached J at the same env step ({advice}; per σ: fit.json vote_ties)"]


def _unreached_cell_notes(configs: pd.DataFrame, selection_times: np.ndarray, selection: float, unreached: str) -> list[str]:
    """A note naming the (env, σ) where no config reaches `selection` in any resample (selection_times:
    (R, C)) and what the hyperparameter laws took from them; [] when there is none."""
    never = [
        f"{env} σ={utd:g}"
        for (env, utd), group in configs.groupby(["env", "utd"], sort=True)
        if not np.isfinite(selection_times[:, group.index.to_numpy()]).any()
    ]
    if not never:
        return []
    if unreached == "smallest":
        return [
            f"no config reaches the selection threshold {selection:g} at {', '.join(never)}: their votes go to the "
            "smallest B and η present (qscaled's; unreached_cells='drop' leaves them out of the hyperparameter laws)"
        ]
    return [
        f"no config reaches the selection threshold {selection:g} at {', '.join(never)}: left out of the hyperparameter "
        "laws (unreached_cells='drop'; qscaled keeps them, voting for the smallest B and η)"
    ]


def _laws_of(grid: FitResult, configs: pd.DataFrame) -> tuple[PowerLaw, PowerLaw, list[str]]:
    """B*(σ) and η*(σ) of a grid fit, for stage-2 runs (every env of the runs must have them)."""
    envs = sorted(configs["env"].unique())
    missing = [env for env in envs if env not in grid.batch_size_law.intercept or env not in grid.learning_rate_law.intercept]
    if missing:
        raise FitInputError(
            f"env(s) {', '.join(missing)} of the runs have no B*(σ)/η*(σ) law in the grid fit given as hparam laws "
            f"(its envs: {', '.join(sorted(grid.batch_size_law.intercept))})"
        )
    note = (
        f"stage 2: B*(σ) and η*(σ) from the grid fit (selection threshold {grid.selection_threshold:g}, "
        f"α_B = {grid.batch_size_law.alpha:.4g}, α_η = {grid.learning_rate_law.alpha:.4g}), not refitted; "
        "B* pooled over this table's envs"
    )
    return _restricted(grid.batch_size_law, envs), _restricted(grid.learning_rate_law, envs), [note]


def _restricted(law: PowerLaw, envs: list[str]) -> PowerLaw:
    """`law` with only the envs `envs` (so its pooled scope averages over them)."""
    return dataclasses.replace(
        law,
        beta={env: law.beta[env] for env in envs},
        intercept={env: law.intercept[env] for env in envs},
        beta_median={env: law.beta_median[env] for env in envs if env in law.beta_median},
        beta_ci={env: law.beta_ci[env] for env in envs if env in law.beta_ci},
        points=tuple(point for point in law.points if point.env in envs),
    )


def _log_step(values: np.ndarray) -> float:
    """The median spacing of the distinct log values (1 for a single value): a grid's step."""
    logs = np.log(np.unique(values))
    return float(np.median(np.diff(logs))) if len(logs) > 1 else 1.0


def _nearest_law_configs(
    configs: pd.DataFrame, batch_law: PowerLaw, rate_law: PowerLaw, stage: str
) -> tuple[dict[tuple[str, float], int], list[str]]:
    """Per (env, σ), the index of the config nearest (B*(σ), η*(σ)): distance in grid steps of
    log B and log η (ties: smaller B, then smaller η). Envs without a law are left out (noted)."""
    chosen, far, lawless = {}, [], []
    for env, env_configs in configs.groupby("env", sort=True):
        if env not in batch_law.intercept or env not in rate_law.intercept:
            lawless.append(str(env))
            continue
        batch_step = _log_step(env_configs["batch_size"].to_numpy(dtype=float))
        rate_step = _log_step(env_configs["learning_rate"].to_numpy(dtype=float))
        for utd, group in env_configs.groupby("utd", sort=True):
            ordered = group.sort_values(["batch_size", "learning_rate"], kind="stable")
            best_batch, best_rate = float(batch_law.predict(env, utd)), float(rate_law.predict(env, utd))
            batch_ratio = np.log(ordered["batch_size"].to_numpy(dtype=float) / best_batch)
            rate_ratio = np.log(ordered["learning_rate"].to_numpy(dtype=float) / best_rate)
            position = int(np.argmin((batch_ratio / batch_step) ** 2 + (rate_ratio / rate_step) ** 2))
            chosen[(str(env), float(utd))] = int(ordered.index[position])
            if stage == "hparam_laws" and max(abs(batch_ratio[position]), abs(rate_ratio[position])) > math.log(HPARAM_MATCH_FACTOR):
                row = ordered.iloc[position]
                far.append(
                    f"{env} σ={utd:g}: B={int(row['batch_size'])}, η={row['learning_rate']:.3g} "
                    f"(laws: B*={best_batch:.1f}, η*={best_rate:.3g})"
                )
    if stage == "hparam_laws":
        notes = ["D_J points: at each (env, σ) the run nearest the grid fit's B*(σ), η*(σ)"]
    else:
        notes = [
            "D_J points: at each (env, σ) the config nearest the fitted B*(σ), η*(σ) (in grid steps of log B and "
            "log η), not the fastest of the grid (a minimum over noisy times is biased low)"
        ]
    if far:
        notes.append(f"runs not at the laws' hyperparameters (more than ×{HPARAM_MATCH_FACTOR:g} off): " + "; ".join(far))
    if lawless:
        notes.append(f"env(s) {', '.join(lawless)} have no hyperparameter law: no data law")
    return chosen, notes


def _baseline_configs(
    configs: pd.DataFrame, best_hparams: tuple[BestHparams, ...], selection: float, baseline_utd: float
) -> tuple[tuple[BaselineConfig, ...], dict[tuple[str, float], int], list[str]]:
    """Per env the grid's fastest config at σ = `baseline_utd` (at the selection threshold), and
    per (env, σ) the index of the table's run of that config."""
    baselines, chosen, notes = [], {}, []
    for env, env_configs in configs.groupby("env", sort=True):
        baseline = fastest_config(best_hparams, str(env), baseline_utd, selection)
        if baseline is None:
            notes.append(f"no baseline for env '{env}': no grid config at σ={baseline_utd:g} reaches J={selection:g}")
            continue
        baselines.append(baseline)
        runs = env_configs[
            (env_configs["batch_size"] == baseline.batch_size)
            & np.isclose(env_configs["learning_rate"].to_numpy(dtype=float), baseline.learning_rate)
        ]
        for index, utd in zip(runs.index, runs["utd"]):
            chosen[(str(env), float(utd))] = int(index)
        notes.append(
            f"baseline for env '{env}': B={baseline.batch_size}, η={baseline.learning_rate:g} (the fastest grid config "
            f"at σ={baseline_utd:g}), found at σ = {', '.join(f'{utd:g}' for utd in sorted(runs['utd']))}"
        )
    return tuple(baselines), chosen, notes


def _reset_notes(configs: pd.DataFrame, resets: ResetSchedule) -> list[str]:
    resetting = configs["n_resets"] > 0
    if not resetting.any():
        return []
    paper = ResetSchedule()
    rules = [
        f"window {resets.window}" + ("" if resets.window == paper.window else f" (qscaled's DMC analysis: {paper.window})"),
        f"an evaluation at a reset's env step counts as {resets.at_reset_step} it"
        + ("" if resets.at_reset_step == paper.at_reset_step else " (rlscale's engine evaluates after the reset)"),
        f"recovery '{resets.recovery}'",
    ]
    return [
        f"{int(resetting.sum())} config(s) reset ({int(configs['n_resets'].sum())} resets): "
        f"{int(configs['n_dropped_after_resets'].sum())} evaluations in post-reset dips dropped before the isotonic step "
        f"({'; '.join(rules)})"
    ]


def _data_law_loss_notes(loss: str) -> list[str]:
    """The note naming the data laws' least squares."""
    if loss == "linear":
        return [
            "data laws: least squares on D (for scope 'all' on the App. D normalized times), the paper's "
            "(qscaled's fit_powerlaw); data_law_loss='log' fits log D"
        ]
    return [
        "data laws: least squares on log D (data_law_loss='log'); the paper (qscaled's fit_powerlaw) fits D itself, "
        "which gives other D_min, β, α"
    ]


def _censored(configs: pd.DataFrame, times: ThresholdTimes) -> tuple[CensoredConfig, ...]:
    never = np.argwhere(~np.isfinite(times.point))
    items = []
    for config_index, threshold_index in never:
        row = configs.iloc[config_index]
        diverged_at = row["diverged_at_env_step"]
        items.append(
            CensoredConfig(
                env=str(row["env"]),
                utd=float(row["utd"]),
                batch_size=int(row["batch_size"]),
                learning_rate=float(row["learning_rate"]),
                threshold=float(times.thresholds[threshold_index]),
                last_env_step=int(row["last_env_step"]),
                diverged_at_env_step=None if pd.isna(diverged_at) else float(diverged_at),
            )
        )
    return tuple(items)


def _best_hparams(configs: pd.DataFrame, times: ThresholdTimes, options: FitOptions) -> tuple[BestHparams, ...]:
    items = []
    for (env, utd), group in configs.groupby(["env", "utd"], sort=True):
        ordered = group.sort_values(["batch_size", "learning_rate"], kind="stable")
        for threshold_index, threshold in enumerate(times.thresholds):
            group_times = times.point[ordered.index.to_numpy(), threshold_index]
            if not np.isfinite(group_times).any():
                continue
            best_position = int(np.argmin(group_times))
            config_index = ordered.index[best_position]
            median, low, high = summarize_scalar(times.bootstrap[:, config_index, threshold_index], options.interval)
            items.append(
                BestHparams(
                    env=str(env),
                    utd=float(utd),
                    threshold=float(threshold),
                    batch_size=int(configs.at[config_index, "batch_size"]),
                    learning_rate=float(configs.at[config_index, "learning_rate"]),
                    time_to_threshold=float(group_times[best_position]),
                    time_to_threshold_median=median,
                    time_to_threshold_ci=(low, high),
                )
            )
    return tuple(items)


@dataclass(frozen=True)
class _EnvTimes:
    """One env's D_J points. sigmas: (n,) ascending; point: (n, J); resampled: (R, n, J);
    batch_size, learning_rate: (n, J), the config each point stands for."""

    sigmas: np.ndarray
    point: np.ndarray
    resampled: np.ndarray
    batch_size: np.ndarray
    learning_rate: np.ndarray


def _env_times(
    configs: pd.DataFrame, times: ThresholdTimes, env: str, chosen: Mapping[tuple[str, float], int] | None
) -> _EnvTimes | None:
    """The points of `env`: per σ the chosen config's times, or (chosen None) the minimum over the
    σ's configs of the point and of each resample; None when no σ has a chosen config."""
    points = config_points(configs, times, env, chosen)
    if points is None:
        return None
    sigmas = np.array([key[0] for key in points.keys])
    return _EnvTimes(sigmas, points.point, points.resampled, points.batch_size, points.learning_rate)


def _data_law_fit(
    threshold: float,
    scope: str,
    sigmas: np.ndarray,
    point: np.ndarray,
    resampled: np.ndarray,
    options: FitOptions,
    point_configs: tuple[np.ndarray, np.ndarray] | None = None,
    scale: float = 1.0,
    env_scales: Mapping[str, float] | None = None,
) -> DataLawFit | None:
    """Fit one data law to points (σ (n,), point times (n,), resampled times (R, n)); None when
    fewer than 3 σ have a finite time. `point_configs`: (B, η) per point, shape (n,) each."""
    params = fit_data_law(sigmas, point, loss=options.data_law_loss)
    if params is None:
        return None
    d_min, beta, alpha = fit_data_law_resamples(sigmas, resampled, params, loss=options.data_law_loss)
    medians, lows, highs = summarize(resampled, axis=0, interval=options.interval)
    points = tuple(
        DataPoint(
            env=scope,
            utd=float(sigma),
            time=float(point[index]),
            median=float(medians[index]),
            ci=(float(lows[index]), float(highs[index])),
            batch_size=None if point_configs is None else int(point_configs[0][index]),
            learning_rate=None if point_configs is None else float(point_configs[1][index]),
        )
        for index, sigma in enumerate(sigmas)
    )
    d_min_summary = summarize_scalar(d_min, options.interval)
    beta_summary = summarize_scalar(beta, options.interval)
    alpha_summary = summarize_scalar(alpha, options.interval)
    return DataLawFit(
        threshold=float(threshold),
        scope=scope,
        d_min=params.d_min,
        beta=params.beta,
        alpha=params.alpha,
        rms_log_residual=params.rms_log_residual,
        d_min_median=d_min_summary[0],
        beta_median=beta_summary[0],
        alpha_median=alpha_summary[0],
        d_min_ci=d_min_summary[1:],
        beta_ci=beta_summary[1:],
        alpha_ci=alpha_summary[1:],
        points=points,
        scale=float(scale),
        env_scales=dict(env_scales or {}),
        d_min_resamples=d_min,
        beta_resamples=beta,
        alpha_resamples=alpha,
    )


def _fit_data_laws(
    configs: pd.DataFrame,
    times: ThresholdTimes,
    chosen: Mapping[tuple[str, float], int] | None,
    options: FitOptions,
    label: str,
) -> tuple[list[DataLawFit], list[str]]:
    """Per threshold, the data law of every env and the App. D pooled law of all envs."""
    fits, notes = [], []
    per_env = {}
    for env in sorted(configs["env"].unique()):
        env_times = _env_times(configs, times, str(env), chosen)
        if env_times is not None:
            per_env[str(env)] = env_times
    for threshold_index, threshold in enumerate(times.thresholds):
        for env, env_times in per_env.items():
            fit = _data_law_fit(
                threshold,
                env,
                env_times.sigmas,
                env_times.point[:, threshold_index],
                env_times.resampled[:, :, threshold_index],
                options,
                point_configs=(env_times.batch_size[:, threshold_index], env_times.learning_rate[:, threshold_index]),
            )
            if fit is None:
                notes.append(f"{label} not fitted for env '{env}' at J={threshold:g}: fewer than 3 σ reach it")
            else:
                fits.append(fit)
    pooled_envs = [env for env, env_times in per_env.items() if np.isfinite(env_times.point).any()]
    if not pooled_envs:
        return fits, notes
    sigmas = np.array(sorted({sigma for env in pooled_envs for sigma in per_env[env].sigmas}))
    point = np.full((len(pooled_envs), len(sigmas), len(times.thresholds)), np.inf)
    resampled = np.full((times.bootstrap.shape[0], *point.shape), np.inf)
    for row, env in enumerate(pooled_envs):
        columns = np.searchsorted(sigmas, per_env[env].sigmas)
        point[row, columns] = per_env[env].point
        resampled[:, row, columns] = per_env[env].resampled
    pooled, pooled_resampled = pool_env_times(point), pool_env_times(resampled)
    env_scales = {env: float(median) for env, median in zip(pooled_envs, pooled.env_medians)}
    for threshold_index, threshold in enumerate(times.thresholds):
        unreached = ~np.isfinite(point[:, :, threshold_index])
        fit = _data_law_fit(
            threshold,
            POOLED_SCOPE,
            sigmas,
            pooled.times[:, threshold_index],
            pooled_resampled.times[:, :, threshold_index],
            options,
            scale=float(pooled.scale),
            env_scales=env_scales,
        )
        if unreached.any() and len(pooled_envs) > 1:
            missing = [f"σ={sigmas[column]:g} ({', '.join(pooled_envs[row] for row in np.flatnonzero(unreached[:, column]))})"
                       for column in np.flatnonzero(unreached.any(axis=0))]
            notes.append(f"pooled {label} at J={threshold:g} leaves out σ where some env does not reach it: {'; '.join(missing)}")
        if fit is None:
            notes.append(f"{label} not fitted for all envs at J={threshold:g}: fewer than 3 σ reach it in every env")
        else:
            fits.append(fit)
    return fits, notes


def _compute_constants(clean: pd.DataFrame, options: FitOptions) -> tuple[float | None, float | None, list[str]]:
    """N and δ for the compute and budget laws, with notes saying where they came from."""
    notes = []
    suites = sorted(clean["suite"].unique())
    suite_default = SUITE_COMPUTE_DEFAULTS.get(suites[0]) if len(suites) == 1 else None
    model_size = options.model_size
    if model_size is None and "model_size" in clean.columns and clean["model_size"].notna().any():
        model_size = float(clean["model_size"].dropna().iloc[0])
        notes.append(f"model size N={model_size:g} read from the table's model_size column")
    if model_size is None and suite_default is not None:
        model_size = suite_default[0]
        notes.append(f"model size N={model_size:g}: the paper's value for suite '{suites[0]}'")
    if model_size is None:
        notes.append("no model size known (no model_size column, option or suite default): compute and budget laws skipped")
        return None, None, notes
    delta = options.delta
    if delta is None and suite_default is not None:
        delta = suite_default[1]
        notes.append(f"δ={delta:g} FLOPs per env step: the paper's value for suite '{suites[0]}'")
    if delta is None:
        delta = DEFAULT_DELTA_PER_PARAMETER * model_size
        notes.append(f"δ={delta:g}: the paper's Gym ratio δ/N = {DEFAULT_DELTA_PER_PARAMETER:g} times N")
    return float(model_size), float(delta), notes


def _frontier_and_budget(
    data_laws: list[DataLawFit],
    batch_size_law: PowerLaw,
    configs: pd.DataFrame,
    model_size: float | None,
    delta: float | None,
    options: FitOptions,
) -> tuple[list[FrontierCurve], BudgetLaw | None, list[BudgetLaw], list[str]]:
    """C_J(σ) and the frontier on the reported σ grid, σ*(F) per scope from the dense grid (the
    point laws and every resample's), with B*(σ) of the scope ("all": the mean over envs)."""
    if model_size is None or delta is None:
        return [], None, [], []
    utds = configs["utd"].to_numpy(dtype=float)
    low, high = utds.min() / options.sigma_grid_extension, utds.max() * options.sigma_grid_extension
    notes = [_sigma_grid_note(low, high, options)]
    reported_grid = np.geomspace(low, high, options.sigma_grid_points)
    dense_grid = np.geomspace(low, high, options.budget_grid_points)

    def curve(fit: DataLawFit, sigma: np.ndarray) -> FrontierCurve:
        batch = batch_size_law.predict(fit.scope, sigma)
        data = fit.predict(sigma)
        compute = compute_flops(model_size, batch, sigma, data)
        return FrontierCurve(fit.scope, fit.threshold, sigma, batch, data, compute, pareto_mask(data, compute))

    frontier, dense_by_scope, resampled_by_scope = [], {}, {}
    for fit in data_laws:
        if fit.scope != POOLED_SCOPE and fit.scope not in batch_size_law.intercept:
            continue
        frontier.append(curve(fit, reported_grid))
        dense_by_scope.setdefault(fit.scope, []).append(curve(fit, dense_grid))
        data = fit.predict_resamples(dense_grid)
        compute = compute_flops(model_size, batch_size_law.predict(fit.scope, dense_grid)[None, :], dense_grid[None, :], data)
        resampled_by_scope.setdefault(fit.scope, []).append(budget_optima(dense_grid, compute, data, delta))
    budget_laws = {}
    for scope, curves in dense_by_scope.items():
        law = fit_budget_law(curves, delta, model_size)
        if law is None:
            notes.append(f"budget law not fitted for scope '{scope}': it needs data laws at 4 or more thresholds")
            continue
        optima = resampled_by_scope[scope]
        budgets = np.stack([optimum.budget for optimum in optima], axis=1)
        sigmas = np.stack([optimum.sigma for optimum in optima], axis=1)
        coefficients, exponents, degenerate = resampled_budget_laws(budgets, sigmas)
        coefficient_summary = summarize_scalar(coefficients, options.interval)
        exponent_summary = summarize_scalar(exponents, options.interval)
        budget_laws[scope] = dataclasses.replace(
            law,
            coefficient_median=coefficient_summary[0],
            coefficient_ci=coefficient_summary[1:],
            exponent_median=exponent_summary[0],
            exponent_ci=exponent_summary[1:],
            degenerate_resamples=degenerate,
        )
        if degenerate:
            notes.append(
                f"budget law '{scope}': {degenerate} of {len(coefficients)} bootstrap refits degenerate (a data law "
                "failed on the resample, or every fitted F* was equal): left out of its intervals"
            )
        on_edge = sum(point.at_grid_edge for point in law.points)
        if on_edge:
            notes.append(f"budget law '{scope}': {on_edge} of {len(law.points)} σ* lie at an end of the σ grid (bounds, not optima)")
        reason = undetermined_exponent_reason(law)
        # The pooled law's reason is in its summary line (summaries.budget_summary), which the fit
        # command and the study report print; only the per-env laws need it as a note.
        if reason is not None and scope != POOLED_SCOPE:
            notes.append(f"budget law '{scope}': σ*(F)'s exponent is not determined: {reason}")
    per_env = [budget_laws[env] for env in sorted(batch_size_law.intercept) if env in budget_laws]
    return frontier, budget_laws.get(POOLED_SCOPE), per_env, notes


def _sigma_grid_note(low: float, high: float, options: FitOptions) -> str:
    """The note naming the σ range and grid of the frontier and of the budget optima."""
    extension = options.sigma_grid_extension
    if extension == 1:
        where = f"the runs' σ range [{low:g}, {high:g}], the paper's (qscaled's make_smooth_x_range)"
    else:
        where = (
            f"[{low:g}, {high:g}], the runs' σ range widened ×{extension:g} (sigma_grid_extension; the paper searches the "
            "runs' range only)"
        )
    return (
        f"frontier and σ*(J) searched over {where}, σ*(J) on {options.budget_grid_points} log-spaced points "
        "(qscaled: 100, which quantize σ*; budget_grid_points)"
    )
