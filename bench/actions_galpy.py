#!/usr/bin/env python3
"""The peer side of bench/actions.sh: galpy's C action finders on the points actionfinder wrote.

Reads points (x y z vx vy vz per line, kpc and km/s), computes actions, frequencies and angles
with galpy (`actionAngleSpherical`, or `actionAngleStaeckel` with c=True and a fixed focal
distance) on one core, prints one JSON line with microseconds per point, and writes the
actions (J_r J_z J_phi per line, kpc km/s) for a comparison.
"""
import argparse
import json
import time

import numpy as np
from galpy.actionAngle import actionAngleSpherical, actionAngleStaeckel
from galpy_units import RO, VO, cylindrical, potential

def finder(method, pot):
    if method == "spherical":
        return actionAngleSpherical(pot=pot)
    name, _, delta = method.partition(":delta=")
    if name == "staeckel" and delta:
        return actionAngleStaeckel(pot=pot, delta=float(delta) / RO, c=True)
    raise SystemExit(f"actions_galpy.py: unsupported method {method}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--potential", required=True)
    ap.add_argument("--method", required=True)
    ap.add_argument("--points", required=True)
    ap.add_argument("--actions-out")
    a = ap.parse_args()
    xv = np.loadtxt(a.points, ndmin=2)
    aa = finder(a.method, potential(a.potential))
    args = cylindrical(xv)
    aa.actionsFreqsAngles(*(c[:2] for c in args))  # warm-up (C library loading)
    t0 = time.perf_counter()
    jr, lz, jz, *_ = aa.actionsFreqsAngles(*args)
    seconds = time.perf_counter() - t0
    if a.actions_out:
        np.savetxt(a.actions_out, np.stack([jr, jz, lz], axis=1) * RO * VO)
    print(json.dumps({"peer": f"galpy {type(aa).__name__}", "points": len(xv), "seconds": seconds,
                      "microseconds_per_point": 1e6 * seconds / len(xv)}))


if __name__ == "__main__":
    main()
