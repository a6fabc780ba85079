#!/usr/bin/env bash
# Accuracy of the learned actions against the number of points per stream N (the paper's
# question: how many phase-space points of one orbit does learning need?). In the isochrone
# potential (halo recipe, `generate`), a model is trained with the default settings except a
# bounded --epochs (EPOCHS, the same for every set) on
#   * S = 256 streams of N = 2, 4, 8, 16 points (seed 1);
#   * a fixed total of P = 2048 points: S = 1024, 512, 256, 128 streams of N = 2, 4, 8, 16;
#   * 256 streams of 2 to 16 points each (the ragged layout, /streams/offsets): every stream
#     of the S = 256, N = 16 set keeps a random subset of its points (times stay spread
#     over the whole integration, as when generated with fewer points);
# then applied to one unseen set (512 streams of 8 points, another seed; it is used for
# nothing but this judgement) and judged by `validate --truth`: mean |dJ| per component and
# their mean (kpc km/s), beside the Staeckel fudge (`actions --method staeckel`) on the same
# points. J_phi is L_z exactly wherever the map is axisymmetric (decided from the data), so
# its error is ~0 and the overall mean is a third of J_r + J_z.
# POTENTIAL names another potential with exact truth (e.g. hernquist:M=1e12,a=10: spherical,
# truth by quadrature, outside the toy family, so the networks carry the difference; in the
# isochrone the automatic toy finds the potential itself).
# Usage: bash bench/stream_length.sh [EPOCHS] [OUT_DIR]    (EPOCHS 300: about 15 min on 2 cores)
# Needs python3 with h5py for the ragged cut (bench/.venv has it, else `pip install h5py`);
# PYTHON names another interpreter, ACTIONFINDER another binary (default: this checkout's
# release build), TRAIN_SEED the seed of `train` (default 1, train's own default), TRAIN_ARGS
# further options of `train` (e.g. --fit-toy; none by default). Prints a Markdown table, also
# written to OUT_DIR/table.md.
set -euo pipefail
cd "$(dirname "$0")/.."
EPOCHS=${1:-300}
TRAIN_SEED=${TRAIN_SEED:-1}
read -r -a TRAIN_ARGS <<<"${TRAIN_ARGS:-}"
OUT=${2:-$(mktemp -d)}
PYTHON=${PYTHON:-$([ -x bench/.venv/bin/python ] && echo "$PWD/bench/.venv/bin/python" || echo python3)}
"$PYTHON" -c "import h5py" || { echo "needs h5py for $PYTHON (pip install h5py)" >&2; exit 1; }
if [ -n "${ACTIONFINDER:-}" ]; then
  bin=$(realpath "$ACTIONFINDER")
else
  cargo build --release --quiet
  bin=$PWD/target/release/actionfinder
fi
POT=${POTENTIAL:-isochrone:M=3.334e11,b=5}
mkdir -p "$OUT"
cd "$OUT"

gen() { # gen OUT STREAMS STARS SEED
  "$bin" generate --potential "$POT" --recipe halo --streams "$2" --stars "$3" --seed "$4" --out "$1" --force >/dev/null
}

# Every stream of $1 keeps a random subset of 2..N of its points (in time order), written
# ragged to $2.
cut_ragged() {
  "$PYTHON" - "$1" "$2" <<'PY'
import sys
import h5py, numpy as np
src, dst = sys.argv[1:]
rng = np.random.default_rng(16)
with h5py.File(src, "r") as f, h5py.File(dst, "w") as g:
    s, n = f["/streams/xv"].shape[:2]
    keep = [np.sort(rng.choice(n, size=rng.integers(2, n + 1), replace=False)) for _ in range(s)]
    offsets = np.concatenate([[0], np.cumsum([len(k) for k in keep])]).astype(np.uint64)
    g["/streams/offsets"] = offsets
    def copy(name, obj):
        if not isinstance(obj, h5py.Dataset):
            return
        if obj.ndim >= 2 and obj.shape[:2] == (s, n):
            data = np.concatenate([obj[i][k] for i, k in enumerate(keep)])
        else:
            data = obj[()]
        g[name] = data
        g[name].attrs.update(dict(obj.attrs))
    f.visititems(copy)
    g.attrs.update({k: v for k, v in f.attrs.items() if k != "n_stars"})
    print(f"{dst}: {s} streams of {min(map(len, keep))} to {max(map(len, keep))} points, P = {offsets[-1]}",
          file=sys.stderr)
PY
}

