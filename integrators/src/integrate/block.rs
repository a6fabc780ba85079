//! Many orbits advanced together by fixed steps, a block of orbits at a time.
//!
//! One orbit's steps form a chain of dependent square roots and divisions; a block of
//! [`BLOCK`] independent orbits stepped in lockstep lets the processor overlap them. This is
//! the path for test particles that share their output times (snapshots) and for the
//! benchmark; orbits with their own output times go through [`super::integrate`].

use rayon::prelude::*;

use super::schemes::{Scheme, YOSHIDA_W0, YOSHIDA_W1};
use crate::phase::{PhaseSpace, Vec3};
use crate::potential::Potential;

/// Orbits stepped together.
pub const BLOCK: usize = 8;

/// Advance every state by `n` fixed steps of `dt` (internal time unit), in parallel over
/// blocks of orbits. The result equals [`super::advance`] on each orbit alone.
pub fn advance_many<P: Potential + ?Sized>(
    pot: &P,
    states: &mut [PhaseSpace],
    dt: f64,
    n: u64,
    scheme: Scheme,
) {
    states
        .par_chunks_mut(BLOCK)
        .for_each(|chunk| advance_block(pot, chunk, dt, n, scheme));
}

fn advance_block<P: Potential + ?Sized>(pot: &P, chunk: &mut [PhaseSpace], dt: f64, n: u64, scheme: Scheme) {
    let m = chunk.len();
    let mut x = [[0.0; 3]; BLOCK];
    let mut v = [[0.0; 3]; BLOCK];
    let mut a = [[0.0; 3]; BLOCK];
    for (i, w) in chunk.iter().enumerate() {
        x[i] = w.x;
        v[i] = w.v;
    }
    let (x, v, a) = (&mut x[..m], &mut v[..m], &mut a[..m]);
    pot.accelerations(x, a);
    let substeps: &[f64] = match scheme {
        Scheme::Leapfrog => &[1.0],
        Scheme::Yoshida4 => &[YOSHIDA_W1, YOSHIDA_W0, YOSHIDA_W1],
    };
    for _ in 0..n {
        for &w in substeps {
            kick_drift_kick_block(pot, x, v, a, w * dt);
        }
    }
    for (i, w) in chunk.iter_mut().enumerate() {
        *w = PhaseSpace::new(x[i], v[i]);
    }
}

#[inline(always)]
fn kick_drift_kick_block<P: Potential + ?Sized>(
    pot: &P,
    x: &mut [Vec3],
    v: &mut [Vec3],
    a: &mut [Vec3],
    dt: f64,
) {
    let h = 0.5 * dt;
    for ((x, v), a) in x.iter_mut().zip(v.iter_mut()).zip(a.iter()) {
        for k in 0..3 {
            v[k] += h * a[k];
            x[k] += dt * v[k];
        }
    }
    pot.accelerations(x, a);
    for (v, a) in v.iter_mut().zip(a.iter()) {
        for k in 0..3 {
            v[k] += h * a[k];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::integrate::advance;
    use crate::potential::{mw2014, Plummer};

    fn starts(n: usize) -> Vec<PhaseSpace> {
        (0..n)
            .map(|i| {
                let f = 1.0 + i as f64 * 0.37;
                PhaseSpace::new([f, -0.5 * f, 0.2], [30.0 / f, 150.0, -20.0])
            })
            .collect()
    }

    #[test]
    fn blocks_match_single_orbits_exactly() {
        let plummer = Plummer::new(1e11, 2.0).unwrap();
        let mw = mw2014();
        let pots: [&dyn Potential; 2] = [&plummer, &mw];
        for pot in pots {
            for scheme in [Scheme::Leapfrog, Scheme::Yoshida4] {
                let mut many = starts(19);
                advance_many(pot, &mut many, 1e-4, 500, scheme);
                for (w, s) in many.iter().zip(starts(19)) {
                    assert_eq!(*w, advance(pot, &s, 1e-4, 500, scheme));
                }
            }
        }
    }
}
