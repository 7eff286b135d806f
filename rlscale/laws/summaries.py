"""Readable text of the fit layer's results: a fit's summary lines, a recommendation's table, a
held-out check's table and a stage-2 proposal's header. Pure formatting of the typed results
(`rlscale.laws.results`); the commands print it and the study writes it into its files."""

from __future__ import annotations

import math

from rlscale.laws.budget import undetermined_exponent_reason
from rlscale.laws.results import tie_summary


def budget_summary(law) -> str:
    """One line on σ*(F): the law, or why its exponent is not determined."""
    reason = undetermined_exponent_reason(law)
    if reason is None:
        errors = [round(error, 4) for error in law.held_out_relative_error]
        return f"σ*(F) = {law.coefficient:.4g}·F^{law.exponent:.4f}; held-out relative error {errors}"
    return (
        f"σ*(F) not determined: {reason} (σ* = {', '.join(f'{point.sigma:.3g}' for point in law.points)} at J = "
        f"{', '.join(f'{point.threshold:g}' for point in law.points)}); recommend interpolates σ* between them"
    )


def fit_summary(result) -> str:
    """A few lines: thresholds, the hyperparameter laws, the budget law, degenerate refits."""
    batch, rate = result.batch_size_law, result.learning_rate_law
    source = "from the grid fit" if result.stage == "hparam_laws" else f"[{batch.alpha_ci[0]:.4f}, {batch.alpha_ci[1]:.4f}]"
    rate_source = "from the grid fit" if result.stage == "hparam_laws" else f"[{rate.alpha_ci[0]:.4f}, {rate.alpha_ci[1]:.4f}]"
    lines = [
        f"thresholds {list(result.thresholds)}; selection threshold {result.selection_threshold:g}; "
        f"{result.n_configs} configs, {len(result.censored)} censored (config, threshold) pairs; "
        f"stage {result.stage}, D_J points: {result.data_points}",
        f"B*(σ) = (β_env/σ)^α: α = {batch.alpha:.4f} {source}",
        f"η*(σ) = (β_env/σ)^α: α = {rate.alpha:.4f} {rate_source}",
    ]
    if result.grid_edges is not None:
        lines.append(f"grid edges: {result.grid_edges.summary()}")
    ties = tie_summary(result.vote_ties, result.tied_votes)
    if ties is not None:
        lines.append(ties)
    if result.horizon is not None:
        lines += result.horizon.summary()
    law = result.budget_law
    if law is not None:
        lines.append(budget_summary(law))
    degenerate = [item for item in (law, *result.budget_law_per_env) if item is not None and item.degenerate_resamples]
    if degenerate:
        lines.append(
            "degenerate bootstrap refits of σ*(F), left out of its intervals: "
            + ", ".join(f"{item.scope} {item.degenerate_resamples}/{result.n_bootstrap}" for item in degenerate)
        )
    return "\n".join(lines + sigma_n_summary(result))


def sigma_n_summary(result) -> list[str]:
    """Lines on the joint (σ, N) laws (none for a fit without them): the pooled data law at the
    selection threshold, the compute-optimal paths and the one-axis overheads."""
    sigma_n = result.sigma_n
    law = sigma_n.data_law_for(sigma_n.selection_threshold_sigma_n or math.nan, "all")
    lines = []
    if law is not None:
        lines.append(
            f"(σ, N) laws, N = critic parameters {list(sigma_n.model_sizes_sigma_n)}: D_J(σ, N) at J={law.threshold:g} (all) = "
            f"{law.c:.4g}·(1 + ({law.a:.4g}/σ)^{law.alpha:.3f} + ({law.b:.4g}/N)^{law.beta:.3f})"
        )
    allocation = sigma_n.allocation_for("all")
    if allocation is not None and allocation.utd_path is not None and allocation.model_size_path is not None:
        lines.append(
            f"compute-optimal paths (δ={allocation.delta:.3g}): {allocation.model_size_path.describe('N*')}, "
            f"{allocation.utd_path.describe('σ*')}; data overhead at F={allocation.overhead_budget:.3g}: "
            f"σ only {allocation.utd_only_data_overhead:+.1%}, N only {allocation.model_size_only_data_overhead:+.1%}"
        )
    return lines


def _interval(low, high, spec: str) -> str:
    return f"[{low:{spec}}, {high:{spec}}]"


def _hyperparameter_rows(r, batch_size_spec: str) -> list[tuple[str, str, str]]:
    """The rows both recommendations share: σ*, B* (its interval formatted with `batch_size_spec`),
    η*, the threshold J, D and C."""
    threshold_detail = r.threshold_source + (f" (uncapped: {r.uncapped_threshold:.1f})" if r.threshold_capped else "")
    return [
        ("UTD σ*", f"{r.utd:.3g}", _interval(*r.utd_interval, ".3g")),
        ("batch size B*", f"{r.batch_size}", f"{_interval(*r.batch_size_interval, batch_size_spec)} (law: {r.batch_size_continuous:.1f})"),
        ("learning rate η*", f"{r.learning_rate:.3g}", _interval(*r.learning_rate_interval, ".3g")),
        ("threshold J", f"{r.threshold:.1f}", threshold_detail),
        ("data D (env steps)", f"{r.data:.4g}", _interval(*r.data_interval, ".4g")),
        ("compute C (FLOPs)", f"{r.compute:.4g}", _interval(*r.compute_interval, ".4g")),
    ]


