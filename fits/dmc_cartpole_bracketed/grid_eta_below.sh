#!/usr/bin/env bash
# After the study: the finished grid (grid + extension rounds 1-3) with the η = 5e-4 columns at σ = 1
# and σ = 4 (sweeps/grid_eta_below.toml), fitted with the study's grid-fit options (interpolated
# crossings, 100 bootstrap draws, the default thresholds and selection threshold, horizon cuts at 0.5
# and 0.75), and compared with the study's own grid fit: what the columns change in the edge report and
# the laws. Reads the committed rows; run from the repository root:
#   bash fits/dmc_cartpole_bracketed/grid_eta_below.sh
set -euo pipefail
F=fits/dmc_cartpole_bracketed
RLSCALE=${RLSCALE:-rlscale}
"$RLSCALE" fit "$F/grid/evals.parquet" "$F"/grid_round_*/evals.parquet "$F/grid_eta_below/evals.parquet" \
    --bootstrap 100 --crossing interpolated --horizon-cuts 0.5 0.75 --out "$F/grid_eta_below_fit"
"$RLSCALE" compare "$F/grid_fit" "$F/grid_eta_below_fit" \
    --label "the study's grid (rounds 1-3)" --label "with η = 5e-4 at σ = 1 and 4" \
    --title "The η = 5e-4 columns at σ = 1 and 4, added after the study" --out "$F/grid_eta_below.md"
