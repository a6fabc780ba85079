"""What the galpy peer scripts share: our units in galpy's natural ones, our potentials in galpy."""
import numpy as np
from galpy.potential import MWPotential2014, PlummerPotential

G = 4.300917270e-6  # kpc (km/s)^2 / Msun
RO, VO = 8.0, 220.0  # galpy natural units
GYR_PER_TIME_UNIT = 0.9777922216807893  # kpc/(km/s) in Gyr


def potential(spec):
    """galpy's potential for one of our specs (mw2014 or plummer:M=..,a=..)."""
    if spec == "mw2014":
        return MWPotential2014
    name, _, params = spec.partition(":")
    if name != "plummer":
        raise SystemExit(f"galpy peer: unsupported potential {spec}")
    p = dict(kv.split("=") for kv in params.split(","))
    return PlummerPotential(amp=G * float(p["M"]) / (VO**2 * RO), b=float(p["a"]) / RO)


def cylindrical(xv):
    """Rows x y z vx vy vz (kpc, km/s) -> galpy's natural R, vR, vT, z, vz, phi."""
    x, y, z, vx, vy, vz = xv.T
    R = np.hypot(x, y)
    phi = np.arctan2(y, x)
    vR = (x * vx + y * vy) / R
    vT = (x * vy - y * vx) / R
    return R / RO, vR / VO, vT / VO, z / RO, vz / VO, phi
