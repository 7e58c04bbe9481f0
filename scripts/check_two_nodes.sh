#!/usr/bin/env bash
# Two-"node" data-parallel training on one machine: two torchrun launches (--nnodes 2, one rank
# each) meet at a c10d rendezvous on 127.0.0.1, train a tiny COALA-PPO run, and the result is
# compared with the same run in one process (same parameters within float reduction error).
#
#   bash scripts/check_two_nodes.sh [PORT]     # PYTHON=... to pick the interpreter (default .venv/bin/python)
#
# Only loopback addresses are used. Exit status 0 when the two runs agree. On real machines the
# same launch is `torchrun --nnodes N --nproc-per-node G --rdzv-backend c10d
# --rdzv-endpoint HOST:PORT --rdzv-id JOB -m social_dilemmas.cli train ...` on every machine.
set -euo pipefail

PY=${PYTHON:-.venv/bin/python}
PORT=${1:-29533}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
TRAIN=(train coala --preset ipd-shaping-quick --iterations 3 --meta-batch 6 --batch-size 2
       --num-inner-episodes 3 --naive-population-size 2 --seed 5 --checkpoint-every 1 --no-progress
       --tensorboard False)

for node in 0 1; do
  # (node 1 is started a little later; both wait for each other at the rendezvous)
  timeout 300 "$PY" -m torch.distributed.run --nnodes 2 --nproc-per-node 1 --node-rank "$node" \
    --rdzv-backend c10d --rdzv-endpoint "127.0.0.1:$PORT" --rdzv-id sd-two-nodes --max-restarts 0 \
    -m social_dilemmas.cli "${TRAIN[@]}" --run-dir "$TMP/two" > "$TMP/node$node.log" 2>&1 &
  pids[node]=$!
  sleep 1
done
status=0
for node in 0 1; do
  wait "${pids[node]}" || { status=$?; echo "node $node failed (exit $status):"; tail -20 "$TMP/node$node.log"; }
done
[ "$status" -eq 0 ] || exit "$status"

"$PY" -m social_dilemmas.cli "${TRAIN[@]}" --run-dir "$TMP/one" > "$TMP/one.log"

"$PY" - "$TMP/two/checkpoint.pt" "$TMP/one/checkpoint.pt" <<'EOF'
import sys

import torch

two, one = (torch.load(p, weights_only=False) for p in sys.argv[1:3])
assert two["iteration"] == one["iteration"] == 3, (two["iteration"], one["iteration"])
worst = max(float((two["model"][k] - v).abs().max()) for k, v in one["model"].items())
ok = all(torch.allclose(two["model"][k], v, rtol=1e-4, atol=1e-5) for k, v in one["model"].items())
print(f"two nodes vs one process after 3 iterations: max |parameter difference| = {worst:.3g}",
      "(agree)" if ok else "(DISAGREE)")
sys.exit(0 if ok else 1)
EOF
