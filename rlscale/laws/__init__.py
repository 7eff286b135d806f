"""Law fitting for value-based RL sweeps (Rybkin et al. 2025): pure numpy/scipy/pandas.

Entry point: `fit_laws(table, FitOptions(...)) -> FitResult`; `FitResult.to_dict()` is the
fit.json structure documented in `rlscale/laws/SCHEMA.md`.
"""

from rlscale.laws.budget import BudgetLaw, BudgetPoint, fit_budget_law
from rlscale.laws.crossings import ConfigCurves, ThresholdTimes, build_config_curves, times_to_threshold
from rlscale.laws.data_law import DataLawParams, fit_data_law, fit_data_law_resamples
from rlscale.laws.fit import (
    BestHparams,
    CensoredConfig,
    DataLawFit,
    DataPoint,
    FitOptions,
    FitResult,
    fit_laws,
)
from rlscale.laws.frontier import FrontierCurve, compute_flops, pareto_mask
from rlscale.laws.power_laws import HparamPoint, PowerLaw, fit_shared_slope, round_batch_size
from rlscale.laws.table import REQUIRED_COLUMNS, FitInputError, normalize_returns, validate_table

__all__ = [
    "REQUIRED_COLUMNS",
    "BestHparams",
    "BudgetLaw",
    "BudgetPoint",
    "CensoredConfig",
    "ConfigCurves",
    "DataLawFit",
    "DataLawParams",
    "DataPoint",
    "FitInputError",
    "FitOptions",
    "FitResult",
    "FrontierCurve",
    "HparamPoint",
    "PowerLaw",
    "ThresholdTimes",
    "build_config_curves",
    "compute_flops",
    "fit_budget_law",
    "fit_data_law",
    "fit_data_law_resamples",
    "fit_laws",
    "fit_shared_slope",
    "normalize_returns",
    "pareto_mask",
    "round_batch_size",
    "times_to_threshold",
    "validate_table",
]
