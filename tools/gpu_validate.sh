#!/usr/bin/env bash
# One-command GPU validation for tinytorch (see tools/gpu_validate.py for the steps).
#
#   bash tools/gpu_validate.sh              # on a GPU machine: < 8 minutes, results under $OUT
#   bash tools/gpu_validate.sh --dry-run    # anywhere: environment + summary, no GPU or test steps
# Exit codes: 0 all passed, 1 a step failed or timed out, 2 nvidia-smi sees a GPU but CuPy is unusable,
# 3 stopped from outside (SIGTERM/SIGINT; summary.json still says what was measured).
#   TT_GIT_COMMIT=<sha> bash tools/gpu_validate.sh   # where the copy of the tree has no .git
#
# Results go to $OUT when it is set (the device tool brings back up to 8 files from there), else to
# benchmarks/results/gpu-<UTC date>/. Extra arguments pass through (e.g. --budget 300, --shards 4, --cpu-tests).
set -u
cd "$(dirname "$0")/.." || exit 2
PY="${PYTHON:-python3}"
command -v "$PY" >/dev/null 2>&1 || PY=python
export PYTHONPATH=".${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONUNBUFFERED=1
export MPLBACKEND="${MPLBACKEND:-Agg}"
if [ -n "${OUT:-}" ]; then
  DEST="$OUT"
else
  DEST="benchmarks/results/gpu-$(date -u +%Y%m%d-%H%M%S)"
fi
mkdir -p "$DEST" || exit 2
exec "$PY" tools/gpu_validate.py --out "$DEST" "$@"
