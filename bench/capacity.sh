#!/usr/bin/env bash
# Network capacity against time on this CPU: each network shape is trained with the default
# options (plateau schedule, --axisymmetric auto) on the AGAMA Milky-Way halo set of 1024
# orbits for the same wall-time budget (train --time-limit), then
#   - chosen on: the mean absolute action error (kpc km/s, mean of J_r, J_z, J_phi) of the
#     streams the run held out for validation (apply --subset validation), torus truth;
#   - reported on: the same error on the unseen 256-orbit set, beside the Staeckel fudge's.
# The table gives parameters, seconds per epoch, epochs reached in the budget, the best
# epoch's validation J'' spread (the loss, no truth) and both errors.
#
#   bash bench/capacity.sh [BUDGET_S [SHAPE ...]]     SHAPE = width,max_width,depth_g,depth_p
#
# Defaults: BUDGET_S = 900; shapes 32,32,2,2  64,64,3,2 (the default)  128,128,3,2
# 64,256,5,3  64,1024,11,11 (the paper's G: 64 -> 1024 -> 64 over 11 blocks, and P as deep).
# THREADS (default 1) threads per run and JOBS (default 2) runs at a time: one core each on a
# 2-core machine, so every shape sees the same machine. Results go to OUT (default
# bench/out/capacity/BUDGET_S); a shape already done there is not run again.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
AF=$PWD/target/release/actionfinder
D=$PWD/tests/data
BUDGET=${1:-900}
shift || true
shapes=("$@")
[ ${#shapes[@]} -gt 0 ] || shapes=(32,32,2,2 64,64,3,2 128,128,3,2 64,256,5,3 64,1024,11,11)
THREADS=${THREADS:-1}
JOBS=${JOBS:-2}
OUT=${OUT:-$PWD/bench/out/capacity/$BUDGET}
mkdir -p "$OUT"

# Train one shape, apply to the held-out streams and the unseen set, validate both.
run_shape() {
  local shape=$1 dir="$OUT/$1"
  [ -f "$dir/done" ] && return 0
  local w mw dg dp
  IFS=, read -r w mw dg dp <<<"$shape"
  rm -rf "$dir" && mkdir -p "$dir"
  export RAYON_NUM_THREADS=$THREADS CANDLE_NUM_THREADS=$THREADS
  "$AF" train "$D/agama_mw_halo_1024.h5" --out "$dir/model" --width "$w" --max-width "$mw" \
    --depth-g "$dg" --depth-p "$dp" --time-limit "$BUDGET" --checkpoint-every 0 \
    >"$dir/train.log" 2>&1
  "$AF" apply "$dir/model" "$D/agama_mw_halo_1024.h5" --subset validation \
    --out "$dir/held_out.h5" >"$dir/apply_held_out.log" 2>&1
  "$AF" validate "$dir/held_out.h5" --truth "$D/agama_mw_halo_1024.h5" --json \
    --plots "$dir/plots_held_out" >"$dir/held_out.json"
  "$AF" apply "$dir/model" "$D/agama_mw_halo_256.h5" --out "$dir/unseen.h5" \
    >"$dir/apply_unseen.log" 2>&1
  "$AF" validate "$dir/unseen.h5" --truth "$D/agama_mw_halo_256.h5" --json \
    --plots "$dir/plots_unseen" >"$dir/unseen.json"
  "$AF" bench train --width "$w" --max-width "$mw" --depth-g "$dg" --depth-p "$dp" \
    --streams 32 --points 8 --steps 1 --json | tail -1 >"$dir/params.json"
  touch "$dir/done"
}

running=0
for shape in "${shapes[@]}"; do
  run_shape "$shape" &
  running=$((running + 1))
  if [ "$running" -ge "$JOBS" ]; then
    wait -n
    running=$((running - 1))
  fi
done
wait

python3 - "$OUT" "$BUDGET" "${shapes[@]}" <<'PY'
import json, sys
out, budget, shapes = sys.argv[1], sys.argv[2], sys.argv[3:]
def error(report):
    return report["actions"]["all"]["mean_abs_overall"]
def fudge(report):
    for b in report["baselines"]:
        if b["name"] == "staeckel":
            return b["all"]["mean_abs_overall"]
    return float("nan")
print(f"budget {budget} s per shape; train on agama_mw_halo_1024, choose on its held-out "
      "streams, report on the unseen agama_mw_halo_256 (kpc km/s, mean of three)")
print(f"{'width,max,dG,dP':<16} {'params':>9} {'s/epoch':>8} {'epochs':>7} {'best':>5} "
      f"{'val spread':>10} {'held-out':>9} {'unseen':>8} {'fudge':>7}")
for shape in shapes:
    d = f"{out}/{shape}"
    try:
        model = json.load(open(f"{d}/model/model.json"))["training"]
        held, unseen = json.load(open(f"{d}/held_out.json")), json.load(open(f"{d}/unseen.json"))
        params = json.load(open(f"{d}/params.json"))["params"]
    except (OSError, KeyError, ValueError) as e:
        print(f"{shape:<16} not run or failed ({e}); see {d}")
        continue
    hist = model["history"]
    per_epoch = hist[-1]["wall_s"] / len(hist)
    best = model["best_epoch"]
    spread = next(r["val_spread"] for r in hist if r["epoch"] == best)
    print(f"{shape:<16} {params:>9d} {per_epoch:>8.2f} {len(hist):>7d} {best:>5d} "
          f"{spread:>10.3f} {error(held):>9.3f} {error(unseen):>8.3f} {fudge(unseen):>7.3f}")
PY
