#!/usr/bin/env bash
# The HDF5 fuzz campaign: snapshots/tests/hdf5_fuzz.rs with every STEP-th truncation of every
# fixture (each also zero-tailed; STEP 1, the default, makes about 450,000 inputs) and CASES
# inputs per random property (random bytes, random tails, bit flips, byte overwrites; default
# 137,500 each: 1e6 inputs in all), on one core. Prints each test's totals (inputs, panics,
# largest per-input peak, slowest input, VmHWM), then the wall time and peak resident memory
# of the whole run.
#
#   bash bench/hdf5_fuzz.sh [CASES] [SEED] [STEP]
set -euo pipefail
cd "$(dirname "$0")/.."
cases=${1:-137500}
seed=${2:-$(date +%s)}
step=${3:-1}
cargo test --release -p actionfinder-snapshots --test hdf5_fuzz --no-run --quiet
log=$(mktemp)
trap 'rm -f "$log"' EXIT
start=$(date +%s)
AF_FUZZ_CASES=$cases AF_FUZZ_TRUNCATE_STEP=$step AF_FUZZ_SEED=$seed RAYON_NUM_THREADS=1 \
  /usr/bin/time -v -o "$log" \
  cargo test --release -p actionfinder-snapshots --test hdf5_fuzz --quiet -- --test-threads=1
echo "wall time: $(( $(date +%s) - start )) s"
grep -E "Maximum resident set size" "$log"
