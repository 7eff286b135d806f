"""Figures of a `FitResult`. Each function returns a matplotlib `Figure` built with the
object-oriented API (no pyplot state, no interactive backend: `Figure.savefig` renders with Agg);
saving is the caller's job."""

from __future__ import annotations

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.ticker import FormatStrFormatter, NullFormatter

from rlscale.laws.bootstrap import summarize
from rlscale.laws.results import FitResult, PowerLaw, Validation
from rlscale.laws.td_overfitting import LAST_FRACTION, PANEL_KEYS, TD_ERROR_COLUMNS, td_error_summary

SIGMA_TICK_FORMAT = "%g"
BATCH_TICK_FORMAT = "%d"
PLAIN_TICK_FORMAT = "%g"


def _sigma_line(result: FitResult) -> np.ndarray:
    return np.geomspace(min(result.utds) / 1.2, max(result.utds) * 1.2, 100)


def _plain_log_x_axis(axis, values, tick_format: str, label: str) -> None:
    """A log-scale x axis with a tick at each of `values`, labelled as a plain number (matplotlib
    labels the minor ticks of a sub-decade range "3×10⁰", which overlap)."""
    axis.set_xscale("log")
    axis.set_xticks(sorted(set(float(value) for value in values)))
    axis.xaxis.set_major_formatter(FormatStrFormatter(tick_format))
    axis.xaxis.set_minor_formatter(NullFormatter())
    axis.set_xlabel(label)


def _plain_log_y_axis(axis, low: float, high: float) -> None:
    """A log-scale y axis for values in [low, high] (> 0) with plain number labels: the decades'
    ticks, and the ticks between them too when the values span less than a decade (otherwise
    matplotlib would label those as "3×10⁰")."""
    axis.set_yscale("log")
    axis.yaxis.set_major_formatter(FormatStrFormatter(PLAIN_TICK_FORMAT))
    within_a_decade = high < 10.0 * low
    axis.yaxis.set_minor_formatter(FormatStrFormatter(PLAIN_TICK_FORMAT) if within_a_decade else NullFormatter())


def _sigma_axis(axis, sigmas) -> None:
    """A log-scale UTD axis with a plain tick label at each σ in `sigmas`."""
    _plain_log_x_axis(axis, sigmas, SIGMA_TICK_FORMAT, "UTD ratio σ")


def _figure_legend(figure: Figure, axes, fontsize: float) -> None:
    """One legend below the panels with every distinct label of `axes` (first handle kept), in at
    most six columns."""
    legend = {}
    for axis in axes.flat:
        for handle, label in zip(*axis.get_legend_handles_labels()):
            legend.setdefault(label, handle)
    figure.legend(list(legend.values()), list(legend), loc="outside lower center", ncol=max(1, min(len(legend), 6)), fontsize=fontsize)


def _hparam_axis(axis, law: PowerLaw, result: FitResult, label: str) -> None:
    colors = colormaps["tab10"]
    sigma = _sigma_line(result)
    for index, env in enumerate(sorted(law.intercept)):
        color = colors(index % 10)
        points = [point for point in law.points if point.env == env]
        utd = np.array([point.utd for point in points])
        value = np.array([point.value for point in points])
        low = np.array([point.ci[0] for point in points])
        high = np.array([point.ci[1] for point in points])
        axis.errorbar(
            utd, value, yerr=[np.clip(value - low, 0, None), np.clip(high - value, 0, None)], fmt="o", color=color, capsize=2
        )
        axis.plot(sigma, law.predict(env, sigma), "-", color=color, label=env)
    _sigma_axis(axis, result.utds)
    axis.set_yscale("log")
    axis.set_ylabel(label)
    axis.set_title(f"{label}: α = {law.alpha:.3f} [{law.alpha_ci[0]:.3f}, {law.alpha_ci[1]:.3f}]")
    axis.grid(True, which="both", alpha=0.3)


def plot_best_hparams(result: FitResult) -> Figure:
    """Best batch size and learning rate vs σ (log-log): bootstrap-averaged points with 5–95%
    intervals and the shared-exponent laws."""
    figure = Figure(figsize=(12, 4.8), layout="constrained")
    axes = figure.subplots(1, 2)
    _hparam_axis(axes[0], result.batch_size_law, result, "best batch size B*")
    _hparam_axis(axes[1], result.learning_rate_law, result, "best learning rate η*")
    axes[1].legend(fontsize=8, loc="best")
    figure.suptitle(f"Best hyperparameters at J = {result.selection_threshold:g}")
    return figure


