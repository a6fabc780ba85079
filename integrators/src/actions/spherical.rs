//! Actions, angles and frequencies in any spherical potential by quadrature.
//!
//! For a point with energy E and angular momentum L the radial motion obeys
//! v_r^2 = h(r) = 2 (E - Phi(r)) - L^2 / r^2 (Binney & Tremaine 2008, §3.1), between the
//! pericentre r_p and apocentre r_a where h vanishes. Then (BT08 eqs. 3.17, 3.19, 3.224)
//!
//! - J_r = (1/pi) ∫ v_r dr, J_z = L - |L_z|, J_phi = L_z;
//! - T_r = 2 ∫ dr / v_r, Omega_r = 2 pi / T_r;
//! - Omega_z = Omega_r (L / pi) ∫ dr / (r^2 v_r), Omega_phi = sign(L_z) Omega_z,
//!
//! all integrals running from r_p to r_a. The angles follow galpy's `actionAngleSpherical`
//! (Bovy 2015, ApJS 216, 29): theta_r = Omega_r t, with t the time since the last pericentre
//! passage (the partial integral of dr / v_r from r_p to r, with the sign of v_r);
//! theta_z = psi - Delta psi(r) + (Omega_z / Omega_r) theta_r, where psi is the angle in the
//! orbital plane from the ascending node to x and Delta psi the partial integral of
//! L dr / (r^2 v_r) (BT08 eq. 3.225); theta_phi = Omega_node + sign(L_z) theta_z, with
//! Omega_node the longitude of the ascending node.
//!
//! # Quadrature
//! Each integral is a sum over nodes in an angle u in [0, pi] whose substitution removes the
//! square-root singularities at both turning points, leaving integrands that are smooth, even
//! and 2 pi-periodic in u:
//!
//! - generic orbits: ln r = (ln r_p + ln r_a)/2 - (ln r_a - ln r_p)/2 cos u, with the midpoint
//!   rule (spectrally accurate for periodic integrands; 16 + 4 ln(r_a/r_p) nodes, at most
//!   96). Logarithmic spacing resolves the pericentre of eccentric orbits, where the
//!   centrifugal barrier makes L dr / (r^2 v_r) peak on the scale r_p (r_a / r_p up to e^46);
//! - partial integrals (angles) run from the nearer turning point to the point, with the
//!   positive half of a Gauss–Legendre rule for integrands even about that end, with fewer
//!   nodes for shorter intervals;
//! - near-circular orbits ((r_a - r_p) < 1e-2 (r_a + r_p)): r = r_mid - a cos u and
//!   v_r^2 = a^2 sin^2 u g(r). Instead of g = h / ((r - r_p)(r_a - r)), which loses all
//!   precision as a -> 0, g is the second divided difference of h, an average of
//!   Phi''(s) + 3 L^2 / s^4 over [r_p, r_a] with a hat-shaped weight peaking at r (de Boor,
//!   A practical guide to splines, ch. 1): it tends to the epicyclic kappa^2 and stays exact
//!   for circular orbits. The phase comes from atan2(v_r / sqrt(g), r_mid - r), which stays
//!   well conditioned however small a is;
//! - radial orbits (r_a / r_p > e^46): r = r_a (1 - cos u) / 2, and the limit of the
//!   orbital-plane integral, L ∫ dr/(r^2 v_r) -> pi/2 over half a radial period (finite
//!   Phi(0)). L is raised to at least 1e-14 r |v| (changing J_r by ~1e-14 relative), so L = 0
//!   is computed as the limit L -> 0+ and this case is hardly ever reached.
//!
//! # Rounding
//! h is a difference of potential values, each rounded to eps |Phi|, which swamps h near the
//! turning points of near-circular orbits and deep in cores (|Phi| >> v^2). Where that
//! matters h comes from the force instead,
//! h(r) = v_r0^2 - 2 ∫_{r0}^{r} Phi'(s) ds + L^2 (1/r0^2 - 1/r^2), integrated by Gauss–Legendre
//! on panels of 0.1 in ln r: pinned at the point (h(r0) = v_r0^2 exactly) and accurate
//! relative to h itself. It gives the turning points within 0.05 in ln r of the point (whose
//! position relative to r0 fixes the phase), and every node of orbits where the rounding
//! amplification A = |Phi(r0)| / (|v|^2 + r0 Phi'(r0)) exceeds 500 times the squared log
//! half-width, or 1000 (deep cores).
//!
//! Turning points are bracketed by walking outward in ln r from the point itself (or from the
//! guiding-centre radius where v_r = 0) and refined by Brent's method in ln r.

use std::f64::consts::{FRAC_PI_2, FRAC_PI_4, PI};
use std::sync::Arc;

use super::quadrature::{brent, gauss_legendre, GaussLegendre};
use super::{wrap_angle, ActionAngle, ActionError, ActionFinder};
use crate::phase::{cross, dot, PhaseSpace, Vec3};
use crate::potential::{Potential, SphericalProfile};

