"""The budget-optimal split between σ and model size (rlscale/laws/model_size.py).

By construction: the small model (N = 1e5) learns as fast but its returns tend to 650 instead of
1000, so the time to reach J grows like -ln(1 - J/650) instead of -ln(1 - J/1000). The large model
(N = 2e5) costs twice the FLOPs per update. Low thresholds are cheapest with the small model, high
ones with the large model (the crossover is near J = 400).
"""

import numpy as np
import pandas as pd
import pytest

from rlscale.laws.data_law import DataLawParams
from rlscale.laws.fit import FitOptions, fit_laws
from rlscale.laws.frontier import compute_flops
from rlscale.laws.model_size import SizeLaws, model_size_split
from rlscale.laws.synthetic import SyntheticLaws, synthetic_sweep

SMALL, LARGE = 1e5, 2e5
DELTA = 1e7
LOW, HIGH = (100.0, 200.0), (550.0, 600.0)
GRID = np.geomspace(0.25, 32.0, 2000)


def _laws(max_return: float) -> SyntheticLaws:
    one = lambda value: {"env-a": value}  # noqa: E731
    return SyntheticLaws(
        batch_beta=one(512.0**2),
        learning_rate_beta=one(1e-3 ** (1 / 0.3)),
        tau_d_min=one(20_000.0),
        tau_beta=one(40.0),
        tau_scale=one(10_000.0),
        max_return=max_return,
    )


SMALL_LAWS, LARGE_LAWS = _laws(650.0), _laws(1000.0)


def _true_size_laws(laws: SyntheticLaws, model_size: float, thresholds) -> SizeLaws:
    data = {}
    for threshold in thresholds:
        d_min, beta, alpha = laws.data_law("env-a", threshold)
        data[threshold] = DataLawParams(d_min, beta, alpha, 0.0).predict
    return SizeLaws(model_size, data, lambda sigma: (laws.batch_beta["env-a"] / sigma) ** laws.batch_alpha)


def test_split_from_true_laws_switches_size_at_high_thresholds():
    thresholds = [*LOW, 350.0, *HIGH]
    sizes = [_true_size_laws(LARGE_LAWS, LARGE, thresholds), _true_size_laws(SMALL_LAWS, SMALL, thresholds)]
    splits = model_size_split(sizes, thresholds, DELTA, GRID)
    assert [split.threshold for split in splits] == sorted(thresholds)
    best = {split.threshold: split.best.model_size for split in splits}
    assert [best[j] for j in LOW] == [SMALL, SMALL]
    assert [best[j] for j in HIGH] == [LARGE, LARGE]
    for split in splits:
        assert [item.model_size for item in split.per_size] == [SMALL, LARGE]
        assert split.best.budget == min(item.budget for item in split.per_size)
        for item, laws in zip(split.per_size, sorted(sizes, key=lambda s: s.model_size)):
            data = laws.data_law[split.threshold](GRID)
            budget = compute_flops(laws.model_size, laws.batch_size(GRID), GRID, data) + DELTA * data
            assert item.budget == pytest.approx(budget.min(), rel=1e-12)
            assert item.utd == GRID[np.argmin(budget)] and not item.at_grid_edge
            assert item.budget == pytest.approx(item.compute + DELTA * item.data, rel=1e-12)


def test_size_without_a_law_is_listed_and_one_size_gives_nothing():
    sizes = [_true_size_laws(SMALL_LAWS, SMALL, [100.0]), _true_size_laws(LARGE_LAWS, LARGE, [100.0, 700.0])]
    splits = model_size_split(sizes, [100.0, 700.0], DELTA, GRID)
    assert splits[1].threshold == 700.0 and splits[1].best.model_size == LARGE
    assert splits[1].sizes_without_law == (SMALL,) and len(splits[1].per_size) == 1
    assert model_size_split(sizes[:1], [100.0], DELTA, GRID) == []


def _sweep(laws: SyntheticLaws, model_size: float, seed: int) -> pd.DataFrame:
    return synthetic_sweep(
        laws,
        utds=(0.5, 1.0, 2.0, 4.0, 8.0, 16.0),
        batch_sizes=(128, 256, 512),
        learning_rates=(2e-4, 4e-4, 8e-4, 1.6e-3),
        n_seeds=4,
        n_evals=600,
        seed_noise=0.02,
        eval_noise=2.0,
        seed=seed,
        model_size=model_size,
    )


def test_fit_reports_the_split_in_fit_json():
    table = pd.concat([_sweep(SMALL_LAWS, SMALL, 0), _sweep(LARGE_LAWS, LARGE, 1)], ignore_index=True)
    options = FitOptions(thresholds=(*LOW, 350.0, *HIGH), n_bootstrap=5, delta=DELTA)
    fit = fit_laws(table, options)
    assert sorted(fit.by_model_size) == ["100000", "200000"]
    best = {split.threshold: split.best.model_size for split in fit.model_size_split}
    assert [best[j] for j in LOW] == [SMALL, SMALL]
    assert [best[j] for j in HIGH] == [LARGE, LARGE]
    # The fitted optimum budgets are close to the true ones.
    truth = model_size_split(
        [_true_size_laws(SMALL_LAWS, SMALL, [*LOW, *HIGH]), _true_size_laws(LARGE_LAWS, LARGE, [*LOW, *HIGH])],
        [*LOW, *HIGH],
        DELTA,
        GRID,
    )
    for true_split in truth:
        fitted = next(s for s in fit.model_size_split if s.threshold == true_split.threshold)
        assert fitted.best.budget == pytest.approx(true_split.best.budget, rel=0.3)
    written = fit.to_dict()["model_size_split"]
    assert [item["threshold"] for item in written] == [*LOW, 350.0, *HIGH]
    assert {"model_size", "utd", "budget", "compute", "data", "per_size", "sizes_without_law"} <= set(written[0])
    assert [item["model_size"] for item in written[0]["per_size"]] == [SMALL, LARGE]
    single = fit_laws(table[table["model_size"] == SMALL], options)
    assert single.model_size_split == () and single.to_dict()["model_size_split"] == []
