#!/usr/bin/env bash
# The learned field on a live, self-gravitating N-body run made with REBOUND (PyPI, Barnes-Hut
# tree): a Plummer sphere (M = 1e10 Msun, a = 1 kpc, N = 2e4, truncated at 10 a, softening
# 0.05 a, opening angle 0.5, fixed-step leapfrog), 8 Gadget-4-style snapshots over 0.3 of the
# radial period at the half-mass radius after a burn-in of 0.25 of it; `tracks` -> `train
# --field` on a random subset of the tracks -> `apply`, and bench/live_nbody.py's judgement:
# the learned acceleration against the spherically averaged field of the snapshot's own
# particles (about the centre of mass) and the analytic Plummer field, beside the scatter of
# the particles' own tree forces about that smooth field; energy drift along the tracks and
# the action spread. Then the field alone again with dJ''/dt only (--energy-weight 0
# --action-weight 1) and with --field-penalty l2, judged on the held-out streams.
#
#   bash bench/live_nbody.sh [OUTDIR]     (default: a temporary directory, removed at the end;
#                                          an OUTDIR holding run/fields.h5 reuses that N-body run)
#
# Environment: STREAMS (tracks used for learning, default 1024), EPOCHS (action map, 150),
# N (particles, 20000), AXI (1, default: also train with --axisymmetric; 0: skip, 4.5 min less).
# About 15 minutes on a 2-core CPU (10 with AXI=0).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=bench/.venv
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check rebound==5.2.2 h5py numpy
cargo build --release --quiet
py="$VENV/bin/python"
AF=${AF:-$PWD/target/release/actionfinder}
STREAMS=${STREAMS:-1024}
EPOCHS=${EPOCHS:-150}
N=${N:-20000}
if [ $# -gt 0 ]; then
  out=$1
  mkdir -p "$out"
else
  out=$(mktemp -d)
  trap 'rm -rf "$out"' EXIT
fi
export RUST_LOG=${RUST_LOG:-warn}

timed() { # name, command...: runs it, logs to $out/name.log, prints the wall time
  local name=$1 t0=$SECONDS
  shift
  "$@" >"$out/$name.log" 2>&1 || { tail -20 "$out/$name.log"; exit 1; }
  echo "$name: $((SECONDS - t0)) s" | tee -a "$out/times.txt"
}
judge() { # label, catalog
  "$py" bench/live_nbody.py evaluate "$out/run" "$2" --label "$1" --json "$out/$1.json" >/dev/null
}

if [ -s "$out/run/fields.h5" ]; then
  echo "simulate: reusing $out/run"
else
  timed simulate "$py" bench/live_nbody.py simulate "$out/run" --n "$N" --burn 0.25 --box 100
fi
timed tracks "$AF" tracks "$out/run/snapshots" --out "$out/streams.h5" --center com --streams "$STREAMS"
timed train "$AF" train "$out/streams.h5" --out "$out/model" --epochs "$EPOCHS" --field
timed apply "$AF" apply "$out/model" "$out/streams.h5" --out "$out/catalog.h5"
"$AF" apply "$out/model" "$out/streams.h5" --subset validation --out "$out/val.h5" >/dev/null 2>&1
judge default_all "$out/catalog.h5"
judge default_val "$out/val.h5"

variant() { # name, fit-field flags...
  local name=$1
  shift
  rm -rf "$out/model_$name"
  cp -r "$out/model" "$out/model_$name"
  timed "fit_$name" "$AF" fit-field "$out/model_$name" "$out/streams.h5" "$@"
  "$AF" apply "$out/model_$name" "$out/streams.h5" --subset validation --out "$out/val_$name.h5" >/dev/null 2>&1
  judge "${name}_val" "$out/val_$name.h5"
}
variant actions_only --energy-weight 0 --action-weight 1
variant l2 --field-penalty l2
if [ "${AXI:-1}" = 1 ]; then
  timed train_axi "$AF" train "$out/streams.h5" --out "$out/model_axi" --epochs "$EPOCHS" --field --axisymmetric
  "$AF" apply "$out/model_axi" "$out/streams.h5" --subset validation --out "$out/val_axi.h5" >/dev/null 2>&1
  judge axi_val "$out/val_axi.h5"
fi

"$py" - "$out" <<'PY'
import glob, json, os, sys
out = sys.argv[1]
rows = [json.load(open(f)) for f in sorted(glob.glob(os.path.join(out, "*_*.json")))]
fmt = "{:<18} {:>7} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}"
print(fmt.format("run", "streams", "L/sph", "L/sph md", "L/Plum", "L/Plum md", "Nb/sph", "Nb/sph md", "E drift"))
for r in rows:
    ls, lp, nb = r.get("learned_vs_sph", {}), r.get("learned_vs_plummer", {}), r["nbody_vs_sph"]
    print(fmt.format(r["label"], r["streams"], *(f"{x:.4f}" if x is not None else "-" for x in (
        ls.get("mean"), ls.get("median"), lp.get("mean"), lp.get("median"), nb["mean"], nb["median"],
        r.get("energy_drift_learned", {}).get("median")))))
PY
