#!/usr/bin/env bash
# A learned torus against the orbit it stands for: orbits integrated in the known potential
# (`generate --recipe orbits`, 4th-order symplectic) are mapped by a model with an inverse
# (`apply`); each orbit's one torus (its mean learned actions) is then sampled at the angles
# the map gives its points (`invert`), and the sampled (x', v') are compared with the
# integrated (x, v): mean and median |x - x'| / |x| and |v - v'| / |v| per orbit and overall.
#
#   bash bench/torus_orbit.sh MODEL_DIR TRAIN.h5 UNSEEN.h5 POTENTIAL DURATION_GYR
#
# MODEL_DIR: an action map trained on TRAIN.h5 (copied; the inverse is fitted on the copy
# unless the model has one); UNSEEN.h5: a streams dataset whose first points of 8 streams start
# the orbits; POTENTIAL as for `generate`; each orbit 400 points over DURATION_GYR.
# INVERSE_FLAGS: extra fit-inverse flags (e.g. "--inverse-epochs 60 --inverse-samples 2").
#
# Measured (docs/notes/inverse.md): the Plummer row of bench/paper.sh, 0.2 Gyr (17 periods).
set -euo pipefail
[ $# -eq 5 ] || { sed -n 2,14p "$0"; exit 2; }
model=$1 train=$2 unseen=$3 potential=$4 duration=$5
cd "$(dirname "$0")/.."
cargo build --release --quiet
AF=$PWD/target/release/actionfinder
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -a "$model" "$tmp/model"
rm -rf "$tmp/model/checkpoint" "$tmp/model/checkpoint.previous"
if [ ! -e "$tmp/model/inverse.safetensors" ]; then
  # shellcheck disable=SC2086
  "$AF" fit-inverse "$tmp/model" "$train" ${INVERSE_FLAGS:-} > "$tmp/fit.log" 2>&1
fi
python3 - "$unseen" "$tmp/ic.txt" <<'PY'
import sys, h5py
f = h5py.File(sys.argv[1], "r")
xv = f["streams/xv"][:]
first = xv[:, 0] if xv.ndim == 3 else xv[f["streams/offsets"][:-1]]
with open(sys.argv[2], "w") as out:
    for s in [s for s in range(0, 64, 8) if s < len(first)]:
        out.write(" ".join(f"{v:.17g}" for v in first[s]) + "\n")
PY
n=$(wc -l < "$tmp/ic.txt")
"$AF" generate --potential "$potential" --recipe orbits --initial-file "$tmp/ic.txt" --streams "$n" \
  --stars 400 --even-times --duration "$duration" --out "$tmp/orbits.h5" > "$tmp/gen.log" 2>&1
"$AF" apply "$tmp/model" "$tmp/orbits.h5" --out "$tmp/mapped.h5" > "$tmp/apply.log" 2>&1
python3 - "$tmp/mapped.h5" "$tmp/torus.h5" <<'PY'
import sys, shutil, h5py, numpy as np
shutil.copy(sys.argv[1], sys.argv[2])
with h5py.File(sys.argv[2], "r+") as f:
    j = f["particles/actions"][:]
    s = f["particles/stream"][:]
    for k in np.unique(s):
        j[s == k] = np.nanmean(j[s == k], axis=0)
    f["particles/actions"][:] = j
PY
"$AF" invert "$tmp/model" "$tmp/torus.h5" --out "$tmp/sampled.h5" > "$tmp/invert.log" 2>&1
python3 - "$tmp/orbits.h5" "$tmp/sampled.h5" <<'PY'
import sys, h5py, numpy as np
x = h5py.File(sys.argv[1], "r")["streams/xv"][:].reshape(-1, 6)
f = h5py.File(sys.argv[2], "r")
y, stream, flag = f["particles/xv"][:], f["particles/stream"][:], f["particles/flag"][:]
rx = np.linalg.norm(x[:, :3] - y[:, :3], axis=1) / np.linalg.norm(x[:, :3], axis=1)
rv = np.linalg.norm(x[:, 3:] - y[:, 3:], axis=1) / np.linalg.norm(x[:, 3:], axis=1)
ok = np.isfinite(rx) & np.isfinite(rv)
for k in np.unique(stream):
    m = ok & (stream == k)
    print(f"orbit {k}: |dx|/|x| mean {rx[m].mean():.4f}, |dv|/|v| mean {rv[m].mean():.4f}")
print(f"all {ok.sum()} points ({(flag != 0).sum()} flagged): |dx|/|x| mean {rx[ok].mean():.4f} "
      f"(median {np.median(rx[ok]):.4f}), |dv|/|v| mean {rv[ok].mean():.4f} (median {np.median(rv[ok]):.4f})")
PY
