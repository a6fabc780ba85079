#!/usr/bin/env python3
"""The peer side of bench/snapshots.sh: h5py + numpy on Gadget-style HDF5 snapshots.

  read_h5py.py read FILE [--repeats R]   read every PartTypeN/{Coordinates,Velocities,
                                         ParticleIDs,Masses} into numpy arrays; prints JSON
                                         with the best and median wall time of R reads
  read_h5py.py write FILE [--particles N] [--gzip]
                                         write a Gadget-4-style float32/uint64 snapshot with
                                         h5py (as the project's shared fixture script's
                                         big files), contiguous or chunked + shuffle + gzip(4)
"""
import argparse
import json
import os
import time

import h5py
import numpy as np

FIELDS = ("Coordinates", "Velocities", "ParticleIDs", "Masses")


def read_all(path):
    out = {}
    with h5py.File(path, "r") as f:
        for group in sorted(k for k in f.keys() if k.startswith("PartType")):
            for name in FIELDS:
                if name in f[group]:
                    out[f"{group}/{name}"] = f[group][name][...]
    return out


def read(args):
    times = []
    n = 0
    for _ in range(max(1, args.repeats)):
        t0 = time.perf_counter()
        arrays = read_all(args.file)
        times.append(time.perf_counter() - t0)
        n = sum(len(a) for k, a in arrays.items() if k.endswith("ParticleIDs"))
    times.sort()
    print(json.dumps({
        "file": args.file, "bytes": os.path.getsize(args.file), "particles": n,
        "h5py": h5py.__version__, "hdf5": h5py.version.hdf5_version, "numpy": np.__version__,
        "seconds_best": times[0], "seconds_median": times[len(times) // 2],
    }))


def write(args):
    rng = np.random.default_rng(1234)
    n = args.particles
    kw = dict(chunks=True, compression="gzip", compression_opts=4, shuffle=True) if args.gzip else {}
    with h5py.File(args.file, "w") as f:
        h = f.create_group("Header")
        h.attrs["NumPart_ThisFile"] = np.array([0, n, 0, 0, 0, 0], dtype=np.uint64)
        h.attrs["NumPart_Total"] = np.array([0, n, 0, 0, 0, 0], dtype=np.uint64)
        h.attrs["NumPart_Total_HighWord"] = np.zeros(6, dtype=np.uint32)
        h.attrs["MassTable"] = np.zeros(6)
        h.attrs["Time"] = 1.0
        h.attrs["Redshift"] = 0.0
        h.attrs["BoxSize"] = 100.0
        h.attrs["NumFilesPerSnapshot"] = np.int32(1)
        g = f.create_group("PartType1")
        g.create_dataset("Coordinates", data=(rng.random((n, 3)) * 100).astype(np.float32), **kw)
        g.create_dataset("Velocities", data=rng.normal(0, 300, (n, 3)).astype(np.float32), **kw)
        g.create_dataset("ParticleIDs", data=np.arange(1, n + 1, dtype=np.uint64), **kw)
        g.create_dataset("Masses", data=np.full(n, 0.01, dtype=np.float32), **kw)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("read")
    r.add_argument("file")
    r.add_argument("--repeats", type=int, default=5)
    w = sub.add_parser("write")
    w.add_argument("file")
    w.add_argument("--particles", type=int, default=1_000_000)
    w.add_argument("--gzip", action="store_true")
    args = p.parse_args()
    read(args) if args.cmd == "read" else write(args)


if __name__ == "__main__":
    main()
