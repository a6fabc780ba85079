#!/usr/bin/env bash
# Classic action finders, microseconds per point on one core (actions, frequencies and
# angles), actionfinder vs galpy's C implementations on the same points in one run; then our
# scaling from 1e3 to 1e6 points. Installs the peer in bench/.venv.
# Usage: bash bench/actions.sh [POINTS]
set -euo pipefail
cd "$(dirname "$0")/.."
POINTS=${1:-20000}
source bench/common.sh
bin=./target/release/actionfinder
printf '%-22s %-12s %-20s %12s %12s %8s %22s\n' potential recipe method "ours [us]" "galpy [us]" "x faster" "|dJ|/|J| median, max"
while read -r pot recipe method; do
  RAYON_NUM_THREADS=1 $bin bench actions --potential "$pot" --recipe "$recipe" --method "$method" \
    --points "$POINTS" --threads 1 --points-out "$tmp/points.txt" --actions-out "$tmp/ours.txt" >"$tmp/ours.json"
  OMP_NUM_THREADS=1 "$VENV/bin/python" bench/actions_galpy.py --potential "$pot" --method "$method" \
    --points "$tmp/points.txt" --actions-out "$tmp/galpy.txt" >"$tmp/galpy.json"
  "$VENV/bin/python" - "$tmp" "$pot" "$recipe" "$method" <<'PY'
import json, sys
import numpy as np
tmp, pot, recipe, method = sys.argv[1:]
last = lambda f: json.loads(open(f).read().strip().splitlines()[-1])  # galpy may print warnings first
ours = last(f"{tmp}/ours.json")["microseconds_per_point"]
peer = last(f"{tmp}/galpy.json")["microseconds_per_point"]
a, b = np.loadtxt(f"{tmp}/ours.txt", ndmin=2), np.loadtxt(f"{tmp}/galpy.txt", ndmin=2)
# galpy marks the orbits it gives up on (apocentre beyond its search range) with 9999.99.
sentinel = np.any(np.abs(b) > 9999 * 8 * 220, axis=1)
ok = np.all(np.isfinite(a), axis=1) & np.all(np.isfinite(b), axis=1) & ~sentinel
d = np.linalg.norm(a[ok] - b[ok], axis=1) / np.linalg.norm(b[ok], axis=1)
note = f"  ({sentinel.sum()} galpy failures left out)" if sentinel.any() else ""
print(f"{pot:<22} {recipe:<12} {method:<20} {ours:12.2f} {peer:12.2f} {peer / ours:8.2f} {np.median(d):10.2e} {d.max():10.2e}{note}")
PY
done <<'CASES'
plummer:M=5e5,a=0.02 equilibrium spherical
mw2014 disk staeckel:delta=3.2
mw2014 halo staeckel:delta=3.2
CASES
echo
echo "scaling (ours, all cores):"
for n in 1000 10000 100000 1000000; do
  $bin bench actions --potential mw2014 --recipe disk --method staeckel:delta=3.2 --points $n --threads "$(nproc)"
done