# A catalog against the unseen truth: mean |dJ| r z phi and overall, median |dJ| overall, and
# mean |dJ| overall on the trusted points with their share (kpc km/s).
errors() {
  "$bin" validate "$1" --truth unseen.h5 --json --plots "$1.plots" --force | "$PYTHON" -c '
import json, sys
r = json.load(sys.stdin)
a, t = r["actions"]["all"], r["actions"]["trusted"]
g = lambda x: f"{x:.3g}"
share = t["n"] / r["points"]
print(" ".join(map(g, a["mean_abs"] + [a["mean_abs_overall"], a["median_abs_overall"], t["mean_abs_overall"]])),
      f"{100 * share:.0f}%")'
}

gen unseen.h5 512 8 9001
"$bin" actions --potential "$POT" --method staeckel unseen.h5 --out staeckel.h5 --force >/dev/null
read -r sr sz sp so smed _ <<<"$(errors staeckel.h5)"

sets=()
for n in 2 4 8 16; do
  gen "s256_n$n.h5" 256 "$n" 1
  sets+=("fixed S|s256_n$n.h5")
done
for pair in "1024 2" "512 4" "128 16"; do
  read -r s n <<<"$pair"
  gen "s${s}_n$n.h5" "$s" "$n" 1
done
sets+=("fixed P|s1024_n2.h5" "fixed P|s512_n4.h5" "fixed P|s256_n8.h5" "fixed P|s128_n16.h5")
cut_ragged s256_n16.h5 ragged_2to16.h5
sets+=("ragged|ragged_2to16.h5")

declare -A trained
table=table.md
{
  echo "| set | S | points per stream | P | epochs run | train s | toy M, b | J_r | J_z | J_phi | mean abs dJ | median | trusted mean (share) | Staeckel mean, median |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
} >"$table"
for entry in "${sets[@]}"; do
  kind=${entry%%|*}
  data=${entry#*|}
  model=model_${data%.h5}
  if [ -z "${trained[$model]:-}" ]; then
    "$bin" train "$data" --out "$model" --epochs "$EPOCHS" --seed "$TRAIN_SEED" ${TRAIN_ARGS[@]+"${TRAIN_ARGS[@]}"} --force \
      >"$model.log" 2>&1
    "$bin" apply "$model" unseen.h5 --out "$model.cat.h5" --force >/dev/null 2>&1
    trained[$model]=1
  fi
  read -r jr jz jp jo jmed jt share <<<"$(errors "$model.cat.h5")"
  info=$("$PYTHON" - "$model/model.json" "$data" <<'PY'
import json, sys
import h5py
model = json.load(open(sys.argv[1]))
t, c = model["training"], model["config"]
with h5py.File(sys.argv[2], "r") as f:
    if "/streams/offsets" in f:
        o = f["/streams/offsets"][()]
        lengths = o[1:] - o[:-1]
        s, per, p = len(lengths), f"{lengths.min()}-{lengths.max()}", o[-1]
    else:
        s, n = f["/streams/xv"].shape[:2]
        per, p = n, s * n
print(s, per, p, len(t["history"]), f"{t['wall_s']:.0f}", f"{c['toy_m']:.3g},{c['toy_b']:.3g}")
PY
)
  read -r s per p epochs wall toy <<<"$info"
  echo "| $kind | $s | $per | $p | $epochs | $wall | ${toy/,/, } | $jr | $jz | $jp | $jo | $jmed | $jt ($share) | $so, $smed |" |
    tee -a "$table" >&2
done
echo "unseen: 512 streams x 8 points (seed 9001); Staeckel mean |dJ| r z phi: $sr $sz $sp; train --seed $TRAIN_SEED ${TRAIN_ARGS[*]:-}" >>"$table"
cat "$table"
