"""Figures of a `FitResult`. Each function returns a matplotlib `Figure` built with the
object-oriented API (no pyplot state, no interactive backend: `Figure.savefig` renders with Agg);
saving is the caller's job."""

from __future__ import annotations

import numpy as np
from matplotlib import colormaps
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure
from matplotlib.ticker import FormatStrFormatter, FuncFormatter, LogFormatter, NullFormatter

from rlscale.laws.bootstrap import summarize
from rlscale.laws.budget import undetermined_exponent_reason
from rlscale.laws.results import POOLED_SCOPE, FitResult, PowerLaw, Validation
from rlscale.laws.td_overfitting import LAST_FRACTION, PANEL_KEYS, TD_ERROR_COLUMNS, td_error_summary

SIGMA_TICK_FORMAT = "%g"
BATCH_TICK_FORMAT = "%d"
PLAIN_TICK_FORMAT = "%g"


class PlainLogFormatter(LogFormatter):
    """Log-axis tick labels as plain numbers ("40", "0.0003", "2e+14"), not "4×10¹"; which ticks get
    a label is matplotlib's choice (decades, and minor ticks where the axis spans few decades)."""

    def _num_to_string(self, x, vmin, vmax):
        return f"{x:g}"


def _log_scale(axis, which: str) -> None:
    """Put `axis`'s x or y axis (`which`) on a log scale with plain tick labels."""
    getattr(axis, f"set_{which}scale")("log")
    scaled = getattr(axis, f"{which}axis")
    scaled.set_major_formatter(PlainLogFormatter())
    scaled.set_minor_formatter(PlainLogFormatter(labelOnlyBase=False, minor_thresholds=(2, 0.5)))


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
    _log_scale(axis, "y")
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
        _log_scale(axis, "y")
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
    _log_scale(axis, "x")
    _log_scale(axis, "y")
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
    determined = undetermined_exponent_reason(law) is None
    if determined:
        line = np.geomspace(budget.min() / 1.5, budget.max() * 1.5, 100)
        axis.plot(line, law.predict(line), "-", color="black", label=f"σ* = {law.coefficient:.3g}·F^{law.exponent:.3f}")
    for point in law.points:
        axis.annotate(f"J={point.threshold:g}", (point.budget, point.sigma), textcoords="offset points", xytext=(4, 4), fontsize=7)
    errors = ", ".join(f"{error:.1%}" for error in law.held_out_relative_error)
    _log_scale(axis, "x")
    _log_scale(axis, "y")
    axis.set_xlabel("budget F = C + δ·D (FLOPs)")
    axis.set_ylabel("compute-optimal UTD σ*")
    outcome = f"held-out relative error {errors}" if determined else "exponent not determined (fit.json notes)"
    axis.set_title(f"σ*(F), δ={law.delta:.3g}; {outcome}")
    axis.grid(True, which="both", alpha=0.3)
    axis.legend(fontsize=8)
    return figure


