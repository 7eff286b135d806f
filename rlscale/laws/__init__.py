"""Law fitting for value-based RL sweeps (Rybkin et al. 2025): pure numpy/scipy/pandas.

Entry point: `fit_laws(table, FitOptions(...)) -> FitResult`; `FitResult.to_dict()` is the
fit.json structure documented in `rlscale/laws/SCHEMA.md`, and `read_fit(dict)` reads it back.
"""

from rlscale.laws.budget import budget_optima, fit_budget_law
from rlscale.laws.crossings import ConfigCurves, ThresholdTimes, build_config_curves, times_to_threshold
from rlscale.laws.data_law import DataLawParams, fit_data_law, fit_data_law_resamples
from rlscale.laws.fit import fit_laws
from rlscale.laws.options import FitOptions
from rlscale.laws.frontier import compute_flops, pareto_mask
from rlscale.laws.pooling import PooledTimes, pool_env_times
from rlscale.laws.power_laws import fit_shared_slope, round_batch_size
from rlscale.laws.resets import ResetSchedule, reset_keep_mask
from rlscale.laws.results import (
    POOLED_SCOPE,
    BaselineConfig,
    BestHparams,
    BudgetLaw,
    BudgetPoint,
    CensoredConfig,
    ConfigValidation,
    DataLawFit,
    DataPoint,
    FitResult,
    FrontierCurve,
    HparamPoint,
    PowerLaw,
    Recommendation,
    Validation,
    read_fit,
)
from rlscale.laws.table import REQUIRED_COLUMNS, FitInputError, normalize_returns, validate_table

__all__ = [
    "POOLED_SCOPE",
    "REQUIRED_COLUMNS",
    "BaselineConfig",
    "BestHparams",
    "BudgetLaw",
    "BudgetPoint",
    "CensoredConfig",
    "ConfigCurves",
    "ConfigValidation",
    "DataLawFit",
    "DataLawParams",
    "DataPoint",
    "FitInputError",
    "FitOptions",
    "FitResult",
    "FrontierCurve",
    "HparamPoint",
    "PooledTimes",
    "PowerLaw",
    "Recommendation",
    "ResetSchedule",
    "ThresholdTimes",
    "Validation",
    "budget_optima",
    "build_config_curves",
    "compute_flops",
    "fit_budget_law",
    "fit_data_law",
    "fit_data_law_resamples",
    "fit_laws",
    "fit_shared_slope",
    "normalize_returns",
    "pareto_mask",
    "pool_env_times",
    "read_fit",
    "reset_keep_mask",
    "round_batch_size",
    "times_to_threshold",
    "validate_table",
]
