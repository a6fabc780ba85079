#!/usr/bin/env python3
"""The peer side of bench/leapfrog.sh: galpy's C leapfrog on the orbits actionfinder wrote.

Reads initial conditions (x y z vx vy vz per line, kpc and km/s), integrates them with
galpy's `leapfrog_c` at the same fixed step on one core, prints one JSON line with
particle-steps per second, and writes the final states for a comparison.
"""
import argparse
import json
import time

import numpy as np
from galpy.orbit import Orbit
from galpy.potential import MWPotential2014, PlummerPotential

G = 4.300917270e-6  # kpc (km/s)^2 / Msun
RO, VO = 8.0, 220.0  # galpy natural units
GYR_PER_TIME_UNIT = 0.9777922216807893  # kpc/(km/s) in Gyr


def potential(spec):
    if spec == "mw2014":
        return MWPotential2014
    name, _, params = spec.partition(":")
    if name != "plummer":
        raise SystemExit(f"leapfrog_galpy.py: unsupported potential {spec}")
    p = dict(kv.split("=") for kv in params.split(","))
    return PlummerPotential(amp=G * float(p["M"]) / (VO**2 * RO), b=float(p["a"]) / RO)


def to_galpy(xv):
    x, y, z, vx, vy, vz = xv.T
    R = np.hypot(x, y)
    phi = np.arctan2(y, x)
    vR = (x * vx + y * vy) / R
    vT = (x * vy - y * vx) / R
    return np.stack([R / RO, vR / VO, vT / VO, z / RO, vz / VO, phi], axis=1)


def from_galpy(o, t):
    R, phi, z = o.R(t) * RO, o.phi(t), o.z(t) * RO
    vR, vT, vz = o.vR(t) * VO, o.vT(t) * VO, o.vz(t) * VO
    c, s = np.cos(phi), np.sin(phi)
    return np.stack([R * c, R * s, z, vR * c - vT * s, vR * s + vT * c, vz], axis=1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--potential", required=True)
    ap.add_argument("--ics", required=True)
    ap.add_argument("--steps", type=int, required=True)
    ap.add_argument("--dt", type=float, required=True, help="step in Gyr")
    ap.add_argument("--final-out")
    a = ap.parse_args()
    xv = np.loadtxt(a.ics, ndmin=2)
    pot = potential(a.potential)
    dt = a.dt / GYR_PER_TIME_UNIT / (RO / VO)  # natural time units
    ts = np.array([0.0, a.steps * dt])
    o = Orbit(to_galpy(xv), ro=None, vo=None)
    # The C extension is loaded and warmed up before timing.
    Orbit(to_galpy(xv[:2])).integrate(ts[:2] * 1e-3, pot, method="leapfrog_c", dt=dt * 1e-3, numcores=1)
    t0 = time.perf_counter()
    o.integrate(ts, pot, method="leapfrog_c", dt=dt, numcores=1)
    seconds = time.perf_counter() - t0
    if a.final_out:
        np.savetxt(a.final_out, from_galpy(o, ts[-1]))
    print(json.dumps({"peer": "galpy leapfrog_c", "orbits": len(xv), "steps": a.steps,
                      "seconds": seconds,
                      "particle_steps_per_second_per_core": len(xv) * a.steps / seconds}))


if __name__ == "__main__":
    main()