def plot_validation(result: FitResult, validation: Validation) -> Figure:
    """The held-out check: per validated config, the data law of its scope at J with the band of the
    bootstrap-refitted laws, the fitted points, and the measured D_J with its seed bootstrap interval
    (red; an open triangle when some resamples never reach J). A σ-only prediction is drawn over σ; a
    joint (σ, N) prediction over N: D_J(σ, N) at the config's σ (black, with the band), at each
    trained σ with its points (coloured), and the largest trained N (dotted)."""
    records = list(validation.configs)
    figure = Figure(figsize=(6.5 * max(1, len(records)), 4.8), layout="constrained")
    axes = np.atleast_1d(figure.subplots(1, max(1, len(records))))
    for axis, record in zip(axes, records):
        if record.model_size is None:
            position = record.utd
            law_values = _validation_over_sigma(axis, result, record, validation.interval)
        else:
            position = record.model_size
            law_values = _validation_over_model_size(axis, result, record, validation.interval)
        low, high = record.measured_interval
        if np.isfinite(record.measured):
            upper = high if np.isfinite(high) else record.measured
            axis.errorbar(
                [position], [record.measured], yerr=[[max(record.measured - low, 0)], [max(upper - record.measured, 0)]],
                fmt="s", color="tab:red", capsize=3, label=f"measured ({record.seeds} seeds)",
            )
            if not np.isfinite(high):
                axis.plot([position], [record.measured], "^", ms=9, mfc="none", color="tab:red")
        _log_scale(axis, "y")
        shown = [value for value in (*law_values, record.measured, *record.measured_interval, *record.predicted_interval) if np.isfinite(value)]
        # Resampled laws far from the data (an exponent refitted to 60 on a noisy resample) would squash the plot.
        axis.set_ylim(min(shown) / VALIDATION_Y_MARGIN, max(shown) * VALIDATION_Y_MARGIN)
        axis.set_ylabel("env steps to J, D_J")
        size = "" if record.model_size is None else f", N={record.model_size:.4g}"
        axis.set_title(
            f"{record.env}: σ={record.utd:.3g}{size}, B={record.batch_size}, η={record.learning_rate:.3g}, J={record.threshold:g}",
            fontsize=9,
        )
        axis.grid(True, which="both", alpha=0.3)
        axis.legend(fontsize=7)
    figure.suptitle("Held-out check: measured vs predicted D_J")
    return figure


def _validation_over_sigma(axis, result: FitResult, record, interval) -> list[float]:
    """The σ-only law of a record over σ; returns the plotted law values and points."""
    law = result.data_law_for(record.threshold, record.scope)
    sigmas = [*result.utds, record.utd]
    sigma = np.geomspace(min(sigmas) / 1.2, max(sigmas) * 1.2, 100)
    axis.plot(sigma, law.predict(sigma), "-", color="black", label=f"D_J(σ), {record.scope}")
    if law.alpha_resamples.size:
        _, low, high = summarize(law.predict_resamples(sigma), axis=0, interval=interval)
        axis.fill_between(sigma, low, high, color="gray", alpha=0.25, lw=0, label="resampled laws")
    finite = [point for point in law.points if np.isfinite(point.time)]
    axis.plot([point.utd for point in finite], [point.time for point in finite], "o", color="tab:blue", ms=4, label="fitted points")
    _sigma_axis(axis, sigmas)
    return [*np.atleast_1d(law.predict(sigma)), *(point.time for point in finite)]


def _validation_over_model_size(axis, result: FitResult, record, interval) -> list[float]:
    """The joint law of a record over N at each trained σ and the record's; returns the plotted
    law values and points."""
    law = result.sigma_n.data_law_for(record.threshold, record.scope)
    trained = result.sigma_n.model_sizes_sigma_n
    sizes = [*trained, record.model_size]
    size = np.geomspace(min(sizes) / 1.3, max(sizes) * 1.3, 100)
    utds = sorted({point.utd for point in law.points})
    colors = colormaps["viridis"]
    for index, utd in enumerate(utds):
        color = colors(index / max(1, len(utds) - 1) * 0.85)
        axis.plot(size, law.predict(utd, size), "-", color=color, lw=1, alpha=0.7)
        finite = [point for point in law.points if point.utd == utd and np.isfinite(point.value)]
        axis.plot([point.model_size for point in finite], [point.value for point in finite], "o", color=color, ms=4,
                  label=f"fitted points, σ={utd:g}")
    axis.plot(size, law.predict(record.utd, size), "-", color="black", lw=2, label=f"D_J(σ={record.utd:.3g}, N), {record.scope}")
    if law.resamples.size:
        _, low, high = summarize(law.predict_resamples(record.utd, size), axis=0, interval=interval)
        axis.fill_between(size, low, high, color="gray", alpha=0.25, lw=0, label="resampled laws")
    axis.axvline(max(trained), ls=":", color="gray", label="largest trained N")
    _plain_log_axis(axis, "x", sizes, "critic parameters N")
    points = [point.value for point in law.points if np.isfinite(point.value)]
    return [*np.atleast_1d(law.predict(record.utd, size)), *points]


