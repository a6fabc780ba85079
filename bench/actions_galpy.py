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
from galpy.potential import MWPotential2014, PlummerPotential

G = 4.300917270e-6  # kpc (km/s)^2 / Msun
RO, VO = 8.0, 220.0  # galpy natural units


def potential(spec):
    if spec == "mw2014":
        return MWPotential2014
    name, _, params = spec.partition(":")
    if name != "plummer":
        raise SystemExit(f"actions_galpy.py: unsupported potential {spec}")
    p = dict(kv.split("=") for kv in params.split(","))
    return PlummerPotential(amp=G * float(p["M"]) / (VO**2 * RO), b=float(p["a"]) / RO)


def finder(method, pot):
    if method == "spherical":
        return actionAngleSpherical(pot=pot)
    name, _, delta = method.partition(":delta=")
    if name == "staeckel" and delta:
        return actionAngleStaeckel(pot=pot, delta=float(delta) / RO, c=True)
    raise SystemExit(f"actions_galpy.py: unsupported method {method}")


def cylindrical(xv):
    x, y, z, vx, vy, vz = xv.T
    R = np.hypot(x, y)
    phi = np.arctan2(y, x)
    vR = (x * vx + y * vy) / R
    vT = (x * vy - y * vx) / R
    return R / RO, vR / VO, vT / VO, z / RO, vz / VO, phi


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