/// (r_a - r_p) / (r_a + r_p) below which an orbit is treated as near-circular.
const NEAR_CIRCULAR: f64 = 1e-2;
/// Smallest angular momentum used, in units of r0 times the speed scale (`Radial::new`).
const L_FLOOR: f64 = 1e-14;
/// ln(r_a / r_p) above which the pericentre is negligible and the orbit is treated as radial.
const RADIAL_LOG_SPAN: f64 = 46.0;
/// First step of the bracketing walks in ln r; the steps double.
const WALK_STEP: f64 = 0.25;
/// How far a walk goes in ln r before giving up (r e^(+-128)).
const WALK_SPAN: f64 = 128.0;
/// |ln(r / r0)| within which a turning point is found again with the force integral
/// (`Radial::h_fine`), and v_r^2 between it and the point comes from that integral.
const FINE_SPAN: f64 = 0.05;
/// Ratio A / xh^2 of the amplification of rounding (`Radial::amplification`) to the squared
/// log half-width of an orbit above which v_r^2 comes from the force integral everywhere.
const NOISY: f64 = 500.0;
/// Width in ln r of the panels of the force integral.
const FINE_PANEL: f64 = 0.1;
/// |Phi(r0)| / (|v|^2 + r0 Phi'(r0)) above which all of v_r^2 comes from the force integral:
/// deep in a core, where Phi is nearly constant and differences of its values lose digits.
const DEEP_CORE: f64 = 1e3;
/// Nodes of the rule for the short force integrals.
const SHORT_ORDER: usize = 5;
/// Orders of the quadrature tables built with a finder.
const ORDERS: [usize; 14] = [2, 3, 4, 6, 8, 12, 16, 20, 24, 32, 40, 48, 64, 96];

/// The quadrature tables of one order n.
#[derive(Debug)]
struct RuleSet {
    /// Midpoint rule on [0, pi]: (sin u_k, cos u_k) at u_k = (k + 1/2) pi / n, weight pi / n.
    /// Spectrally accurate for the 2 pi-periodic even integrands of the log and near-circular
    /// parametrisations, and its nodes stay pi / (2n) away from the turning points.
    midpoint: Vec<(f64, f64)>,
    /// Gauss–Legendre of order 2n, whose positive half integrates functions even about one
    /// end of an interval (the partial integrals from a turning point).
    even: GaussLegendre,
    /// Gauss–Legendre of order n (radial orbits, whose integrand is odd about the centre).
    plain: GaussLegendre,
}

impl RuleSet {
    fn new(n: usize) -> Self {
        let midpoint = (0..n)
            .map(|k| ((k as f64 + 0.5) * PI / n as f64).sin_cos())
            .collect();
        Self {
            midpoint,
            even: gauss_legendre(2 * n),
            plain: gauss_legendre(n),
        }
    }
}

/// Actions, angles and frequencies in a spherical potential by quadrature (see the module
/// documentation for the method).
#[derive(Debug)]
pub struct SphericalFinder {
    pot: Arc<dyn Potential>,
    phi_infinity: f64,
    /// Phi(0) is finite, so radial orbits are deflected by pi at the centre.
    finite_centre: bool,
    rules: Vec<RuleSet>,
    short: GaussLegendre,
}

impl SphericalFinder {
    /// A finder for the spherical potential `pot`; [`ActionError::Unsupported`] if
    /// `pot.spherical()` is `None`.
    pub fn new(pot: Arc<dyn Potential>) -> Result<Self, ActionError> {
        let prof = pot
            .spherical()
            .ok_or_else(|| ActionError::Unsupported(format!("potential {} is not spherical", pot.spec())))?;
        let finite_centre = prof.phi(0.0).is_finite();
        let phi_infinity = pot.potential_at_infinity();
        Ok(Self {
            pot,
            phi_infinity,
            finite_centre,
            rules: ORDERS.iter().map(|&n| RuleSet::new(n)).collect(),
            short: gauss_legendre(SHORT_ORDER),
        })
    }

    /// The potential.
    pub fn potential(&self) -> &Arc<dyn Potential> {
        &self.pot
    }

    fn profile(&self) -> Result<&dyn SphericalProfile, ActionError> {
        self.pot
            .spherical()
            .ok_or_else(|| ActionError::Unsupported("potential is not spherical".into()))
    }

    /// The tables with at least `n` nodes (the largest ones if none has).
    fn rules(&self, n: usize) -> &RuleSet {
        let i = ORDERS.iter().position(|&k| k >= n).unwrap_or(ORDERS.len() - 1);
        &self.rules[i]
    }
}