VALIDATION_Y_MARGIN = 2.0
"""The validation figure's D axis spans the law, points and intervals, this factor wider each way."""


FIGURES = {
    "best_hparams": plot_best_hparams,
    "data_efficiency": plot_data_efficiency,
    "pareto_frontier": plot_pareto_frontier,
    "budget": plot_budget,
}


def learning_curves(table, band: str = "minmax") -> Figure:
    """Learning curves of a long-form table (columns env, utd, batch_size, learning_rate, seed,
    env_step, return): one panel per (env, σ) — per (env, N, σ) for a table of several model sizes
    (`model_size`) — one line per (B, η), the mean over seeds with a band of the seeds' min–max
    (`band="minmax"`) or 5–95th percentiles (`band="percentile"`). Returns are raw (not normalized);
    only env steps logged by every seed of a config are drawn."""
    if band not in ("minmax", "percentile"):
        raise ValueError(f"band must be 'minmax' or 'percentile', got {band!r}")
    envs = sorted(table["env"].unique())
    utds = sorted(table["utd"].unique())
    sizes = sorted(table["model_size"].dropna().unique()) if "model_size" in table.columns else []
    rows = [(env, size) for env in envs for size in (sizes if len(sizes) > 1 else [None])]
    combos = sorted({(int(b), float(lr)) for b, lr in zip(table["batch_size"], table["learning_rate"])})
    colors = colormaps["tab10"] if len(combos) <= 10 else colormaps["viridis"]
    figure = Figure(figsize=(3.6 * len(utds), 3.0 * len(rows) + 0.8), layout="constrained")
    axes = figure.subplots(len(rows), len(utds), squeeze=False, sharey="row")
    for row, (env, size) in enumerate(rows):
        for column, utd in enumerate(utds):
            axis = axes[row, column]
            panel = table[(table["env"] == env) & (table["utd"] == utd) & ((table["model_size"] == size) if size is not None else True)]
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
            title = ([env] if len(envs) > 1 else []) + ([f"N={plain_number(size)}"] if size is not None else []) + [f"σ={utd:g}"]
            axis.set_title(", ".join(title), fontsize=9)
            axis.set_xlabel("env steps")
            if column == 0:
                axis.set_ylabel("evaluation return")
            axis.grid(True, alpha=0.3)
    _figure_legend(figure, axes, 7)
    band_text = "seed min–max" if band == "minmax" else "seed 5–95%"
    figure.suptitle(f"Learning curves: mean over seeds, band = {band_text}" + (f" ({envs[0]})" if len(envs) == 1 else ""))
    return figure


SIZE_SUFFIXES = ((1e9, "G"), (1e6, "M"), (1e3, "k"))


def plain_number(value: float, _position=None) -> str:
    """A tick label without exponent notation: 3 → "3", 0.5 → "0.5", 250000 → "250k", 1.2e6 → "1.2M"."""
    for scale, suffix in SIZE_SUFFIXES:
        if abs(value) >= scale:
            return f"{value / scale:.3g}{suffix}"
    return f"{value:.3g}"


def flops_number(value: float, _position=None) -> str:
    """A FLOP tick label as mantissa and power of ten without superscripts: 2e+15 → "2e15"."""
    return f"{value:.0e}".replace("e+", "e")


def _flops_axis(axis, label: str) -> None:
    """A log x axis of FLOPs labelled like "1e15", minor ticks unlabelled."""
    axis.set_xscale("log")
    axis.xaxis.set_major_formatter(FuncFormatter(flops_number))
    axis.xaxis.set_minor_formatter(NullFormatter())
    axis.set_xlabel(label)


def _plain_log_axis(axis, which: str, ticks, label: str) -> None:
    """A log axis ("x" or "y") with a plainly labelled tick at each value of `ticks` and no minor labels."""
    getattr(axis, f"set_{which}scale")("log")
    getattr(axis, f"set_{which}ticks")(sorted(set(float(tick) for tick in ticks)))
    scale_axis = axis.xaxis if which == "x" else axis.yaxis
    scale_axis.set_major_formatter(FuncFormatter(plain_number))
    scale_axis.set_minor_formatter(NullFormatter())
    getattr(axis, f"set_{which}label")(label)


