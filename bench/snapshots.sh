#!/usr/bin/env bash
# Snapshot reading and particle tracking.
#  1. Reading one 1e6-particle Gadget-4-style snapshot: actionfinder's reader vs h5py + numpy
#     reading the same datasets (Coordinates, Velocities, ParticleIDs, Masses), side by side
#     in one run on the same (page-cached) files, best of 5 reads each: our writer's float64
#     file, and h5py-written float32 files, contiguous and gzip-compressed.
#  2. Tracking P particles through 8 snapshots by id (ids shuffled in each): in memory
#     (`bench tracking`) and end to end from files (`actionfinder tracks DIR`), with wall
#     time and peak memory from /usr/bin/time -v; then a linear extrapolation to 1e7.
# Usage: bash bench/snapshots.sh [P1 P2 ...]   (default 1000000 2000000)
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES=("${@:-1000000 2000000}")
read -r -a SIZES <<<"${SIZES[*]}"
VENV=bench/.venv
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check h5py numpy
cargo build --release --quiet
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bin=./target/release/actionfinder
py="$VENV/bin/python"
export RUST_LOG=error

echo "== reading a 1e6-particle snapshot (best of 5; $(nproc) cores) =="
$bin bench write-snapshots --particles 1000000 --snapshots 1 --dir "$tmp/ours" >/dev/null
"$py" bench/read_h5py.py write "$tmp/h5py_f32.hdf5"
"$py" bench/read_h5py.py write "$tmp/h5py_f32_gzip.hdf5" --gzip
printf '%-34s %10s %12s %12s %12s %10s\n' file MB "ours [s]" "ours 1 core" "h5py [s]" "h5py/ours"
for f in "$tmp/ours/snap_000.hdf5" "$tmp/h5py_f32.hdf5" "$tmp/h5py_f32_gzip.hdf5"; do
  "$py" bench/read_h5py.py read "$f" >"$tmp/peer.json"   # also warms the page cache
  $bin bench read-snapshot "$f" >"$tmp/ours.json"
  RAYON_NUM_THREADS=1 $bin bench read-snapshot "$f" >"$tmp/ours1.json"
  "$py" - "$tmp" "$f" <<'PY'
import json, os, sys
tmp, f = sys.argv[1:]
ours, ours1, peer = (json.load(open(f"{tmp}/{n}.json")) for n in ("ours", "ours1", "peer"))
assert ours["particles"] == peer["particles"], (ours, peer)
name = os.path.relpath(f, tmp)
print(f"{name:<34} {ours['bytes'] / 1e6:10.1f} {ours['seconds_best']:12.4f} {ours1['seconds_best']:12.4f} "
      f"{peer['seconds_best']:12.4f} {peer['seconds_best'] / ours['seconds_best']:10.2f}")
PY
done
echo "(h5py/ours > 1: ours faster; h5py $("$py" -c 'import h5py; print(h5py.__version__, "HDF5", h5py.version.hdf5_version)'))"

rss() { awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2 / 1024}' "$1"; }
wall() { awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$1"; }

echo
echo "== tracking through 8 snapshots =="
printf '%-10s %-12s %12s %14s %14s\n' P stage "time [s]" "peak RSS [MB]" "tracks [MB]"
for p in "${SIZES[@]}"; do
  /usr/bin/time -v $bin bench tracking --particles "$p" --snapshots 8 >"$tmp/track.json" 2>"$tmp/track.time"
  "$py" - "$tmp/track.json" "$p" "$(rss "$tmp/track.time")" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"{sys.argv[2]:<10} {'in memory':<12} {r['seconds']:12.3f} {sys.argv[3]:>14} {r['tracks_bytes'] / 1e6:14.1f}")
PY
  $bin bench write-snapshots --particles "$p" --snapshots 8 --dir "$tmp/run_$p" >/dev/null
  /usr/bin/time -v $bin tracks "$tmp/run_$p" --out "$tmp/tracks_$p.h5" >/dev/null 2>"$tmp/cli.time"
  printf '%-10s %-12s %12s %14s %14s\n' "$p" "files->h5" "$(wall "$tmp/cli.time")" "$(rss "$tmp/cli.time")" \
    "$(( $(stat -c %s "$tmp/tracks_$p.h5") / 1000000 ))"
  echo "$p $(rss "$tmp/track.time") $(rss "$tmp/cli.time")" >>"$tmp/mem.txt"
  rm -rf "$tmp/run_$p" "$tmp/tracks_$p.h5"
done
"$py" - "$tmp/mem.txt" <<'PY'
import sys
rows = [list(map(float, l.split())) for l in open(sys.argv[1])]
if len(rows) >= 2:
    (p1, m1, c1), (p2, m2, c2) = rows[0], rows[-1]
    for name, a, b in (("in memory", m1, m2), ("files->h5", c1, c2)):
        per = (b - a) / (p2 - p1) * 1e6  # bytes per particle (MB -> bytes)
        print(f"{name}: {per:.0f} bytes per particle (8 snapshots; the tracks alone are 384); "
              f"1e7 particles -> {(a + per * (1e7 - p1) / 1e6) / 1e3:.1f} GB peak")
PY