impl ActionFinder for SphericalFinder {
    fn action_angle(&self, w: &PhaseSpace) -> Result<ActionAngle, ActionError> {
        let prof = self.profile()?;
        let k = Kinematics::new(w, prof, self.phi_infinity)?;
        let m = Radial::new(prof, &self.short, &k);
        let shape = self.shape(&m)?;
        let full = self.full_integrals(shape, &m)?;
        let part = self.partial_integrals(shape, &m, &full);
        Ok(assemble(&k, w, &full, &part))
    }

    fn name(&self) -> String {
        "spherical".into()
    }
}

/// What the finder needs of one phase-space point.
struct Kinematics {
    r0: f64,
    /// Radial velocity x·v / r.
    vr: f64,
    /// Angular momentum vector x × v, its norm and squared norm.
    lvec: Vec3,
    l: f64,
    l2: f64,
    phi0: f64,
}

impl Kinematics {
    /// Radius, radial velocity, angular momentum; errors for non-finite, central or unbound
    /// points (E = Phi(r) + v^2/2 >= Phi(infinity)).
    fn new(w: &PhaseSpace, prof: &dyn SphericalProfile, phi_inf: f64) -> Result<Self, ActionError> {
        if !w.is_finite() {
            return Err(ActionError::NonFinite);
        }
        let r0 = w.radius();
        if r0 == 0.0 {
            return Err(ActionError::Unsupported(
                "point at the centre r = 0: radial direction undefined".into(),
            ));
        }
        let phi0 = prof.phi(r0);
        let energy = phi0 + w.kinetic_energy();
        if !energy.is_finite() {
            return Err(ActionError::NonFinite);
        }
        if energy >= phi_inf {
            return Err(ActionError::Unbound {
                energy,
                limit: phi_inf,
            });
        }
        let lvec = w.angular_momentum();
        let l2 = dot(&lvec, &lvec);
        Ok(Self {
            r0,
            vr: dot(&w.x, &w.v) / r0,
            lvec,
            l: l2.sqrt(),
            l2,
            phi0,
        })
    }
}

/// The radial motion through the point: v_r^2 = h(r) and its ingredients.
struct Radial<'a> {
    prof: &'a dyn SphericalProfile,
    /// Gauss–Legendre rule of the force-integral panels.
    short: &'a GaussLegendre,
    /// |Phi(r0)| / (|v|^2 + r0 Phi'(r0)): by how much the rounding of Phi outweighs the
    /// kinetic scale in differences of potential values (large deep in a core).
    amplification: f64,
    /// `amplification` above [`DEEP_CORE`]: v_r^2 always comes from the force integral.
    precise: bool,
    r0: f64,
    vr2: f64,
    /// |v|^2 at the point.
    v2: f64,
    phi0: f64,
    l2: f64,
}

impl<'a> Radial<'a> {
    /// The radial motion of the point, with L^2 raised to at least ([`L_FLOOR`] r0 v)^2,
    /// v^2 = |v|^2 + r0 Phi'(r0): a radial orbit (L = 0) is computed as the limit L -> 0+,
    /// which fixes Omega_z for any central cusp and changes J_r by about 1e-14 relative.
    fn new(prof: &'a dyn SphericalProfile, short: &'a GaussLegendre, k: &Kinematics) -> Self {
        let v2 = k.vr * k.vr + k.l2 / (k.r0 * k.r0);
        let scale2 = v2 + k.r0 * prof.dphi_dr(k.r0).max(0.0);
        let floor = L_FLOOR * k.r0 * scale2.sqrt();
        let amplification = k.phi0.abs() / scale2;
        Self {
            prof,
            short,
            amplification,
            precise: amplification > DEEP_CORE || amplification.is_nan(),
            r0: k.r0,
            vr2: k.vr * k.vr,
            v2,
            phi0: k.phi0,
            l2: k.l2.max(floor * floor),
        }
    }

    /// h at r = r0 + d given dphi = Phi(r) - Phi(r0):
    /// h = v_r0^2 - 2 dphi + L^2 d (r + r0) / (r0^2 r^2), so that h(r0) = v_r0^2 exactly.
    #[inline]
    fn h_from(&self, r: f64, d: f64, dphi: f64) -> f64 {
        let barrier = if self.l2 == 0.0 {
            0.0
        } else {
            self.l2 * d * (r + self.r0) / (self.r0 * self.r0 * r * r)
        };
        self.vr2 - 2.0 * dphi + barrier
    }

    /// v_r^2 at radius r (BT08 eq. 3.13), from two potential values.
    #[inline]
    fn h(&self, r: f64) -> f64 {
        self.h_from(r, r - self.r0, self.prof.phi(r) - self.phi0)
    }