def _sigma_n_scopes(result: FitResult) -> list[str]:
    scopes = sorted({law.scope for law in result.sigma_n.data_law_sigma_n} - {POOLED_SCOPE})
    return scopes + ([POOLED_SCOPE] if any(law.scope == POOLED_SCOPE for law in result.sigma_n.data_law_sigma_n) else [])


def _iso_data_path(law, batch_law, levels: np.ndarray, sigma: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Along each iso-line D_J(σ, N) = level, the (σ, N) of least compute C = 10·N·B*·σ·D (the
    authors' compute-optimal path of their Fig. 6): N(σ) solves the law for each σ of `sigma`."""
    path_sigma, path_size = [], []
    for level in levels:
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            remainder = level / law.c - 1.0 - (law.a / sigma) ** law.alpha
            size = np.where(remainder > 0, law.b / remainder ** (1.0 / law.beta), np.nan)
            compute = size * batch_law(sigma, size) * sigma
        if np.isfinite(compute).any():
            best = int(np.nanargmin(compute))
            if 0 < best < len(sigma) - 1:
                path_sigma.append(sigma[best])
                path_size.append(size[best])
    return np.array(path_sigma), np.array(path_size)


def plot_sigma_n_data_law(result: FitResult) -> Figure:
    """Per scope, the iso-lines of D_J(σ, N) at the (σ, N) selection threshold over the trained
    (σ, N) (widened ×2), the trained points coloured by their D_J, the least-compute point of each
    iso-line (dashed: the authors' compute-optimal path at fixed data) and the budget-optimal
    (σ*, N*) of every fitted threshold (stars, labelled by J: the compute-optimal path over budgets)."""
    sigma_n = result.sigma_n
    scopes = _sigma_n_scopes(result)
    figure = Figure(figsize=(5.2 * max(1, len(scopes)), 5.0), layout="constrained")
    axes = np.atleast_1d(figure.subplots(1, max(1, len(scopes))))
    if not scopes:
        axes[0].text(0.5, 0.5, "no joint (σ, N) law (see fit.json notes)", ha="center", transform=axes[0].transAxes)
        return figure
    threshold = sigma_n.selection_threshold_sigma_n
    sizes, utds = sigma_n.model_sizes_sigma_n, result.utds
    sigma = np.geomspace(min(utds) / 2, max(utds) * 2, 300)
    size = np.geomspace(min(sizes) / 2, max(sizes) * 2, 300)
    for axis, scope in zip(axes, scopes):
        laws = [law for law in sigma_n.data_law_sigma_n if law.scope == scope]
        law = sigma_n.data_law_for(threshold, scope) or max(laws, key=lambda item: item.threshold)
        surface = law.predict(sigma[None, :], size[:, None])
        finite = [point for point in law.points if np.isfinite(point.value)]
        values = np.array([point.value for point in finite])
        levels = np.geomspace(values.min(), values.max(), 8)
        contour = axis.contour(sigma, size, surface, levels=levels, cmap="viridis", norm=LogNorm(values.min(), values.max()))
        axis.clabel(contour, fmt=plain_number, fontsize=7)
        axis.scatter(
            [point.utd for point in finite], [point.model_size for point in finite], c=values, cmap="viridis",
            norm=LogNorm(values.min(), values.max()), edgecolor="black", s=36, zorder=3, label="trained (σ, N): D_J",
        )
        if sigma_n.batch_size_law_sigma_n is not None:
            batch_law = lambda s, n, scope=scope: sigma_n.batch_size_law_sigma_n.predict(scope, s, n)  # noqa: E731
            path_sigma, path_size = _iso_data_path(law, batch_law, np.geomspace(values.min(), values.max(), 24), sigma)
            axis.plot(path_sigma, path_size, "--", color="gray", lw=2, label="least compute along each iso-D_J line")
        allocation = sigma_n.allocation_for(scope)
        if allocation is not None:
            points = sorted(allocation.points, key=lambda point: point.budget)
            axis.plot([point.utd for point in points], [point.model_size for point in points], "-*", color="tab:red", ms=11,
                      label=f"budget-optimal (σ*, N*) per J (δ={allocation.delta:.2g})")
            for point in points:
                axis.annotate(
                    f"J={point.threshold:g}", (point.utd, point.model_size), textcoords="offset points", xytext=(5, -9), fontsize=7, color="tab:red"
                )
        axis.set_xlim(sigma[0], sigma[-1])
        axis.set_ylim(size[0], size[-1])
        _plain_log_axis(axis, "x", utds, "UTD ratio σ")
        _plain_log_axis(axis, "y", sizes, "critic parameters N")
        axis.set_title(
            f"{scope}: D_J, J={law.threshold:g}\nc={law.c:.3g}, a={law.a:.3g}, α={law.alpha:.2f}, b={law.b:.3g}, β={law.beta:.2f}",
            fontsize=9,
        )
        axis.grid(True, which="major", alpha=0.3)
    handles, labels = axes[-1].get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside lower center", ncol=3, fontsize=8)
    figure.suptitle("Data to reach J: D_J(σ, N) = c·(1 + (a/σ)^α + (b/N)^β)")
    return figure


def plot_sigma_n_batch_size(result: FitResult) -> Figure:
    """B*(σ, N) per env: best batch sizes (bootstrap average, 5–95% interval) and the law, against σ
    (one colour per N) and against N (one colour per σ)."""
    laws = result.sigma_n.batch_size_law_sigma_n
    envs = [law.env for law in laws.laws] if laws is not None else []
    figure = Figure(figsize=(11, 3.8 * max(1, len(envs))), layout="constrained")
    axes = figure.subplots(max(1, len(envs)), 2, squeeze=False)
    if laws is None:
        axes[0, 0].text(0.5, 0.5, "no B*(σ, N) law (see fit.json notes)", ha="center", transform=axes[0, 0].transAxes)
        return figure
    colors = colormaps["viridis"]
    for row, law in zip(axes, laws.laws):
        points = [point for point in laws.points if point.env == law.env]
        sizes = sorted({point.model_size for point in points})
        utds = sorted({point.utd for point in points})
        for axis, (line_key, line_values, x_key, x_values, x_label, legend) in zip(
            row,
            [
                ("model_size", sizes, "utd", utds, "UTD ratio σ", "N"),
                ("utd", utds, "model_size", sizes, "critic parameters N", "σ"),
            ],
        ):
            x_line = np.geomspace(min(x_values) / 1.3, max(x_values) * 1.3, 100)
            for index, value in enumerate(line_values):
                color = colors(index / max(1, len(line_values) - 1))
                chosen = [point for point in points if getattr(point, line_key) == value]
                x = np.array([getattr(point, x_key) for point in chosen])
                y = np.array([point.value for point in chosen])
                low, high = np.array([point.ci[0] for point in chosen]), np.array([point.ci[1] for point in chosen])
                axis.errorbar(x, y, yerr=[np.clip(y - low, 0, None), np.clip(high - y, 0, None)], fmt="o", color=color, capsize=2)
                curve = law.predict(x_line, value) if line_key == "model_size" else law.predict(value, x_line)
                axis.plot(x_line, curve, "-", color=color, label=f"{legend}={plain_number(value)}")
            _plain_log_axis(axis, "x", x_values, x_label)
            axis.set_yscale("log")
            axis.yaxis.set_major_formatter(FuncFormatter(plain_number))
            axis.yaxis.set_minor_formatter(FuncFormatter(plain_number))
            axis.set_ylabel("best batch size B*")
            axis.grid(True, which="both", alpha=0.3)
            axis.legend(fontsize=7)
        row[0].set_title(
            f"{law.env}: B* = a / (σ^α (1 + (b/N)^c)), a={law.a:.3g}, α={law.alpha:.2f} [{law.alpha_ci[0]:.2f}, {law.alpha_ci[1]:.2f}], "
            f"b={law.b:.3g}, c={law.c:.2f}",
            fontsize=8,
        )
    figure.suptitle(f"Best batch size B*(σ, N) at J = {laws.selection_threshold:g}")
    return figure


def plot_sigma_n_allocation(result: FitResult, scope: str = POOLED_SCOPE) -> Figure:
    """The compute-optimal allocation of `scope`: N*(F) and σ*(F) with their power laws (held-out
    points hollow), and D against F for the compute-optimal path and the σ-only and N-only strategies."""
    figure = Figure(figsize=(15, 4.4), layout="constrained")
    axes = figure.subplots(1, 3)
    allocation = result.sigma_n.allocation_for(scope)
    if allocation is None:
        axes[0].text(0.5, 0.5, f"no (σ, N) allocation for '{scope}' (see fit.json notes)", ha="center", transform=axes[0].transAxes)
        return figure
    points = sorted(allocation.points, key=lambda point: point.budget)
    budget = np.array([point.budget for point in points])
    held_out = np.array([point.held_out for point in points])
    line = np.geomspace(budget.min() / 2, budget.max() * 4, 100)
    for axis, path, values, label in (
        (axes[0], allocation.model_size_path, np.array([point.model_size for point in points]), "N*"),
        (axes[1], allocation.utd_path, np.array([point.utd for point in points]), "σ*"),
    ):
        axis.plot(budget[~held_out], values[~held_out], "o", color="tab:blue", label="optimum per J (fitted)")
        axis.plot(budget[held_out], values[held_out], "o", mfc="none", mec="tab:red", ms=9, mew=2, label="held out")
        if path is not None and not path.at_search_edge:
            axis.plot(line, path.predict(line), "-", color="black", label=path.describe(label, 3))
        elif path is not None:
            axis.set_title(path.describe(label), fontsize=8)
        _flops_axis(axis, "budget F = C + δ·D (FLOPs)")
        axis.set_yscale("log")
        axis.yaxis.set_major_formatter(FuncFormatter(plain_number))
        axis.yaxis.set_minor_formatter(FuncFormatter(plain_number))
        axis.set_ylabel(f"compute-optimal {label}")
        axis.grid(True, which="both", alpha=0.3)
        axis.legend(fontsize=7)
    axes[2].plot(budget, [point.data for point in points], "-o", color="black", label="compute-optimal (σ*, N*)")
    for strategy, label, color in (
        (allocation.utd_only, f"σ only (N = {plain_number(allocation.base_model_size)}): {allocation.utd_only_data_overhead:+.1%}", "tab:orange"),
        (allocation.model_size_only, f"N only (σ = {allocation.base_utd:.3g}): {allocation.model_size_only_data_overhead:+.1%}", "tab:green"),
    ):
        ordered = sorted(strategy, key=lambda point: point.budget)
        axes[2].plot([point.budget for point in ordered], [point.data for point in ordered], "-s", color=color, ms=4, label=label)
    axes[2].axvline(allocation.overhead_budget, color="gray", lw=0.8, ls=":")
    _flops_axis(axes[2], "budget F (FLOPs)")
    axes[2].set_yscale("log")
    axes[2].yaxis.set_major_formatter(FuncFormatter(plain_number))
    axes[2].yaxis.set_minor_formatter(FuncFormatter(plain_number))
    axes[2].set_ylabel("data D_J (env steps)")
    axes[2].set_title("data at the same budget (overhead at the dotted F)", fontsize=9)
    axes[2].grid(True, which="both", alpha=0.3)
    axes[2].legend(fontsize=7)
    figure.suptitle(f"Compute-optimal allocation over (σ, N), {scope}, δ={allocation.delta:.3g}")
    return figure


SIGMA_N_FIGURES = {
    "sigma_n_data_law": plot_sigma_n_data_law,
    "sigma_n_batch_size": plot_sigma_n_batch_size,
    "sigma_n_allocation": plot_sigma_n_allocation,
}
"""The figures of a fit with the joint (σ, N) laws (written next to `FIGURES` when it has them)."""


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
