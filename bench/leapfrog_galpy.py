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
from galpy_units import GYR_PER_TIME_UNIT, RO, VO, cylindrical, potential


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
    o = Orbit(np.stack(cylindrical(xv), axis=1), ro=None, vo=None)
    # The C extension is loaded and warmed up before timing.
    Orbit(np.stack(cylindrical(xv[:2]), axis=1)).integrate(ts[:2] * 1e-3, pot, method="leapfrog_c", dt=dt * 1e-3, numcores=1)
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
