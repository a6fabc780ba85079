#!/usr/bin/env python3
"""A live, self-gravitating N-body run made with REBOUND's Barnes-Hut tree, written as
Gadget-4-style HDF5 snapshots for `actionfinder tracks`, and the judge of the field that
`actionfinder train --field` learns from it.

  python bench/live_nbody.py simulate OUTDIR [--n 20000] [--seed 1] ...
      OUTDIR/snapshots/snap_00k.hdf5   8 snapshots (kpc, km/s, Msun; Header/Time in kpc/(km/s))
      OUTDIR/fields.h5                 per snapshot /snap_k: ids, pos, vel (centre-of-mass
                                       frame), acc_nbody (REBOUND's own tree force at the
                                       snapshot positions), acc_sph / phi_sph (spherical
                                       average of the snapshot's own particles about the
                                       centre of mass), acc_plummer / phi_plummer (the
                                       analytic Plummer model the particles were drawn from)
  python bench/live_nbody.py evaluate OUTDIR CATALOG [--label NAME] [--json OUT]
      compares /particles/acceleration (and potential) of an `apply` catalog of the tracks
      of OUTDIR's snapshots with those fields.

Model: Plummer sphere, M = 1e10 Msun, a = 1 kpc, truncated at 10 a (the particles carry the
mass of the model inside 10 a, so the analytic field is exact there), isotropic velocities
by the Aarseth, Henon & Wielen (1974) method. Units kpc, km/s, Msun, time kpc/(km/s) with
REBOUND's G set to ours.
"""
import argparse
import ctypes
import json
import math
import os
import sys
import time

import h5py
import numpy as np

G = 4.300917270e-6  # kpc (km/s)^2 / Msun
GYR_PER_TIME_UNIT = 0.977792  # Gyr per kpc/(km/s)
UNIT_LENGTH_IN_CM = 3.085677581491367e21
UNIT_VELOCITY_IN_CM_PER_S = 1.0e5
UNIT_MASS_IN_G = 1.988409870698051e33


# ----------------------------------------------------------------------------- model
def plummer_sample(n, mass, a, rmax, rng):
    """Positions and velocities of an isotropic Plummer sphere truncated at rmax (AHW 1974).
    Returns (pos, vel, particle mass); the particles carry M(<rmax)."""
    frac = rmax**3 / (rmax**2 + a**2) ** 1.5
    x1 = rng.uniform(0.0, frac, n)
    r = a / np.sqrt(x1 ** (-2.0 / 3.0) - 1.0)
    pos = r[:, None] * random_directions(n, rng)
    # q = v / v_esc from g(q) = q^2 (1 - q^2)^(7/2) by rejection (max of g < 0.1)
    q = np.empty(n)
    todo = np.arange(n)
    while todo.size:
        qq = rng.uniform(0.0, 1.0, todo.size)
        y = rng.uniform(0.0, 0.1, todo.size)
        ok = y < qq**2 * (1.0 - qq**2) ** 3.5
        q[todo[ok]] = qq[ok]
        todo = todo[~ok]
    vesc = np.sqrt(2.0 * G * mass / np.sqrt(r**2 + a**2))
    vel = (q * vesc)[:, None] * random_directions(n, rng)
    m = mass * frac / n
    pos -= pos.mean(axis=0)
    vel -= vel.mean(axis=0)
    return pos, vel, m


def random_directions(n, rng):
    cos_t = rng.uniform(-1.0, 1.0, n)
    phi = rng.uniform(0.0, 2.0 * np.pi, n)
    sin_t = np.sqrt(1.0 - cos_t**2)
    return np.stack([sin_t * np.cos(phi), sin_t * np.sin(phi), cos_t], axis=1)


def plummer_field(pos, mass, a):
    s2 = (pos**2).sum(axis=1) + a**2
    acc = -G * mass * pos / s2[:, None] ** 1.5
    phi = -G * mass / np.sqrt(s2)
    return acc, phi


def plummer_radial_period(mass, a, r):
    """2 pi / kappa of the circular orbit at r (epicyclic radial period), kpc/(km/s)."""
    s = r**2 + a**2
    kappa2 = G * mass * (4.0 / s**1.5 - 3.0 * r**2 / s**2.5)
    return 2.0 * np.pi / math.sqrt(kappa2)


def spherical_field(pos, m):
    """Spherically averaged field of equal-mass particles about the origin: a = -G M(<r) r_hat / r^2
    and Phi = -G (M(<r) / r + sum_{r_j > r} m / r_j), the particle itself counted half."""
    r = np.sqrt((pos**2).sum(axis=1))
    order = np.argsort(r)
    rs = r[order]
    n = r.size
    m_in = m * (np.arange(n) + 0.5)  # M(<r_i), self half
    outer = m / rs  # potential of shell j at r < r_j
    outer_sum = np.cumsum(outer[::-1])[::-1] - 0.5 * outer  # sum over j > i, self half
    acc_r = np.empty(n)
    phi = np.empty(n)
    acc_r[order] = -G * m_in / rs**2
    phi[order] = -G * (m_in / rs + outer_sum)
    return acc_r[:, None] * pos / r[:, None], phi