    /// v_r^2 at r = r0 e^x, with Phi(r) - Phi(r0) = ∫_0^x Phi'(r0 e^y) r0 e^y dy by the short
    /// rule on panels of at most [`FINE_PANEL`] in ln r: accurate where h is tiny next to Phi
    /// (near-circular orbits, r between the point and a close turning point, deep cores).
    fn h_fine(&self, x: f64) -> f64 {
        let (r, d) = self.at_log(x);
        let panels = (x.abs() / FINE_PANEL).ceil().max(1.0);
        let width = x / panels;
        let force = |y: f64| {
            let s = self.r0 * y.exp();
            self.prof.dphi_dr(s) * s
        };
        let dphi: f64 = (0..panels as usize)
            .map(|i| {
                let lo = width * i as f64;
                self.short.integrate(lo, lo + width, force)
            })
            .sum();
        self.h_from(r, d, dphi)
    }

    /// v_r^2 at r = r0 e^x: from potential differences, or from the force deep in a core.
    #[inline]
    fn h_log(&self, x: f64) -> f64 {
        if self.precise {
            self.h_fine(x)
        } else {
            self.h(self.r0 * x.exp())
        }
    }

    /// v_r^2 without the centrifugal barrier, |v|^2 - 2 (Phi(r) - Phi(r0)): the radial orbits,
    /// whose barrier only matters inside a negligible pericentre.
    #[inline]
    fn h_radial(&self, r: f64) -> f64 {
        self.v2 - 2.0 * (self.prof.phi(r) - self.phi0)
    }

    /// r and r - r0 (to full precision) at ln(r / r0) = x.
    #[inline]
    fn at_log(&self, x: f64) -> (f64, f64) {
        (self.r0 * x.exp(), self.r0 * x.exp_m1())
    }

    /// dPhi_eff/dr = Phi'(r) - L^2 / r^3, zero at the guiding-centre radius.
    fn dphi_eff(&self, r: f64) -> f64 {
        self.prof.dphi_dr(r) - self.l2 / (r * r * r)
    }

    /// d2Phi_eff/dr2 = Phi''(s) + 3 L^2 / s^4 (= kappa^2 at the guiding centre).
    #[inline]
    fn d2phi_eff(&self, s: f64) -> f64 {
        let s2 = s * s;
        self.prof.d2phi_dr2(s) + 3.0 * self.l2 / (s2 * s2)
    }

    /// The radius where dPhi_eff/dr = 0 (L > 0), found by walking from `r` in ln r with
    /// first step `step`.
    fn guiding_radius(&self, r: f64, step: f64) -> Result<f64, ActionError> {
        let f0 = self.dphi_eff(r);
        if f0 == 0.0 {
            return Ok(r);
        }
        let dir = -f0.signum();
        let f = |x: f64| -dir * self.dphi_eff(r * x.exp());
        match walk(f, -dir * f0, dir, step) {
            Walk::Root(x) => Ok(r * x.exp()),
            _ => Err(no_convergence("no guiding-centre radius (L^2 = r^3 Phi'(r))")),
        }
    }
}

/// Outcome of a bracketing walk.
enum Walk {
    Root(f64),
    /// f stayed positive over the whole walk.
    Never,
    /// f became NaN, or Brent failed.
    Failed,
}

/// The first root of `f` along x = 0 -> dir * infinity, given f(0) = `f0` > 0: steps of
/// `step`, 2 `step`, 4 `step`, ... until f <= 0, then Brent's method on the last step, to
/// an absolute tolerance of `step` * 1e-15 (which keeps full relative precision for roots
/// close to 0 when `step` is matched to their distance).
fn walk<F: Fn(f64) -> f64>(f: F, f0: f64, dir: f64, step: f64) -> Walk {
    if !(step > 0.0 && step.is_finite()) {
        return Walk::Failed;
    }
    let xtol = step * 1e-15;
    let (mut lo, mut flo, mut step) = (0.0, f0, step);
    // Doubling from any positive f64 step passes WALK_SPAN within 1100 steps.
    for _ in 0..1100 {
        let hi = lo + dir * step;
        let fhi = f(hi);
        if fhi.is_nan() {
            return Walk::Failed;
        }
        if fhi <= 0.0 {
            return brent(&f, lo, hi, flo, fhi, xtol).map_or(Walk::Failed, Walk::Root);
        }
        if hi.abs() > WALK_SPAN {
            return Walk::Never;
        }
        lo = hi;
        flo = fhi;
        step *= 2.0;
    }
    Walk::Never
}

fn no_convergence(what: &str) -> ActionError {
    ActionError::NoConvergence(what.to_string())
}

/// How u in [0, pi] maps onto the radial range of the orbit.
#[derive(Clone, Copy, Debug)]
enum Shape {
    /// ln(r / r0) = xm - xh cos u between ln(r_p/r0) = `xp` and ln(r_a/r0) = `xa`; `fine`:
    /// v_r^2 from the force integral at every node.
    Log { xp: f64, xa: f64, fine: bool },
    /// r = mid - amp cos u, v_r^2 = amp^2 sin^2 u g(r) with g the divided difference.
    NearCircular { rp: f64, ra: f64 },
    /// r = r_a (1 - cos u) / 2; `rp` (tiny or 0) only enters the orbital-plane angle.
    Radial { rp: f64, ra: f64 },
}

