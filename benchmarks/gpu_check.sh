#!/usr/bin/env bash
# The GPU speed check, prepared for a short device slot: `bash benchmarks/gpu_check.sh OUT_DIR`.
#
# Runs the GPU size of the speed sections (bare: engine vs bare update vs GEMM limit per width, K
# and config axis, and the mixed group; sweep: K in {1, 4, 16, 64} as one group with the calibrated
# estimate) on the pure-JAX pendulum, which needs no mujoco/brax/playground, and writes the JSON
# report into OUT_DIR. Every step is bounded so the whole check ends within 8 minutes.
#
# On a machine without rlscale's pure-Python dependencies (pandas, scipy, rich, tomli-w,
# matplotlib), carry them as wheels in .whl/ (see benchmarks/README.md, "On a GPU"); they are
# installed into /tmp/site first.
set -euo pipefail
out="${1:?usage: bash benchmarks/gpu_check.sh OUT_DIR}"
budget_s="${RLSCALE_GPU_CHECK_SECONDS:-470}"
mkdir -p "$out"
if compgen -G ".whl/*.whl" > /dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
  export PYTHONPATH="/tmp/site${PYTHONPATH:+:$PYTHONPATH}"
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
python3 - <<'PY'
import importlib, jax
missing = [m for m in ("flax", "optax", "chex", "orbax.checkpoint", "numpy", "pandas", "scipy", "rich", "tomli_w") if importlib.util.find_spec(m.split(".")[0]) is None]
print("jax", jax.__version__, "devices", jax.devices(), "missing:", missing or "none")
if missing:
    raise SystemExit(f"missing packages {missing}: carry them as wheels in .whl/")
PY
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$out/device.txt" || true
timeout "$budget_s" python3 -m benchmarks.run --size gpu --only bare sweep --out "$out" --no-readme 2>&1 | tee "$out/log.txt"