def plot_data_efficiency(result: FitResult) -> Figure:
    """D_J vs σ (log-log), one panel per env and one for all envs (App. D pooling), one color per
    threshold; points with 5–95% intervals, the fitted laws, and the baseline's laws dashed."""
    scopes = list(result.envs) + ["all"]
    columns = min(4, len(scopes))
    rows = int(np.ceil(len(scopes) / columns))
    figure = Figure(figsize=(4 * columns, 3.4 * rows), layout="constrained")
    axes = figure.subplots(rows, columns, squeeze=False)
    colors = colormaps["viridis"]
    sigma = _sigma_line(result)
    for axis, scope in zip(axes.flat, scopes):
        for index, threshold in enumerate(result.thresholds):
            color = colors(index / max(1, len(result.thresholds) - 1))
            fit = result.data_law_for(threshold, scope)
            if fit is None:
                continue
            finite = [point for point in fit.points if np.isfinite(point.time)]
            utd = np.array([point.utd for point in finite])
            time = np.array([point.time for point in finite])
            low = np.array([point.ci[0] for point in finite])
            raw_high = np.array([point.ci[1] for point in finite])
            # Some resamples never reach J: the interval has no upper end, drawn as an open triangle.
            unbounded = ~np.isfinite(raw_high)
            high = np.where(unbounded, time, raw_high)
            axis.errorbar(
                utd, time, yerr=[np.clip(time - low, 0, None), np.clip(high - time, 0, None)], fmt="o", ms=3, color=color, capsize=2
            )
            axis.plot(utd[unbounded], time[unbounded], "^", ms=7, mfc="none", color=color)
            axis.plot(sigma, fit.predict(sigma), "-", color=color, label=f"J={threshold:g}, α={fit.alpha:.2f}")
            baseline = result.baseline_data_law_for(threshold, scope)
            if baseline is not None:
                axis.plot(sigma, baseline.predict(sigma), "--", color=color, lw=0.9, label=f"baseline, α={baseline.alpha:.2f}")
        _sigma_axis(axis, result.utds)
        axis.set_yscale("log")
        axis.set_title(scope)
        axis.set_ylabel("env steps to J, D_J")
        axis.grid(True, which="both", alpha=0.3)
        axis.legend(fontsize=6)
    for axis in list(axes.flat)[len(scopes):]:
        axis.set_visible(False)
    figure.suptitle("Data efficiency D_J(σ) = D_min + (β/σ)^α")
    return figure


def plot_pareto_frontier(result: FitResult, scope: str = "all") -> Figure:
    """Data vs compute (log-log) for each threshold, over the σ grid, with iso-σ points
    (the same σ across thresholds) joined by dashed lines."""
    figure = Figure(figsize=(7, 5.2), layout="constrained")
    axis = figure.subplots()
    curves = [curve for curve in result.frontier if curve.scope == scope]
    colors = colormaps["viridis"]
    if not curves:
        axis.text(0.5, 0.5, "no compute model (model size unknown) or no data law", ha="center", transform=axis.transAxes)
        return figure
    iso_sigmas = np.array(result.utds)
    iso_points = []
    for index, curve in enumerate(curves):
        color = colors(index / max(1, len(curves) - 1))
        axis.plot(curve.data, curve.compute, "-", color=color, alpha=0.35)
        axis.plot(curve.data[curve.on_frontier], curve.compute[curve.on_frontier], "-", color=color, lw=2.2, label=f"J={curve.threshold:g}")
        positions = [int(np.argmin(np.abs(np.log(curve.sigma / sigma)))) for sigma in iso_sigmas]
        iso_points.append([(curve.data[position], curve.compute[position]) for position in positions])
    iso_points = np.array(iso_points)
    markers = "osD^v<>p*h"
    for sigma_index, sigma in enumerate(iso_sigmas):
        axis.plot(iso_points[:, sigma_index, 0], iso_points[:, sigma_index, 1], "--", color="gray", lw=0.8)
        axis.plot(iso_points[:, sigma_index, 0], iso_points[:, sigma_index, 1], markers[sigma_index % len(markers)], color="black", ms=5, label=f"σ={sigma:g}")
    axis.set_xscale("log")
    axis.set_yscale("log")
    axis.set_xlabel("data D_J (env steps)")
    axis.set_ylabel("compute C_J (FLOPs)")
    axis.set_title(f"Data–compute Pareto frontier ({scope}; N={result.model_size:.3g})")
    axis.grid(True, which="both", alpha=0.3)
    axis.legend(fontsize=7, ncol=2)
    return figure


