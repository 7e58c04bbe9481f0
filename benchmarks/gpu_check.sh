#!/usr/bin/env bash
# One command for a CUDA machine: every CUDA test, then the IPD-core, gridworld, meta-environment,
# model and training benchmarks on `cuda`, each writing benchmarks/results/*_gpu.json.
#
#   bash benchmarks/gpu_check.sh            # on a machine with an NVIDIA GPU (about 5-8 minutes)
#   bash benchmarks/gpu_check.sh --dry-run  # print the steps without running them (any machine)
#
# PYTHON=... picks the interpreter (default .venv/bin/python, as `make install` creates it).
# Every step has its own time limit so the whole check stays under 8 minutes; a failed step is
# reported and the others still run; the exit status is the number of failed steps (0 = all passed).
# With two or more GPUs it also times 2 data-parallel NCCL ranks (one GPU each).
set -uo pipefail

cd "$(dirname "$0")/.." || exit 2
PY=${PYTHON:-.venv/bin/python}
RES=benchmarks/results
DRY=0
case "${1:-}" in
  --dry-run) DRY=1 ;;
  "") ;;
  *) echo "usage: bash benchmarks/gpu_check.sh [--dry-run]" >&2; exit 2 ;;
esac

failed=0
step() {  # step NAME SECONDS CMD...
  local name=$1 limit=$2
  shift 2
  echo "== $name (limit ${limit} s): $*"
  [ "$DRY" -eq 1 ] && return 0
  local t0=$SECONDS
  if timeout "$limit" "$@"; then
    echo "== $name: ok in $((SECONDS - t0)) s"
  else
    echo "== $name: FAILED (exit $?) after $((SECONDS - t0)) s"
    failed=$((failed + 1))
  fi
}

gpus=0
if [ "$DRY" -eq 0 ]; then
  if ! gpus=$("$PY" -c "import torch; print(torch.cuda.device_count() if torch.cuda.is_available() else 0)"); then
    echo "cannot run $PY with torch (run make install first)" >&2
    exit 2
  fi
  if [ "$gpus" -lt 1 ]; then
    echo "no CUDA device visible to torch ($("$PY" -c 'import torch; print(torch.__version__)')): nothing to check" >&2
    exit 2
  fi
  "$PY" -c "import torch; print('GPU:', torch.cuda.get_device_name(0), '| torch', torch.__version__, '| devices', torch.cuda.device_count())"
fi
mkdir -p "$RES"

# CUDA tests: device-parametrised ones ([cuda] ids) and those marked gpu (slow ones excluded).
step "CUDA tests" 120 "$PY" -m pytest -q -p no:cacheprovider -n 0 -m "gpu or not slow" -k "cuda or gpu" tests
step "IPD core" 45 "$PY" -m social_dilemmas.cli bench IPD-v0 --device cuda --batch 1,1024,65536,1048576 \
  --repeats 3 --out "$RES/ipd_gpu.json"
step "gridworlds" 50 "$PY" benchmarks/bench_gridworlds.py --device cuda --batch 1024,65536 --repeats 3 \
  --no-validate-runs --no-jaxmarl --out "$RES/gridworlds_gpu.json"
step "policy networks" 40 "$PY" benchmarks/bench_models.py --device cuda --repeats 3 --out "$RES/models_gpu.json"
step "meta-environment" 50 "$PY" benchmarks/bench_meta_env.py --device cuda --models hawk --repeats 3 --ego hawk \
  --out "$RES/meta_env_gpu.json"
step "training iteration" 75 "$PY" benchmarks/bench_training.py --device cuda --iterations 4 --warmup 1 \
  --out "$RES/training_ipd_gpu.json"
if [ "$DRY" -eq 1 ] || [ "$gpus" -ge 2 ]; then
  step "training iteration, 2 NCCL ranks" 60 "$PY" -m torch.distributed.run --nproc-per-node 2 \
    --rdzv-backend c10d --rdzv-endpoint 127.0.0.1:29581 benchmarks/bench_training.py --device cuda \
    --iterations 4 --warmup 1 --out "$RES/training_ipd_gpu_2ranks.json"
fi
[ "$DRY" -eq 1 ] && { echo "(dry run: nothing was run)"; exit 0; }
echo "== $failed step(s) failed; results in $RES/*_gpu.json"
exit "$failed"