impl Shape {
    /// Whether the apocentre (`apo`) or the pericentre lies within [`FINE_SPAN`] of r0 in
    /// ln r, so that the integrand between them is computed from the force integral.
    fn close_end(&self, r0: f64, apo: bool) -> bool {
        let x = match (*self, apo) {
            (Shape::Log { xa, .. }, true) => xa,
            (Shape::Log { xp, .. }, false) => -xp,
            (Shape::Radial { ra, .. }, true) => (ra / r0).ln(),
            _ => return false,
        };
        x < FINE_SPAN
    }
}

/// One quadrature node: radius, (dr/du) / v_r and v_r (dr/du).
struct Node {
    r: f64,
    dt: f64,
    dj: f64,
}

/// Sums over nodes: ∫ v_r dr, ∫ dr / v_r and ∫ dr / (r^2 v_r).
#[derive(Clone, Copy, Debug, Default)]
struct Sums {
    j: f64,
    t: f64,
    p: f64,
}

impl std::ops::Sub for Sums {
    type Output = Sums;
    fn sub(self, o: Sums) -> Sums {
        Sums {
            j: self.j - o.j,
            t: self.t - o.t,
            p: self.p - o.p,
        }
    }
}

/// The integrals over half a radial period.
struct Full {
    /// ∫ v_r dr, ∫ dr/v_r, L ∫ dr/(r^2 v_r) from r_p to r_a.
    j: f64,
    t: f64,
    psi: f64,
    sums: Sums,
}

/// Partial integrals from the pericentre to the point (outbound motion).
struct Part {
    /// ∫ dr / v_r and L ∫ dr / (r^2 v_r) from r_p to r0.
    t: f64,
    psi: f64,
}

impl SphericalFinder {
    /// Turning points and the parametrisation that suits them.
    fn shape(&self, m: &Radial) -> Result<Shape, ActionError> {
        let (rp, ra) = self.turning_points(m)?;
        if rp == 0.0 || (ra / rp).ln() > RADIAL_LOG_SPAN {
            let xa = (ra / m.r0).ln().max(0.0);
            let xa = if xa < FINE_SPAN {
                self.refine_root(m, xa, 1.0)?
            } else {
                xa
            };
            return Ok(Shape::Radial {
                rp,
                ra: m.r0 * xa.exp(),
            });
        }
        if ra - rp < NEAR_CIRCULAR * (ra + rp) {
            let (rp, ra) = self.near_circular_turning_points(m, rp, ra)?;
            return Ok(Shape::NearCircular { rp, ra });
        }
        let (xp, xa) = ((rp / m.r0).ln().min(0.0), (ra / m.r0).ln().max(0.0));
        let xh = 0.5 * (xa - xp);
        // v_r^2 at the nodes next to the turning points is ~ 1e-2 xh^2 |v|^2, computed from
        // potentials with an error ~ eps A |v|^2: past NOISY take it from the force.
        let fine = m.precise || m.amplification > NOISY * xh * xh;
        let refine = |x: f64, dir: f64| {
            if (fine && !m.precise) || x.abs() < FINE_SPAN {
                self.refine_root(m, x, dir)
            } else {
                Ok(x)
            }
        };
        Ok(Shape::Log {
            xp: refine(xp, -1.0)?,
            xa: refine(xa, 1.0)?,
            fine,
        })
    }

    /// The turning point near ln(r/r0) = `x` (direction `dir` from the point) found again
    /// with the force-integral form of h. Needed where h is tiny next to Phi: close to the
    /// point, the position of the root relative to r0 (which fixes the phase of the point)
    /// would otherwise carry the rounding of Phi; on noisy orbits, so that the roots match
    /// the h of the nodes. The walk starts at the point, or, when the point itself is a
    /// turning point (v_r = 0), halfway to the other one.
    fn refine_root(&self, m: &Radial, x: f64, dir: f64) -> Result<f64, ActionError> {
        let mut start = 0.0;
        if m.vr2 == 0.0 {
            // h decreases from r0 in direction dir when dir dPhi_eff/dr > 0: r0 is that root.
            if dir * m.dphi_eff(m.r0) >= 0.0 {
                return Ok(0.0);
            }
            start = 0.5 * x;
        }
        let h = |y: f64| m.h_fine(start + y);
        let h0 = if start == 0.0 { m.vr2 } else { h(0.0) };
        if h0.is_nan() || h0 <= 0.0 {
            return Ok(x);
        }
        match walk(h, h0, dir, 2.0 * (x - start).abs() + 1e-12) {
            Walk::Root(y) => Ok(start + y),
            _ => Err(no_convergence("turning point next to the point not found")),
        }
    }