def plot_budget(result: FitResult) -> Figure:
    """σ*(F) vs budget F (log-log): fitted points, held-out points (hollow red) and the law."""
    figure = Figure(figsize=(6.5, 4.8), layout="constrained")
    axis = figure.subplots()
    law = result.budget_law
    if law is None:
        axis.text(0.5, 0.5, "budget law not fitted (see fit.json notes)", ha="center", transform=axis.transAxes)
        return figure
    budget = np.array([point.budget for point in law.points])
    sigma = np.array([point.sigma for point in law.points])
    held_out = np.array([point.held_out for point in law.points])
    axis.plot(budget[~held_out], sigma[~held_out], "o", color="tab:blue", label="fitted")
    axis.plot(budget[held_out], sigma[held_out], "o", mfc="none", mec="tab:red", ms=9, mew=2, label="held out")
    line = np.geomspace(budget.min() / 1.5, budget.max() * 1.5, 100)
    axis.plot(line, law.predict(line), "-", color="black", label=f"σ* = {law.coefficient:.3g}·F^{law.exponent:.3f}")
    for point in law.points:
        axis.annotate(f"J={point.threshold:g}", (point.budget, point.sigma), textcoords="offset points", xytext=(4, 4), fontsize=7)
    errors = ", ".join(f"{error:.1%}" for error in law.held_out_relative_error)
    axis.set_xscale("log")
    axis.set_yscale("log")
    axis.set_xlabel("budget F = C + δ·D (FLOPs)")
    axis.set_ylabel("compute-optimal UTD σ*")
    axis.yaxis.set_major_formatter(FormatStrFormatter("%.3g"))
    axis.yaxis.set_minor_formatter(FormatStrFormatter("%.3g"))
    axis.set_title(f"σ*(F), δ={law.delta:.3g}; held-out relative error {errors}")
    axis.grid(True, which="both", alpha=0.3)
    axis.legend(fontsize=8)
    return figure


def plot_validation(result: FitResult, validation: Validation) -> Figure:
    """The held-out check: per validated config, the data law of its scope at J over σ with the
    band of the bootstrap-refitted laws, the fitted points, and the measured D_J with its seed
    bootstrap interval (red; an open triangle when some resamples never reach J)."""
    records = list(validation.configs)
    figure = Figure(figsize=(6.5 * max(1, len(records)), 4.8), layout="constrained")
    axes = np.atleast_1d(figure.subplots(1, max(1, len(records))))
    for axis, record in zip(axes, records):
        law = result.data_law_for(record.threshold, record.scope)
        sigmas = [*result.utds, record.utd]
        sigma = np.geomspace(min(sigmas) / 1.2, max(sigmas) * 1.2, 100)
        axis.plot(sigma, law.predict(sigma), "-", color="black", label=f"D_J(σ), {record.scope}")
        if law.alpha_resamples.size:
            _, low, high = summarize(law.predict_resamples(sigma), axis=0, interval=validation.interval)
            axis.fill_between(sigma, low, high, color="gray", alpha=0.25, lw=0, label="resampled laws")
        finite = [point for point in law.points if np.isfinite(point.time)]
        axis.plot([point.utd for point in finite], [point.time for point in finite], "o", color="tab:blue", ms=4, label="fitted points")
        low, high = record.measured_interval
        if np.isfinite(record.measured):
            upper = high if np.isfinite(high) else record.measured
            axis.errorbar(
                [record.utd], [record.measured], yerr=[[max(record.measured - low, 0)], [max(upper - record.measured, 0)]],
                fmt="s", color="tab:red", capsize=3, label=f"measured ({record.seeds} seeds)",
            )
            if not np.isfinite(high):
                axis.plot([record.utd], [record.measured], "^", ms=9, mfc="none", color="tab:red")
        _sigma_axis(axis, sigmas)
        axis.set_yscale("log")
        axis.set_ylabel("env steps to J, D_J")
        axis.set_title(
            f"{record.env}: σ={record.utd:.3g}, B={record.batch_size}, η={record.learning_rate:.3g}, J={record.threshold:g}",
            fontsize=9,
        )
        axis.grid(True, which="both", alpha=0.3)
        axis.legend(fontsize=7)
    figure.suptitle("Held-out check: measured vs predicted D_J")
    return figure


FIGURES = {
    "best_hparams": plot_best_hparams,
    "data_efficiency": plot_data_efficiency,
    "pareto_frontier": plot_pareto_frontier,
    "budget": plot_budget,
}


