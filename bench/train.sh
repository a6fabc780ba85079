#!/usr/bin/env bash
# One ActionFinder training step (paper listing 1: fixed point for J', generating function G and
# point transform P with their input derivatives, J'' through A^-1, spread loss, backward, Adam),
# seconds per step on the CPU in f64, actionfinder (candle) vs PyTorch on the same network sizes
# and batch shapes, in one run. Installs torch in bench/.venv. bench/train_step_torch.py --check
# verifies the PyTorch step (finite differences, falling loss).
# Usage: bash bench/train.sh [STEPS] [THREADS]
# The machine has 2 cores: run it while nothing else does (a busy core makes every multi-threaded
# op wait a scheduler slice; THREADS=1 is steadier then).
set -euo pipefail
cd "$(dirname "$0")/.."
STEPS=${1:-20}
THREADS=${2:-2}
source bench/common.sh
install_torch
bin=./target/release/actionfinder
ours=1
if ! "$bin" bench train --help >/dev/null 2>&1; then
  echo "note: '$bin bench train' is not there yet: timing the PyTorch side only" >&2
  ours=0
fi
printf '%-22s %10s %16s %16s %9s\n' "width,max,dG,dP,S,N" params "torch [s/step]" "ours [s/step]" "x faster"
while read -r width max_width depth_g depth_p streams points; do
  args=(--width "$width" --max-width "$max_width" --depth-g "$depth_g" --depth-p "$depth_p"
    --streams "$streams" --points "$points" --steps "$STEPS")
  OMP_NUM_THREADS=$THREADS MKL_NUM_THREADS=$THREADS "$VENV/bin/python" bench/train_step_torch.py \
    "${args[@]}" --threads "$THREADS" >"$tmp/torch.json"
  : >"$tmp/ours.json"
  if [ "$ours" = 1 ]; then
    # ---- Rust side (src/nn, src/train): prints one JSON line {"seconds_per_step": ...} ----
    RAYON_NUM_THREADS=$THREADS CANDLE_NUM_THREADS=$THREADS "$bin" bench train "${args[@]}" --json >"$tmp/ours.json"
  fi
  "$VENV/bin/python" - "$tmp" "$width,$max_width,$depth_g,$depth_p,$streams,$points" <<'PY'
import json, sys
tmp, case = sys.argv[1:]
def last(f):
    lines = open(f).read().strip().splitlines()
    return json.loads(lines[-1]) if lines else None
peer, ours = last(f"{tmp}/torch.json"), last(f"{tmp}/ours.json")
t = peer["seconds_per_step"]
if ours is None:
    print(f"{case:<22} {peer['params']:10d} {t:16.4f} {'-':>16} {'-':>9}")
else:
    o = ours["seconds_per_step"]
    note = ""
    if "params" in ours and ours["params"] != peer["params"]:
        note = f"  (ours has {ours['params']} parameters)"
    print(f"{case:<22} {peer['params']:10d} {t:16.4f} {o:16.4f} {t / o:9.2f}{note}")
PY
done <<'CASES'
64 64 3 2 32 8
64 64 3 2 256 8
64 256 5 3 128 8
CASES
"$VENV/bin/python" -c "import torch; print('torch', torch.__version__, '-', $THREADS, 'threads')"
