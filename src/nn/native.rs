//! A trained residual MLP evaluated point by point in plain Rust, generic over the scalar.
//!
//! The same network as [`super::Weights`] (weight normalisation already applied), with its
//! weights copied out as `f64`. Evaluated with `num-dual` numbers it carries derivatives of
//! any order with respect to whatever the inputs depend on: the phase-space Jacobian of the
//! whole action map (second derivatives of G and P) comes from feeding dual numbers through
//! [`NativeMlp::forward`] and [`NativeMlp::gradient`]. candle cannot nest its derivative
//! passes, hence this second evaluator; its values agree with candle's to round-off.

use num_dual::DualNum;

use super::Activation;

/// `y = W x + b` with `W` row-major `[out, in]`.
#[derive(Clone, Debug)]
pub struct NativeLinear {
    pub w: Vec<f64>,
    pub b: Option<Vec<f64>>,
    pub inputs: usize,
    pub outputs: usize,
}

/// One layer: a plain linear map, or a ResDense block `x + L2(act(L1(act(x))))` (eq. 11).
#[derive(Clone, Debug)]
pub enum NativeLayer {
    Dense(NativeLinear),
    Block(NativeLinear, NativeLinear),
}

/// The whole network.
#[derive(Clone, Debug)]
pub struct NativeMlp {
    pub layers: Vec<NativeLayer>,
    pub activation: Activation,
}

/// A scalar the native evaluator runs on: `f64` or a (nested) dual number over `f64`.
pub trait Scalar: DualNum<Primitive = f64> + Copy {}
impl<T: DualNum<Primitive = f64> + Copy> Scalar for T {}

impl NativeLinear {
    fn forward<D: Scalar>(&self, x: &[D]) -> Vec<D> {
        (0..self.outputs)
            .map(|o| {
                let row = &self.w[o * self.inputs..(o + 1) * self.inputs];
                let bias = self.b.as_ref().map_or(0.0, |b| b[o]);
                row.iter()
                    .zip(x)
                    .fold(D::from(bias), |acc, (&w, &xi)| acc + xi * w)
            })
            .collect()
    }

    /// Cotangent `c W`: `[out] -> [in]`.
    fn cotangent<D: Scalar>(&self, c: &[D]) -> Vec<D> {
        let mut out = vec![D::zero(); self.inputs];
        for (o, &co) in c.iter().enumerate() {
            let row = &self.w[o * self.inputs..(o + 1) * self.inputs];
            for (dst, &w) in out.iter_mut().zip(row) {
                *dst += co * w;
            }
        }
        out
    }
}

impl Activation {
    /// The activation and its derivative at `z`, for any scalar.
    pub fn value_and_slope<D: Scalar>(self, z: D) -> (D, D) {
        match self {
            Activation::Silu => {
                let s = (D::one() + (-z).exp()).recip();
                (z * s, s * (D::one() + z * (D::one() - s)))
            }
            Activation::Tanh => {
                let t = z.tanh();
                (t, D::one() - t * t)
            }
            Activation::Relu => {
                if z.re() > 0.0 {
                    (z, D::one())
                } else {
                    (D::zero(), D::zero())
                }
            }
        }
    }
}

impl NativeMlp {
    /// The network's outputs at `x`.
    pub fn forward<D: Scalar>(&self, x: &[D]) -> Vec<D> {
        self.trace(x).0
    }

    /// Forward pass keeping every activation's slope `act'(z)`, in order.
    fn trace<D: Scalar>(&self, x: &[D]) -> (Vec<D>, Vec<Vec<D>>) {
        let mut slopes = Vec::new();
        let mut x = x.to_vec();
        for layer in &self.layers {
            x = match layer {
                NativeLayer::Dense(l) => l.forward(&x),
                NativeLayer::Block(l1, l2) => {
                    let mut h = x.clone();
                    for l in [l1, l2] {
                        let (a, s): (Vec<D>, Vec<D>) =
                            h.iter().map(|&z| self.activation.value_and_slope(z)).unzip();
                        slopes.push(s);
                        h = l.forward(&a);
                    }
                    x.iter().zip(&h).map(|(&a, &b)| a + b).collect()
                }
            };
        }
        (x, slopes)
    }

    /// Value and input gradient of a one-output network: `(f(x), df/dx)`, by one forward and
    /// one reverse pass (`c <- c W` through a linear layer, `c <- c act'(z)` through an
    /// activation, a sum through a residual).
    pub fn gradient<D: Scalar>(&self, x: &[D]) -> (D, Vec<D>) {
        let (out, slopes) = self.trace(x);
        let mut c = vec![D::one()];
        let mut k = slopes.len();
        for layer in self.layers.iter().rev() {
            c = match layer {
                NativeLayer::Dense(l) => l.cotangent(&c),
                NativeLayer::Block(l1, l2) => {
                    k -= 2;
                    let c2 = scale(&l2.cotangent(&c), &slopes[k + 1]);
                    let c1 = scale(&l1.cotangent(&c2), &slopes[k]);
                    c.iter().zip(&c1).map(|(&a, &b)| a + b).collect()
                }
            };
        }
        (out[0], c)
    }
}

fn scale<D: Scalar>(c: &[D], s: &[D]) -> Vec<D> {
    c.iter().zip(s).map(|(&a, &b)| a * b).collect()
}