def learning_curves(table, band: str = "minmax") -> Figure:
    """Learning curves of a long-form table (columns env, utd, batch_size, learning_rate, seed,
    env_step, return): one panel per (env, σ), one line per (B, η), the mean over seeds with a
    band of the seeds' min–max (`band="minmax"`) or 5–95th percentiles (`band="percentile"`).
    Returns are raw (not normalized); only env steps logged by every seed of a config are drawn."""
    if band not in ("minmax", "percentile"):
        raise ValueError(f"band must be 'minmax' or 'percentile', got {band!r}")
    envs = sorted(table["env"].unique())
    utds = sorted(table["utd"].unique())
    combos = sorted({(int(b), float(lr)) for b, lr in zip(table["batch_size"], table["learning_rate"])})
    colors = colormaps["tab10"] if len(combos) <= 10 else colormaps["viridis"]
    figure = Figure(figsize=(3.6 * len(utds), 3.0 * len(envs) + 0.8), layout="constrained")
    axes = figure.subplots(len(envs), len(utds), squeeze=False, sharey="row")
    for row, env in enumerate(envs):
        for column, utd in enumerate(utds):
            axis = axes[row, column]
            panel = table[(table["env"] == env) & (table["utd"] == utd)]
            for index, (batch_size, learning_rate) in enumerate(combos):
                config = panel[(panel["batch_size"] == batch_size) & (panel["learning_rate"] == learning_rate)]
                if config.empty:
                    continue
                n_seeds = config["seed"].nunique()
                per_step = config.groupby("env_step")["return"]
                complete = per_step.count() == n_seeds
                if band == "minmax":
                    low, high = per_step.min(), per_step.max()
                else:
                    low, high = per_step.quantile(0.05), per_step.quantile(0.95)
                steps = complete.index[complete.to_numpy()]
                color = colors(index % 10) if len(combos) <= 10 else colors(index / max(1, len(combos) - 1))
                axis.plot(steps, per_step.mean()[steps], "-", color=color, lw=1.2, label=f"B={batch_size}, η={learning_rate:g}")
                axis.fill_between(steps, low[steps], high[steps], color=color, alpha=0.12, lw=0)
            axis.set_title(f"{env}, σ={utd:g}" if len(envs) > 1 else f"σ={utd:g}", fontsize=9)
            axis.set_xlabel("env steps")
            if column == 0:
                axis.set_ylabel("evaluation return")
            axis.grid(True, alpha=0.3)
    _figure_legend(figure, axes, 7)
    band_text = "seed min–max" if band == "minmax" else "seed 5–95%"
    figure.suptitle(f"Learning curves: mean over seeds, band = {band_text}" + (f" ({envs[0]})" if len(envs) == 1 else ""))
    return figure


def td_overfitting(table) -> Figure:
    """The critic's TD error against batch size B, on the replay (left) and on the validation
    buffer (right), one line per model size N: one row of panels per (env, σ, η), each point the
    mean over the last 10% of a config's evaluations and over seeds (`td_error_summary`). A
    validation error that rises with B where the training error does not is TD-overfitting (the
    follow-up paper's Section 5.1). Log axes with plain batch-size tick labels."""
    summary = td_error_summary(table)
    panels = list(summary.groupby(list(PANEL_KEYS), observed=True, sort=True))
    sizes = sorted(summary["model_size"].unique())
    colors = colormaps["viridis"]
    figure = Figure(figsize=(9.0, 2.9 * len(panels) + 0.8), layout="constrained")
    axes = figure.subplots(len(panels), len(TD_ERROR_COLUMNS), squeeze=False, sharey="row")
    for row, ((env, utd, learning_rate), panel) in enumerate(panels):
        measured = panel[list(TD_ERROR_COLUMNS)].stack()
        log_scale = bool(len(measured)) and bool((measured > 0).all())
        for column, (name, label) in enumerate(zip(TD_ERROR_COLUMNS, ("training (replay)", "validation (never trained on)"))):
            axis = axes[row, column]
            for index, size in enumerate(sizes):
                line = panel[(panel["model_size"] == size)].dropna(subset=[name]).sort_values("batch_size")
                if line.empty:
                    continue
                color = colors(index / max(1, len(sizes) - 1))
                axis.plot(line["batch_size"], line[name], "o-", color=color, label=f"N = {int(size):,}")
            if log_scale:
                _plain_log_y_axis(axis, float(measured.min()), float(measured.max()))
            _plain_log_x_axis(axis, panel["batch_size"].unique(), BATCH_TICK_FORMAT, "batch size B")
            axis.set_title(f"{env}, σ={utd:g}, η={learning_rate:g}: {label}", fontsize=9)
            if column == 0:
                axis.set_ylabel("TD error (critic loss)")
            axis.grid(True, which="both", alpha=0.3)
    _figure_legend(figure, axes, 8)
    figure.suptitle(f"TD error vs B per model size: mean of the last {LAST_FRACTION:.0%} of evaluations and of seeds")
    return figure
