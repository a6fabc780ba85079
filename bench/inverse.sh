#!/usr/bin/env bash
# The inverse map (fit-inverse, paper §5) on the paper's sets, with the settings of a user who
# gives no flags: the round trip (x, v) -> (J, theta) -> (x', v') on the model's held-out
# streams and on orbits it never saw (mean and median |x - x'| in kpc, |v - v'| in km/s,
# from `apply`'s /particles/roundtrip_error as `validate` summarises it), against the paper's
# mean absolute deviations, and the wall time of the inverse pass.
#
#   bash bench/inverse.sh [CASE ...]   cases: iso-plus20 mw-halo (default: both)
#   MODELS=DIR bash bench/inverse.sh   reuse action maps trained beforehand in DIR/CASE
#                                      (copied: the inverse is fitted on the copy)
#   INVERSE_FLAGS="--inverse-samples 2" bash bench/inverse.sh   extra fit-inverse flags
#
# iso-plus20: AGAMA isochrone halo (1024 streams), toy M and b both 20% high (paper: dx 0.3 kpc,
#             dv 2.6 km/s); unseen: 1024 orbits generated in the same isochrone (seed 2);
# mw-halo:    AGAMA Milky-Way halo orbits, trained on the 1024-orbit set (paper: 0.24 kpc,
#             4.4 km/s); unseen: the AGAMA 256-orbit set.
# Training an action map takes about an hour each on 2 cores; the inverse pass 15-30 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
AF=$PWD/target/release/actionfinder
D=$PWD/tests/data
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cases=("$@")
[ ${#cases[@]} -gt 0 ] || cases=(iso-plus20 mw-halo)

seconds() { local t0=$SECONDS; "$@" > "$tmp/last.log" 2>&1; echo $((SECONDS - t0)); }

# Round-trip numbers of a validate --json report.
roundtrip() {
  python3 - "$1" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["roundtrip"]["all"]
print(f"|dx| mean {r['mean_dx']:.3f} kpc (median {r['median_dx']:.3f}), "
      f"|dv| mean {r['mean_dv']:.2f} km/s (median {r['median_dv']:.2f}) over {r['points']} points")
PY
}

# An action map in $tmp/$1: copied from MODELS/$1, or trained on $2 with the train flags.
action_map() {
  local name=$1 data=$2; shift 2
  if [ -n "${MODELS:-}" ] && [ -e "$MODELS/$name/model.json" ]; then
    mkdir -p "$tmp/$name"
    cp "$MODELS/$name/model.json" "$MODELS/$name/model.safetensors" "$tmp/$name/"
  else
    echo "  $name: training the action map ($(seconds "$AF" train "$data" --out "$tmp/$name" "$@") s)"
  fi
}

# fit-inverse (timed) on the training set, then the round trip on the unseen set.
inverse() {
  local name=$1 data=$2 unseen=$3 paper=$4
  # shellcheck disable=SC2086 # the flags are words
  echo "  $name: inverse pass $(seconds "$AF" fit-inverse "$tmp/$name" "$data" ${INVERSE_FLAGS:-}) s; paper $paper"
  grep -E "round trip|toy inverse|learned inverse" "$tmp/last.log" | sed 's/^/    /'
  "$AF" apply "$tmp/$name" "$unseen" --out "$tmp/$name.h5" > /dev/null 2>&1
  "$AF" validate "$tmp/$name.h5" --truth "$unseen" --json > "$tmp/$name.json" 2> /dev/null
  echo "    unseen orbits: $(roundtrip "$tmp/$name.json")"
}

for c in "${cases[@]}"; do
  case $c in
  iso-plus20)
    "$AF" generate --potential isochrone:M=3.334e11,b=5 --recipe halo --streams 1024 --stars 8 \
      --duration 0.1 --seed 2 --out "$tmp/iso_unseen.h5" > /dev/null
    action_map iso-plus20 "$D/agama_isochrone_halo_1024.h5" --toy M=4.0008e11,b=6
    inverse iso-plus20 "$D/agama_isochrone_halo_1024.h5" "$tmp/iso_unseen.h5" "dx 0.3 kpc, dv 2.6 km/s"
    ;;
  mw-halo)
    action_map mw-halo "$D/agama_mw_halo_1024.h5"
    inverse mw-halo "$D/agama_mw_halo_1024.h5" "$D/agama_mw_halo_256.h5" "dx 0.24 kpc, dv 4.4 km/s"
    ;;
  *)
    echo "unknown case $c (iso-plus20, mw-halo)" >&2
    exit 2
    ;;
  esac
done
