#!/usr/bin/env bash
# Leapfrog particle-steps per second per core, actionfinder vs galpy's C leapfrog, on the same
# orbits with the same fixed step, in one run. Installs the peer in bench/.venv.
# Usage: bash bench/leapfrog.sh [ORBITS] [STEPS]
# The last columns compare final positions: galpy's leapfrog is drift-kick-drift, ours
# kick-drift-kick, so they agree to the schemes' O(dt^2) error, not to round-off.
set -euo pipefail
cd "$(dirname "$0")/.."
ORBITS=${1:-1000}
STEPS=${2:-10000}
source bench/common.sh
printf '%-24s %-12s %14s %14s %8s %24s\n' potential recipe "ours [/s/core]" "galpy [/s/core]" "x faster" "|dx|/|x| median, max"
while read -r pot recipe dt; do
  RAYON_NUM_THREADS=1 ./target/release/actionfinder bench leapfrog --potential "$pot" --recipe "$recipe" \
    --orbits "$ORBITS" --steps "$STEPS" --dt "$dt" --threads 1 \
    --ics-out "$tmp/ics.txt" --final-out "$tmp/ours.txt" >"$tmp/ours.json"
  OMP_NUM_THREADS=1 "$VENV/bin/python" bench/leapfrog_galpy.py --potential "$pot" --ics "$tmp/ics.txt" \
    --steps "$STEPS" --dt "$dt" --final-out "$tmp/galpy.txt" >"$tmp/galpy.json"
  "$VENV/bin/python" - "$tmp" "$pot" "$recipe" <<'PY'
import json, sys
import numpy as np
tmp, pot, recipe = sys.argv[1:]
ours = json.load(open(f"{tmp}/ours.json"))["particle_steps_per_second_per_core"]
peer = json.load(open(f"{tmp}/galpy.json"))["particle_steps_per_second_per_core"]
a, b = np.loadtxt(f"{tmp}/ours.txt", ndmin=2), np.loadtxt(f"{tmp}/galpy.txt", ndmin=2)
dx = np.linalg.norm(a[:, :3] - b[:, :3], axis=1) / np.linalg.norm(b[:, :3], axis=1)
print(f"{pot:<24} {recipe:<12} {ours:14.3e} {peer:14.3e} {ours / peer:8.2f} {np.median(dx):11.2e} {dx.max():11.2e}")
PY
done <<'CASES'
plummer:M=5e5,a=0.02 equilibrium 1e-5
mw2014 halo 1e-5
CASES