# ----------------------------------------------------------------------------- snapshots
def write_snapshot(path, time_code, ids, pos, vel, m):
    n = ids.size
    with h5py.File(path, "w") as f:
        h = f.create_group("Header")
        npart = np.array([0, n, 0, 0, 0, 0], dtype=np.uint64)
        h.attrs["NumPart_ThisFile"] = npart
        h.attrs["NumPart_Total"] = npart
        h.attrs["NumPart_Total_HighWord"] = np.zeros(6, dtype=np.uint32)
        h.attrs["MassTable"] = np.array([0.0, m, 0.0, 0.0, 0.0, 0.0])
        h.attrs["Time"] = np.float64(time_code)  # kpc/(km/s): the time unit is length/velocity
        h.attrs["Redshift"] = np.float64(0.0)
        h.attrs["NumFilesPerSnapshot"] = np.int32(1)
        h.attrs["BoxSize"] = np.float64(0.0)
        h.attrs["Omega0"] = np.float64(0.0)
        h.attrs["OmegaLambda"] = np.float64(0.0)
        h.attrs["HubbleParam"] = np.float64(1.0)
        h.attrs["Flag_DoublePrecision"] = np.int32(1)
        p = f.create_group("Parameters")
        p.attrs["UnitLength_in_cm"] = np.float64(UNIT_LENGTH_IN_CM)
        p.attrs["UnitVelocity_in_cm_per_s"] = np.float64(UNIT_VELOCITY_IN_CM_PER_S)
        p.attrs["UnitMass_in_g"] = np.float64(UNIT_MASS_IN_G)
        p.attrs["ComovingIntegrationOn"] = np.int32(0)
        p.attrs["HubbleParam"] = np.float64(1.0)
        g = f.create_group("PartType1")
        g.create_dataset("Coordinates", data=pos)
        g.create_dataset("Velocities", data=vel)
        g.create_dataset("ParticleIDs", data=ids.astype(np.uint64))
        f.attrs["length_unit"] = "kpc"
        f.attrs["velocity_unit"] = "km/s"
        f.attrs["mass_unit"] = "Msun"
        f.attrs["time_unit"] = "kpc/(km/s) = 0.977792 Gyr (Header/Time)"
        f.attrs["source"] = "REBOUND tree code (bench/live_nbody.py)"


def particle_table(sim):
    """REBOUND's particle array as an [N, 14] float64 view (x, y, z, vx, vy, vz, ax, ay, az, m,
    r, then three pointers), without copying."""
    import rebound

    width = ctypes.sizeof(rebound.Particle) // 8
    assert ctypes.sizeof(rebound.Particle) == 8 * width and width >= 10
    buf = (ctypes.c_double * (width * sim.N)).from_address(ctypes.addressof(sim._particles.contents))
    return np.ctypeslib.as_array(buf).reshape(sim.N, width)