    /// Pericentre and apocentre from h(r) = 0 (pericentre 0 when L = 0 or beyond reach).
    fn turning_points(&self, m: &Radial) -> Result<(f64, f64), ActionError> {
        let base = if m.vr2 > 0.0 || m.l2 == 0.0 {
            m.r0
        } else {
            m.guiding_radius(m.r0, WALK_STEP)?
        };
        let lb = (base / m.r0).ln();
        let h0 = if base == m.r0 { m.vr2 } else { m.h_log(lb) };
        if h0 <= 0.0 {
            // At rest (L = 0) or on a circular orbit (v_r = 0 at the guiding radius).
            return Ok(if m.l2 == 0.0 { (0.0, base) } else { (base, base) });
        }
        let ra = match walk(|x| m.h_log(lb + x), h0, 1.0, WALK_STEP) {
            Walk::Root(x) => base * x.exp(),
            Walk::Never => return Err(no_convergence("no apocentre within e^128 of the point")),
            Walk::Failed => return Err(no_convergence("apocentre root finding failed")),
        };
        if m.l2 == 0.0 {
            return Ok((0.0, ra));
        }
        let rp = match walk(|x| m.h_log(lb + x), h0, -1.0, WALK_STEP) {
            Walk::Root(x) => base * x.exp(),
            Walk::Never => 0.0,
            Walk::Failed => return Err(no_convergence("pericentre root finding failed")),
        };
        Ok((rp, ra))
    }

    /// Turning points of a near-circular orbit, refined with the force-integral form of h,
    /// bracketed from the guiding-centre radius (where h is largest).
    fn near_circular_turning_points(&self, m: &Radial, rp: f64, ra: f64) -> Result<(f64, f64), ActionError> {
        let span = (ra / rp).ln().max(1e-12);
        let rc = m.guiding_radius(m.r0, span)?;
        let lc = (rc / m.r0).ln();
        let hc = m.h_fine(lc);
        if hc <= 0.0 {
            return Ok((rc, rc));
        }
        let h = |x: f64| m.h_fine(lc + x);
        let root = |dir: f64| match walk(h, hc, dir, span) {
            Walk::Root(x) => Ok(rc * x.exp()),
            _ => Err(no_convergence("near-circular turning point not found")),
        };
        Ok((root(-1.0)?, root(1.0)?))
    }

    /// Number of nodes over the half period u in [0, pi].
    fn order(shape: Shape) -> usize {
        match shape {
            // 16 nodes for ln(r_a/r_p) = 0, 96 (the most) from ln(r_a/r_p) = 20 on.
            Shape::Log { xp, xa, .. } => (16.0 + 4.0 * (xa - xp)) as usize,
            Shape::NearCircular { .. } => 12,
            Shape::Radial { .. } => 16,
        }
    }

    /// The integrand at u given (sin u, cos u): radius, (dr/du)/v_r and v_r dr/du. A NaN
    /// marks v_r^2 <= 0 (a node outside the allowed region). `fine` computes v_r^2 from
    /// the force integral (nodes close to the point).
    #[inline]
    fn node(&self, shape: Shape, m: &Radial, s: f64, c: f64, fine: bool) -> Node {
        let (one_minus, one_plus) = one_minus_plus_cos(s, c);
        match shape {
            Shape::Log { xp, xa, fine: all } => {
                let xh = 0.5 * (xa - xp);
                // ln(r/r0) from the nearer turning point, so r - r_p keeps its precision.
                let x = if c >= 0.0 {
                    xp + xh * one_minus
                } else {
                    xa - xh * one_plus
                };
                let r = m.r0 * x.exp();
                let drdu = r * xh * s;
                let vr = positive_sqrt(if fine || all { m.h_fine(x) } else { m.h(r) });
                Node {
                    r,
                    dt: drdu / vr,
                    dj: drdu * vr,
                }
            }
            Shape::NearCircular { rp, ra } => {
                let amp = 0.5 * (ra - rp);
                let dl = amp * one_minus;
                let g = self.divided_difference(m, rp, ra, dl);
                let sg = g.sqrt();
                Node {
                    r: rp + dl,
                    dt: 1.0 / sg,
                    dj: amp * amp * s * s * sg,
                }
            }
            Shape::Radial { ra, .. } => {
                let r = 0.5 * ra * one_minus;
                let drdu = 0.5 * ra * s;
                let h = if fine {
                    m.h_fine((r / m.r0).ln())
                } else {
                    m.h_radial(r)
                };
                let vr = positive_sqrt(h);
                Node {
                    r,
                    dt: drdu / vr,
                    dj: drdu * vr,
                }
            }
        }
    }

