#!/usr/bin/env bash
# The side-by-side of the finished grid (grid + extension rounds) with the authors' cartpole-swingup
# grid, with the same `rlscale fit` options on both sides: the grid fit's thresholds and selection
# threshold, 100 bootstrap draws, by the study's crossing rule (interpolated) and by the paper's
# (logged), and with our rows also as running maxima (the form the authors' DMC curves are shipped in).
# Reads the committed rows; run from the repository root: bash fits/dmc_cartpole_bracketed/side_by_side.sh
set -euo pipefail
F=fits/dmc_cartpole_bracketed
A=${AUTHORS_DMC_SWEEP:-../shared/data/dmc_sweep/dmc_sweep.csv.gz}
RLSCALE=${RLSCALE:-rlscale}
THRESHOLDS=(200 282.602056 356.675237 423.100172 482.666562 536.082568 583.983235 626.938035 665.457642 700)
SELECTION=700
GRID=("$F/grid/evals.parquet" "$F"/grid_round_*/evals.parquet)
for RULE in interpolated logged; do
  COMMON=(--bootstrap 100 --crossing "$RULE" --thresholds "${THRESHOLDS[@]}" --selection-threshold "$SELECTION")
  "$RLSCALE" fit "${GRID[@]}" "${COMMON[@]}" --out "$F/side_by_side/rlscale_$RULE"
  "$RLSCALE" fit "${GRID[@]}" "${COMMON[@]}" --running-max --out "$F/side_by_side/rlscale_max_$RULE"
  "$RLSCALE" fit "$A" --env cartpole-swingup "${COMMON[@]}" --out "$F/side_by_side/authors_$RULE"
done
S=$F/side_by_side
"$RLSCALE" compare "$S"/{rlscale,rlscale_max,authors}_interpolated "$S"/{rlscale,rlscale_max,authors}_logged \
    --label "rlscale (interpolated)" --label "rlscale, running max (interpolated)" --label "authors (interpolated)" \
    --label "rlscale (logged)" --label "rlscale, running max (logged)" --label "authors (logged)" \
    --title "rlscale's cartpole-swingup grid beside the authors'" --out "$F/side_by_side.md"