def simulate(args):
    import rebound

    out = args.outdir
    os.makedirs(os.path.join(out, "snapshots"), exist_ok=True)
    rng = np.random.default_rng(args.seed)
    M, a = args.mass, args.a
    pos, vel, m = plummer_sample(args.n, M, a, args.rmax * a, rng)
    r_half = a / math.sqrt(0.5 ** (-2.0 / 3.0) - 1.0)
    t_dyn = math.sqrt(a**3 / (G * M))
    t_r = plummer_radial_period(M, a, r_half)
    dt = args.dt_frac * t_dyn
    span = args.span * t_r
    n_snap = args.snapshots
    steps_between = max(1, round(span / (n_snap - 1) / dt))
    dt = span / (n_snap - 1) / steps_between  # an integer number of steps between snapshots
    burn_steps = round(args.burn * t_r / dt)

    sim = rebound.Simulation()
    sim.G = G
    sim.integrator = "leapfrog"
    sim.gravity = "tree"
    sim.opening_angle2 = args.theta**2
    sim.softening = args.softening * a
    sim.boundary = "open"
    sim.root_size = args.box
    sim.dt = dt
    t0 = time.time()
    for i in range(args.n):
        sim.add(m=m, x=pos[i, 0], y=pos[i, 1], z=pos[i, 2], vx=vel[i, 0], vy=vel[i, 1], vz=vel[i, 2])
    ids = np.arange(1, args.n + 1, dtype=np.uint64)
    info = {
        "n": args.n, "mass": M, "a": a, "rmax": args.rmax * a, "particle_mass": m,
        "softening": sim.softening, "opening_angle": args.theta, "box": args.box,
        "r_half": r_half, "t_dyn": t_dyn, "t_r_half": t_r, "dt": dt,
        "dt_over_tdyn": dt / t_dyn, "steps_between": steps_between, "burn_steps": burn_steps,
        "span": span, "span_over_t_r": span / t_r, "snapshots": n_snap,
        "rebound": rebound.__version__,
    }
    print(json.dumps(info, indent=1), flush=True)
    e0 = sim.energy()

    def step(k):
        if k > 0:
            sim.steps(k)
        if sim.N != args.n:
            sys.exit(f"{args.n - sim.N} particles left the {args.box} kpc box: the ids would no longer follow")

    t1 = time.time()
    step(burn_steps)
    t_burn = time.time() - t1
    print(f"burn-in {burn_steps} steps: {t_burn:.1f} s ({t_burn / max(burn_steps, 1) * 1e3:.0f} ms/step)", flush=True)
    fields = h5py.File(os.path.join(out, "fields.h5"), "w")
    for k in range(n_snap):
        if k > 0:
            step(steps_between)
        t_snap = sim.t
        p = particle_table(sim)
        xv = p[:, :6].copy()
        # REBOUND's own tree force at the snapshot positions: one step of a negligible dt
        # (leapfrog drift dt/2, force, kick, drift dt/2), then the normal step again.
        sim.dt = 1e-9 * dt
        sim.steps(1)
        acc = particle_table(sim)[:, 6:9].copy()
        sim.dt = dt
        write_snapshot(os.path.join(out, "snapshots", f"snap_{k:03d}.hdf5"), t_snap, ids, xv[:, :3], xv[:, 3:], m)
        com_x, com_v = xv[:, :3].mean(axis=0), xv[:, 3:].mean(axis=0)
        x, v = xv[:, :3] - com_x, xv[:, 3:] - com_v
        acc_sph, phi_sph = spherical_field(x, m)
        acc_pl, phi_pl = plummer_field(x, M, a)
        g = fields.create_group(f"snap_{k}")
        g.attrs["time"] = t_snap
        g.attrs["time_gyr"] = t_snap * GYR_PER_TIME_UNIT
        g.attrs["com_x"] = com_x
        g.attrs["com_v"] = com_v
        for name, data in [("ids", ids), ("pos", x), ("vel", v), ("acc_nbody", acc), ("acc_sph", acc_sph),
                           ("phi_sph", phi_sph), ("acc_plummer", acc_pl), ("phi_plummer", phi_pl)]:
            g.create_dataset(name, data=data)
        print(f"snapshot {k}: t = {t_snap:.5f} kpc/(km/s) = {t_snap * GYR_PER_TIME_UNIT * 1e3:.2f} Myr, "
              f"|com x| = {np.linalg.norm(com_x):.2e} kpc", flush=True)
    info["energy_error"] = abs(sim.energy() / e0 - 1.0)
    info["wall_s"] = time.time() - t0
    info["burn_s"] = t_burn
    for k, v in info.items():
        fields.attrs[k] = v
    fields.close()
    print(f"total energy error {info['energy_error']:.2e}; wall {info['wall_s']:.1f} s", flush=True)


# ----------------------------------------------------------------------------- evaluation
def rel(a, b):
    return np.linalg.norm(a - b, axis=-1) / np.linalg.norm(b, axis=-1)


def stats(x):
    x = x[np.isfinite(x)]
    return {"mean": float(x.mean()), "median": float(np.median(x)), "n": int(x.size)}