    /// g(r) = -h[r_p, r, r_a] = ∫ M(s) (Phi''(s) + 3 L^2 / s^4) ds, the second divided
    /// difference of h written as the B-spline (hat) average of -h''/2 (de Boor 2001,
    /// ch. 1), with `dl` = r - r_p. The weights t on [0, 1] sum (with w/2) to 1/2, so
    /// g = (dl ∫ t q_left + (span - dl) ∫ t q_right) * 2 / span; exact for any amplitude,
    /// kappa^2 on a circular orbit.
    fn divided_difference(&self, m: &Radial, rp: f64, ra: f64, dl: f64) -> f64 {
        let span = ra - rp;
        if span <= 0.0 {
            return m.d2phi_eff(rp);
        }
        let dl = dl.clamp(0.0, span);
        let dr = span - dl;
        // ∫_0^1 t q(r_p + dl t) dt and ∫_0^1 t q(r_a - dr t) dt by the short rule.
        let (mut left, mut right) = (0.0, 0.0);
        for (x, w) in self.short.iter() {
            let t = 0.5 * (1.0 + x);
            left += w * t * m.d2phi_eff(rp + dl * t);
            right += w * t * m.d2phi_eff(ra - dr * t);
        }
        (dl * left + dr * right) / span
    }

    /// Weighted sums of the three integrands over nodes given as (sin u, cos u, weight).
    fn sums<I>(&self, shape: Shape, m: &Radial, nodes: I, fine: bool) -> Sums
    where
        I: Iterator<Item = (f64, f64, f64)>,
    {
        let mut acc = Sums::default();
        for (s, c, w) in nodes {
            let n = self.node(shape, m, s, c, fine);
            acc.j += w * n.dj;
            acc.t += w * n.dt;
            acc.p += w * n.dt / (n.r * n.r);
        }
        acc
    }

    /// Nodes and weights for the half period u in [0, pi]: the midpoint rule, or for radial
    /// orbits Gauss–Legendre on [0, pi/2] and the half rule even about pi on [pi/2, pi].
    fn full_nodes(shape: Shape, rules: &RuleSet) -> impl Iterator<Item = (f64, f64, f64)> + '_ {
        let radial = matches!(shape, Shape::Radial { .. });
        let w = PI / rules.midpoint.len() as f64;
        let mid = rules
            .midpoint
            .iter()
            .filter(move |_| !radial)
            .map(move |&(s, c)| (s, c, w));
        let gl = rules.plain.iter().filter(move |_| radial).map(|(x, wk)| {
            let (s, c) = (FRAC_PI_4 * (1.0 + x)).sin_cos();
            (s, c, FRAC_PI_4 * wk)
        });
        let apo = to_apocentre(rules, FRAC_PI_2).filter(move |_| radial);
        mid.chain(gl).chain(apo)
    }

    /// J_r pi, T_r / 2 and the orbital-plane angle swept from pericentre to apocentre.
    fn full_integrals(&self, shape: Shape, m: &Radial) -> Result<Full, ActionError> {
        let sums = self.sums(
            shape,
            m,
            Self::full_nodes(shape, self.rules(Self::order(shape))),
            false,
        );
        let psi = match shape {
            Shape::Radial { .. } if self.finite_centre => FRAC_PI_2,
            Shape::Radial { .. } => {
                return Err(ActionError::Unsupported(
                    "radial orbit through a singular centre (Phi(0) = -inf)".into(),
                ))
            }
            _ => m.l2.sqrt() * sums.p,
        };
        if !(sums.j.is_finite() && sums.t.is_finite() && psi.is_finite()) || sums.t <= 0.0 {
            return Err(no_convergence(
                "radial velocity vanishes between the turning points",
            ));
        }
        Ok(Full {
            j: sums.j,
            t: sums.t,
            psi,
            sums,
        })
    }

    /// The phase u0 of the point in [0, pi] (0 at pericentre, pi at apocentre).
    fn phase(&self, shape: Shape, m: &Radial) -> f64 {
        match shape {
            Shape::Log { xp, xa, .. } => {
                let (dp, da) = ((-xp).max(0.0), xa.max(0.0));
                (dp * da).sqrt().atan2(0.5 * (da - dp))
            }
            Shape::NearCircular { rp, ra } => {
                let g = self.divided_difference(m, rp, ra, m.r0 - rp);
                (m.vr2 / g).sqrt().atan2(0.5 * (rp + ra) - m.r0)
            }
            Shape::Radial { ra, .. } => {
                let r0 = m.r0.min(ra);
                (2.0 * (r0 * (ra - r0)).sqrt()).atan2(ra - 2.0 * r0)
            }
        }
    }

    /// Integrals from the pericentre to the point. The interval from u0 to the nearer
    /// turning point is integrated with the half Gauss–Legendre rule for integrands even
    /// about that turning point (plain Gauss–Legendre from the centre of a radial orbit);
    /// beyond pi/2 the result is the full integral less [u0, pi]. The number of nodes
    /// shrinks with the interval: short intervals need fewer for the same accuracy, and
    /// fewer nodes stay farther from the turning point, where v_r^2 is a small difference
    /// of large numbers.
    fn partial_integrals(&self, shape: Shape, m: &Radial, full: &Full) -> Part {
        let u0 = self.phase(shape, m);
        let width = u0.min(PI - u0);
        let rules = self.rules(2 + (Self::order(shape) as f64 * width / FRAC_PI_2).ceil() as usize);
        let s = if width <= 0.0 {
            // At a turning point: nothing (pericentre) or everything (apocentre) to add.
            if u0 > FRAC_PI_2 {
                full.sums
            } else {
                Sums::default()
            }
        } else if u0 > FRAC_PI_2 {
            full.sums
                - self.sums(
                    shape,
                    m,
                    to_apocentre(rules, PI - u0),
                    shape.close_end(m.r0, true),
                )
        } else if matches!(shape, Shape::Radial { .. }) {
            let nodes = rules.plain.iter().map(|(x, w)| {
                let (s, c) = (0.5 * u0 * (1.0 + x)).sin_cos();
                (s, c, 0.5 * u0 * w)
            });
            self.sums(shape, m, nodes, false)
        } else {
            let nodes = rules.even.positive_half().map(|(x, w)| {
                let (s, c) = (u0 * x).sin_cos();
                (s, c, u0 * w)
            });
            self.sums(shape, m, nodes, shape.close_end(m.r0, false))
        };
        let psi = match shape {
            // The barrier-dominated limit: L ∫_{r_p}^{r} dr / (r^2 sqrt(v0^2 - L^2/r^2)).
            Shape::Radial { rp, .. } => (rp / m.r0).min(1.0).acos(),
            _ => m.l2.sqrt() * s.p,
        };
        Part { t: s.t, psi }
    }
}