def _render(title: str, r, rows: list[tuple[str, str, str]], footer: str) -> str:
    """The table of a recommendation `r`: `title` for its scope (and what it extrapolates), the
    (name, value, detail) rows aligned, `footer` and its notes."""
    scope = r.env if r.env is not None else f"{r.scope} (envs pooled)"
    width = max(len(row[0]) for row in rows)
    value_width = max(len(row[1]) for row in rows)
    lines = [f"{title} for {scope}" + (" (extrapolated: " + "; ".join(r.extrapolated_quantities) + ")" if r.extrapolated else "")]
    lines += [f"  {name:<{width}}  {value:>{value_width}}  {detail}" for name, value, detail in rows]
    lines.append(f"  {footer}")
    lines += [f"  note: {note}" for note in r.notes]
    return "\n".join(lines)


def format_recommendation(recommendation) -> str:
    """A readable table of a `Recommendation`."""
    r = recommendation
    rows = [
        ("budget F = C + δ·D", f"{r.budget:.4g} FLOPs", f"δ = {r.delta:.3g} FLOPs/env step, N = {r.model_size:.4g}"),
        *_hyperparameter_rows(r, "d"),
    ]
    return _render("recommendation", r, rows, f"fitted budgets: {r.fitted_budget_range[0]:.4g} .. {r.fitted_budget_range[1]:.4g} FLOPs")


def format_sigma_n_recommendation(recommendation) -> str:
    """A readable table of a `SigmaNRecommendation`."""
    r = recommendation
    width = (
        f"{r.hidden_width} (depth {r.hidden_depth}: critic N = {r.width_model_size:.4g})" if r.hidden_width is not None else "unknown (see notes)"
    )
    rows = [
        ("budget F = C + δ·D", f"{r.budget:.4g} FLOPs", f"δ = {r.delta:.3g} FLOPs/env step"),
        ("model size N*", f"{r.model_size:.4g}", f"{_interval(*r.model_size_interval, '.4g')} critic parameters; width {width}"),
        *_hyperparameter_rows(r, ".1f"),
    ]
    footer = (
        f"fitted budgets: {r.fitted_budget_range[0]:.4g} .. {r.fitted_budget_range[1]:.4g} FLOPs; trained N: "
        + ", ".join(f"{size:.4g}" for size in r.trained_model_sizes)
    )
    return _render("(σ, N) recommendation", r, rows, footer)


def format_validation(validation) -> str:
    """A readable table of a `Validation`."""

    def span(low, high):
        return f"[{_steps(low)}, {_steps(high)}]"

    lines = [
        f"held-out check at J={validation.threshold:g} (intervals {validation.interval[0]:g}–{validation.interval[1]:g}%, "
        f"{validation.n_bootstrap} seed resamples)"
    ]
    for record in validation.configs:
        error = "never reached" if not math.isfinite(record.relative_error) else f"{record.relative_error:+.1%}"
        size = "" if record.model_size is None else f" N={record.model_size:.4g}"
        lines += [
            f"  {record.env} σ={record.utd:.4g}{size} B={record.batch_size} η={record.learning_rate:.4g} ({record.seeds} seeds)",
            f"    predicted D_J  {_steps(record.predicted):>10}  {span(*record.predicted_interval)}  ({record.data_law} of scope {record.scope})",
            f"    measured D_J   {_steps(record.measured):>10}  {span(*record.measured_interval)}  "
            f"({record.resamples_reaching:.0%} of resamples reach J; last step {record.last_env_step})",
            f"    error {error}; measured within the predicted interval: {'yes' if record.measured_within_predicted else 'no'}; "
            f"intervals overlap: {'yes' if record.intervals_overlap else 'no'}",
        ]
    lines += [f"  note: {note}" for note in validation.notes]
    return "\n".join(lines)


def _steps(value: float) -> str:
    return f"{value:.0f}" if math.isfinite(value) else "never"


def proposal_header(proposal, source: str, env_steps: int) -> list[str]:
    """Comment lines explaining a stage-2 TOML."""
    lines = [
        f"Stage 2 of the protocol, written by `rlscale propose` from {source}.",
        f"env {proposal.env}: B*(σ) rounded to a multiple of 16 and η*(σ) from the grid fit's laws"
        + (f"; baseline B={proposal.baseline.batch_size}, η={proposal.baseline.learning_rate:g} (fastest at σ={proposal.baseline.utd:g})" if proposal.baseline else ""),
        f"env steps {env_steps}: the most any σ needs ({proposal.env_steps_margin:g} × the upper end of D_J(σ) at "
        f"J={proposal.threshold:g}, {proposal.sizing_scope} law); one sweep has one env_steps for every config",
    ]
    lines += [
        f"  σ={config.utd:g} {config.role}: B={config.batch_size} (law {config.batch_size_continuous:.1f}), "
        f"η={config.learning_rate:.4g}, needs ~{config.env_steps_needed:.0f} env steps"
        for config in proposal.configs
    ]
    return lines + [f"note: {note}" for note in proposal.notes]