def evaluate(args):
    f = h5py.File(os.path.join(args.outdir, "fields.h5"), "r")
    n_snap = int(f.attrs["snapshots"])
    snaps = [f[f"snap_{k}"] for k in range(n_snap)]
    ids0 = snaps[0]["ids"][:]
    index = np.empty(int(ids0.max()) + 1, dtype=np.int64)
    index[ids0] = np.arange(ids0.size)
    field = {name: np.stack([s[name][:] for s in snaps], axis=1)  # [N, K, ...]
             for name in ("pos", "vel", "acc_nbody", "acc_sph", "acc_plummer", "phi_sph", "phi_plummer")}
    with h5py.File(args.catalog, "r") as c:
        xv = c["/particles/xv"][:]
        acc = c["/particles/acceleration"][:] if "/particles/acceleration" in c else None
        pot = c["/particles/potential"][:] if "/particles/potential" in c else None
        ids = c["/particles/ids"][:]
        spread = c["/particles/action_spread"][:] if "/particles/action_spread" in c else None
        flag = c["/particles/flag"][:] if "/particles/flag" in c else None
        actions = c["/particles/actions"][:] if "/particles/actions" in c else None
    n = ids.size
    assert n % n_snap == 0, "catalog rows are not whole streams of all snapshots"
    s = n // n_snap
    rows = index[ids.reshape(s, n_snap)[:, 0]]
    assert np.all(ids.reshape(s, n_snap) == ids.reshape(s, n_snap)[:, :1]), "a stream mixes particle ids"
    sel = {k: v[rows] for k, v in field.items()}  # [S, K, ...]
    pos_err = np.abs(xv.reshape(s, n_snap, 6)[..., :3] - sel["pos"]).max()
    res = {"label": args.label, "streams": int(s), "points": int(n), "max_position_mismatch_kpc": float(pos_err)}
    r = np.linalg.norm(sel["pos"], axis=-1)
    trusted = None
    if flag is not None:
        trusted = (flag.reshape(s, n_snap) == 0).all(axis=1)
        res["trusted_streams"] = int(trusted.sum())
    a_n, a_s, a_p = sel["acc_nbody"], sel["acc_sph"], sel["acc_plummer"]
    res["nbody_vs_sph"] = stats(rel(a_n, a_s).ravel())
    res["nbody_vs_plummer"] = stats(rel(a_n, a_p).ravel())
    res["sph_vs_plummer"] = stats(rel(a_s, a_p).ravel())
    if acc is not None:
        a_l = acc.reshape(s, n_snap, 3)
        res["learned_vs_sph"] = stats(rel(a_l, a_s).ravel())
        res["learned_vs_plummer"] = stats(rel(a_l, a_p).ravel())
        res["learned_vs_nbody"] = stats(rel(a_l, a_n).ravel())
        if trusted is not None and trusted.any():
            res["learned_vs_sph_trusted"] = stats(rel(a_l[trusted], a_s[trusted]).ravel())
        # by radius: where the learned field is good and where not
        edges = np.array([0.0, 0.25, 0.5, 1.0, 2.0, 4.0, 100.0])
        res["by_radius"] = []
        for lo, hi in zip(edges[:-1], edges[1:]):
            m = (r >= lo) & (r < hi)
            if m.any():
                res["by_radius"].append({
                    "r": [float(lo), float(hi)], "points": int(m.sum()),
                    "learned_vs_sph_median": float(np.median(rel(a_l, a_s)[m])),
                    "nbody_vs_sph_median": float(np.median(rel(a_n, a_s)[m])),
                })
    # energy drift along each track: (max - min) / |mean| of v^2/2 + Phi over its points
    v2 = 0.5 * (sel["vel"] ** 2).sum(axis=-1)
    for name, phi in [("sph", sel["phi_sph"]), ("plummer", sel["phi_plummer"])] + (
            [("learned", pot.reshape(s, n_snap))] if pot is not None else []):
        e = v2 + phi
        drift = (e.max(axis=1) - e.min(axis=1)) / np.abs(e.mean(axis=1))
        res[f"energy_drift_{name}"] = stats(drift)
    if spread is not None:
        sp = spread.reshape(s, n_snap)[:, 0]
        res["action_spread"] = stats(sp)
        if actions is not None:
            jt = np.abs(actions.reshape(s, n_snap, 3)).sum(axis=-1).mean(axis=1)
            res["action_spread_rel"] = stats(sp / jt)
            if trusted is not None and trusted.any():
                res["action_spread_rel_trusted"] = stats(sp[trusted] / jt[trusted])
    print(json.dumps(res, indent=1))
    if args.json:
        with open(args.json, "w") as out:
            json.dump(res, out, indent=1)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("simulate")
    s.add_argument("outdir")
    s.add_argument("--n", type=int, default=20000)
    s.add_argument("--mass", type=float, default=1e10, help="Msun (Plummer model mass)")
    s.add_argument("--a", type=float, default=1.0, help="Plummer scale radius, kpc")
    s.add_argument("--rmax", type=float, default=10.0, help="truncation radius in units of a")
    s.add_argument("--softening", type=float, default=0.05, help="Plummer softening in units of a")
    s.add_argument("--theta", type=float, default=0.5, help="tree opening angle")
    s.add_argument("--box", type=float, default=100.0, help="root box size, kpc (open boundary)")
    s.add_argument("--dt-frac", type=float, default=0.02, help="leapfrog step in units of sqrt(a^3 / G M)")
    s.add_argument("--span", type=float, default=0.3, help="snapshots span, radial periods at r_half")
    s.add_argument("--burn", type=float, default=0.25, help="burn-in, radial periods at r_half")
    s.add_argument("--snapshots", type=int, default=8)
    s.add_argument("--seed", type=int, default=1)
    e = sub.add_parser("evaluate")
    e.add_argument("outdir")
    e.add_argument("catalog")
    e.add_argument("--label", default="")
    e.add_argument("--json")
    args = ap.parse_args()
    simulate(args) if args.cmd == "simulate" else evaluate(args)


if __name__ == "__main__":
    main()