/// Nodes (sin u, cos u, weight) on [pi - width, pi] for integrands even about u = pi: the
/// positive half of the order-2n rule, u = pi - width x.
fn to_apocentre(rules: &RuleSet, width: f64) -> impl Iterator<Item = (f64, f64, f64)> + '_ {
    rules.even.positive_half().map(move |(x, w)| {
        let (s, c) = (width * x).sin_cos();
        (s, -c, width * w)
    })
}

/// (1 - cos u, 1 + cos u) from (sin u, cos u) without cancellation near u = 0 or pi.
#[inline]
fn one_minus_plus_cos(s: f64, c: f64) -> (f64, f64) {
    if c >= 0.0 {
        let p = 1.0 + c;
        (s * s / p, p)
    } else {
        let q = 1.0 - c;
        (q, s * s / q)
    }
}

/// sqrt(h) for h > 0, NaN otherwise (a node outside the allowed region).
#[inline]
fn positive_sqrt(h: f64) -> f64 {
    if h > 0.0 {
        h.sqrt()
    } else {
        f64::NAN
    }
}

/// Actions, frequencies and angles from the integrals (galpy's conventions, module docs).
fn assemble(k: &Kinematics, w: &PhaseSpace, full: &Full, part: &Part) -> ActionAngle {
    let lz = k.lvec[2];
    let omega_r = PI / full.t;
    let ratio = full.psi / PI;
    let omega_z = ratio * omega_r;
    let sign_z = if lz < 0.0 { -1.0 } else { 1.0 };
    let sign_r = if k.vr < 0.0 { -1.0 } else { 1.0 };
    let theta_r = sign_r * omega_r * part.t;
    let (psi, node) = plane_angles(&w.x, &k.lvec, k.l);
    let theta_z = psi - sign_r * part.psi + ratio * theta_r;
    ActionAngle {
        actions: [full.j / PI, k.l - lz.abs(), lz],
        angles: [
            wrap_angle(theta_r),
            wrap_angle(theta_z),
            wrap_angle(node + sign_z * theta_z),
        ],
        frequencies: [omega_r, omega_z, sign_z * omega_z],
    }
}

/// psi, the angle in the orbital plane from the ascending node to x in the direction of
/// motion, and the longitude of the ascending node, atan2(L_x, -L_y). For orbits in the
/// equatorial plane (and radial ones) the node is undefined; galpy then takes node 0 and
/// psi = phi (prograde), or node phi and psi = 0 (retrograde), as done here.
fn plane_angles(x: &Vec3, lvec: &Vec3, l: f64) -> (f64, f64) {
    let lxy = lvec[0].hypot(lvec[1]);
    if lxy == 0.0 || l == 0.0 {
        let phi = x[1].atan2(x[0]);
        return if lvec[2] < 0.0 { (0.0, phi) } else { (phi, 0.0) };
    }
    let n = [-lvec[1] / lxy, lvec[0] / lxy, 0.0];
    // x . (L^ x n) = n . (x x L^)
    let xl = cross(x, lvec);
    let psi = (dot(&n, &xl) / l).atan2(dot(x, &n));
    (psi, lvec[0].atan2(-lvec[1]))
}
