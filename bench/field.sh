#!/usr/bin/env bash
# The learned field (fit-field) on the reference sets, with the settings of a user who gives
# no flags: mean relative acceleration error against the truth on held-out streams and on
# unseen orbits, potential and frequency errors, and the wall time of the field pass beside
# the action pass on the same data (2-core CPU, all threads for both).
#
#   bash bench/field.sh [CASE ...]    cases: isochrone mw-halo mw-disk (default: all)
#
# isochrone: AGAMA isochrone halo, toy at the truth and toy 10% off (held-out streams);
# mw-halo: AGAMA Milky-Way halo orbits, trained on the 1024-orbit set, reported on the
#          unseen 256-orbit set, potential form and the paper's vector form side by side;
# mw-disk: AGAMA disk orbits, trained on the 8192-orbit set (--axisymmetric), reported on the
#          unseen 512-orbit set (about an hour on 2 cores).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
AF=$PWD/target/release/actionfinder
D=$PWD/tests/data
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cases=("$@")
[ ${#cases[@]} -gt 0 ] || cases=(isochrone mw-halo mw-disk)

seconds() { local t0=$SECONDS; "$@" > "$tmp/last.log" 2>&1; echo $((SECONDS - t0)); }

# Field numbers of a validate --json report: acceleration mean and median, potential, frequencies.
field_numbers() {
  python3 - "$1" <<'PY'
import json, sys
f = json.load(open(sys.argv[1]))["field"]
a = f["acceleration"]["all"]; p = f["potential"]; q = f["frequencies"]
print(f"acceleration mean {a['relative_mean']:.3e} median {a['relative_median']:.3e}", end="")
if p: print(f"; potential {p['all']['relative_mean']:.3e}", end="")
if q: print(f"; frequencies {q['all']['relative_mean_overall']:.3e}", end="")
print()
PY
}

held_out() { grep -E "held-out streams|per-point solution" "$tmp/last.log" | sed 's/^/    /'; }

# train (timed), fit-field (timed), and the held-out numbers; $1 name, $2 data, rest: train flags.
learn() {
  local name=$1 data=$2; shift 2
  local ta tf
  ta=$(seconds "$AF" train "$data" --out "$tmp/$name" "$@")
  tf=$(seconds "$AF" fit-field "$tmp/$name" "$data")
  echo "  $name: action pass ${ta} s, field pass ${tf} s (ratio $(python3 -c "print(f'{$tf/max($ta,1):.2f}')"))"
  held_out
}

unseen() {
  local name=$1 data=$2
  "$AF" apply "$tmp/$name" "$data" --out "$tmp/$name.h5" > /dev/null 2>&1
  "$AF" validate "$tmp/$name.h5" --truth "$data" --json > "$tmp/$name.json" 2> /dev/null
  echo "    unseen orbits: $(field_numbers "$tmp/$name.json")"
}

for c in "${cases[@]}"; do
  case $c in
  isochrone)
    echo "isochrone halo (AGAMA, 1024 streams x 8 points):"
    learn iso-true "$D/agama_isochrone_halo_1024.h5" --toy M=3.334e11,b=5 --epochs 20
    learn iso-off "$D/agama_isochrone_halo_1024.h5" --toy M=3.6674e11,b=5.5
    ;;
  mw-halo)
    echo "Milky-Way halo orbits (AGAMA, McMillan17; train on 1024, report on the unseen 256):"
    learn mw "$D/agama_mw_halo_1024.h5"
    unseen mw "$D/agama_mw_halo_256.h5"
    mkdir -p "$tmp/mw-vector"
    cp "$tmp/mw/model.json" "$tmp/mw/model.safetensors" "$tmp/mw-vector/"
    "$AF" fit-field "$tmp/mw-vector" "$D/agama_mw_halo_1024.h5" --form vector > "$tmp/last.log" 2>&1
    echo "  vector form (the paper's, dJ''/dt = 0):"
    held_out
    unseen mw-vector "$D/agama_mw_halo_256.h5"
    ;;
  mw-disk)
    echo "Milky-Way disk orbits (AGAMA; train on 8192 with --axisymmetric, report on the unseen 512):"
    learn disk "$D/agama_mw_disk_8192.h5" --axisymmetric
    unseen disk "$D/agama_mw_disk_512.h5"
    ;;
  *) echo "unknown case $c (isochrone, mw-halo, mw-disk)" >&2; exit 2 ;;
  esac
done
