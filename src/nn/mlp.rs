//! The residual MLP of the paper (§3, eq. 11, fig. 2) with explicit input derivatives.
//!
//! Layout: `Linear(in -> w_0)`, then for each block `i` a ResDense block
//! `x <- x + WN2(D2(act(WN1(D1(act(x))))))` (eq. 11; `WN` = weight normalisation,
//! `W = g v / |v|` per output row, Salimans & Kingma 2016) followed, between blocks, by a
//! `Linear(w_i -> w_{i+1})` without activation, and a final `Linear(w_last -> out)` whose
//! initial weights are scaled by 0.1 (the map starts near the toy's).
//!
//! Derivatives with respect to the inputs are tensor ops over a [`Trace`] of the forward pass:
//! [`Weights::input_cotangent`] is the hand-written reverse pass (`c <- c W` through a linear
//! layer, `c <- c act'(z)` through an activation, a sum through a residual) and
//! [`Weights::input_tangents`] pushes forward tangents. Both are differentiable by candle's
//! ordinary backward, which then gives the weight gradients of any loss built on them.

use candle_core::{Result, Tensor};
use rand::Rng;
use serde::{Deserialize, Serialize};

use super::native::{NativeLayer, NativeLinear, NativeMlp};
use super::params::Params;
use super::Activation;

/// Architecture of one residual MLP.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MlpSpec {
    /// Number of input features.
    pub inputs: usize,
    /// Number of outputs.
    pub outputs: usize,
    /// Width of each ResDense block, in order.
    pub widths: Vec<usize>,
    /// Nonlinearity inside the blocks.
    pub activation: Activation,
}

impl MlpSpec {
    /// Number of trainable numbers of the network [`ResMlp::new`] builds.
    pub fn parameter_count(&self) -> usize {
        let w = &self.widths;
        let (first, last) = (w.first().copied().unwrap_or(0), w.last().copied().unwrap_or(0));
        let blocks: usize = w.iter().map(|&k| 2 * k * k + 3 * k).sum();
        let links: usize = w.windows(2).map(|p| p[0] * p[1] + p[1]).sum();
        self.inputs * first + first + blocks + links + last * self.outputs + self.outputs
    }
}

/// Block widths rising by factors of 2 from `width` to `max_width`, staying there, and
/// falling back symmetrically, `depth` blocks in all (fig. 2: `widths(64, 1024, 11)` =
/// 64, 128, 256, 512, 1024, 1024, 1024, 512, 256, 128, 64).
pub fn widths(width: usize, max_width: usize, depth: usize) -> Vec<usize> {
    (0..depth)
        .map(|i| {
            let steps = i.min(depth - 1 - i).min(30) as u32;
            width.saturating_mul(1usize << steps).min(max_width.max(width))
        })
        .collect()
}

/// The trainable parameters of a [`ResMlp`], as candle variables from a `VarBuilder`.
#[derive(Clone, Debug)]
pub struct ResMlp {
    spec: MlpSpec,
    layers: Vec<ParamLayer>,
}

#[derive(Clone, Debug)]
enum ParamLayer {
    Dense { w: Tensor, b: Tensor },
    Block([WeightNormed; 2]),
}

/// A weight-normalised linear layer: `W = g v / |v|` (rows), optional bias.
#[derive(Clone, Debug)]
struct WeightNormed {
    v: Tensor,
    g: Tensor,
    b: Option<Tensor>,
}

/// Torch's default bound for a layer of `fan_in` inputs: `scale / sqrt(fan_in)`.
fn bound(fan_in: usize, scale: f64) -> f64 {
    scale / (fan_in as f64).sqrt()
}

fn dense<R: Rng>(
    ps: &mut Params<'_, R>,
    name: &str,
    inputs: usize,
    outputs: usize,
    scale: f64,
) -> Result<ParamLayer> {
    let mut ps = ps.pp(name);
    Ok(ParamLayer::Dense {
        w: ps.uniform("weight", (outputs, inputs), bound(inputs, scale))?,
        b: ps.uniform("bias", outputs, bound(inputs, scale))?,
    })
}

fn weight_normed<R: Rng>(
    ps: &mut Params<'_, R>,
    name: &str,
    width: usize,
    bias: bool,
) -> Result<WeightNormed> {
    let mut ps = ps.pp(name);
    let v = ps.uniform("v", (width, width), bound(width, 1.0))?;
    // Rows of v drawn uniform in +-1/sqrt(width) have expected norm 1/sqrt(3): start g there.
    let g = ps.constant("g", width, 1.0 / 3f64.sqrt())?;
    let b = if bias {
        Some(ps.uniform("bias", width, bound(width, 1.0))?)
    } else {
        None
    };
    Ok(WeightNormed { v, g, b })
}

impl ResMlp {
    /// Create the parameters of `spec` in `ps`, drawn from its generator (torch's default
    /// uniform initialisation; weight-norm gains at the rows' expected norm).
    pub fn new<R: Rng>(ps: &mut Params<'_, R>, spec: MlpSpec) -> Result<Self> {
        let w = &spec.widths;
        if w.is_empty() || w.contains(&0) || spec.inputs == 0 || spec.outputs == 0 {
            candle_core::bail!("an MLP needs at least one block and nonzero widths, got {spec:?}");
        }
        let mut layers = vec![dense(ps, "input", spec.inputs, w[0], 1.0)?];
        for (i, &width) in w.iter().enumerate() {
            let mut block = ps.pp(&format!("block{i}"));
            layers.push(ParamLayer::Block([
                weight_normed(&mut block, "wn1", width, false)?,
                weight_normed(&mut block, "wn2", width, true)?,
            ]));
            if let Some(&next) = w.get(i + 1) {
                layers.push(dense(ps, &format!("link{i}"), width, next, 1.0)?);
            }
        }
        layers.push(dense(ps, "output", w[w.len() - 1], spec.outputs, 0.1)?);
        Ok(Self { spec, layers })
    }

    /// The architecture.
    pub fn spec(&self) -> &MlpSpec {
        &self.spec
    }

    /// The effective weights (weight normalisation applied), attached to the variables.
    pub fn weights(&self) -> Result<Weights> {
        let layers = self
            .layers
            .iter()
            .map(|l| match l {
                ParamLayer::Dense { w, b } => Ok(Layer::Dense(Linear {
                    w: w.clone(),
                    b: Some(b.clone()),
                })),
                ParamLayer::Block([a, b]) => Ok(Layer::Block(a.effective()?, b.effective()?)),
            })
            .collect::<Result<_>>()?;
        Ok(Weights {
            layers,
            activation: self.spec.activation,
        })
    }
}

impl WeightNormed {
    /// `W = g v / |v|`, row by row.
    fn effective(&self) -> Result<Linear> {
        let norm = self.v.sqr()?.sum_keepdim(1)?.sqrt()?;
        let scale = self.g.unsqueeze(1)?.div(&norm)?;
        Ok(Linear {
            w: self.v.broadcast_mul(&scale)?,
            b: self.b.clone(),
        })
    }
}

/// `y = x W^T + b`.
#[derive(Clone, Debug)]
struct Linear {
    w: Tensor,
    b: Option<Tensor>,
}

impl Linear {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let y = x.matmul(&self.w.t()?)?;
        match &self.b {
            Some(b) => y.broadcast_add(b),
            None => Ok(y),
        }
    }

    /// Tangents `[T, B, in] -> [T, B, out]`: `t W^T`.
    fn tangent(&self, t: &Tensor) -> Result<Tensor> {
        let (nt, nb, nin) = t.dims3()?;
        t.reshape((nt * nb, nin))?
            .matmul(&self.w.t()?)?
            .reshape((nt, nb, ()))
    }

    /// Cotangent `[B, out] -> [B, in]`: `c W`.
    fn cotangent(&self, c: &Tensor) -> Result<Tensor> {
        c.matmul(&self.w)
    }

    fn to_native(&self) -> Result<NativeLinear> {
        let (outputs, inputs) = self.w.dims2()?;
        Ok(NativeLinear {
            w: self.w.flatten_all()?.to_vec1()?,
            b: self.b.as_ref().map(|b| b.to_vec1()).transpose()?,
            inputs,
            outputs,
        })
    }

    fn detach(&self) -> Linear {
        Linear {
            w: self.w.detach(),
            b: self.b.as_ref().map(Tensor::detach),
        }
    }
}

#[derive(Clone, Debug)]
enum Layer {
    Dense(Linear),
    Block(Linear, Linear),
}

/// Effective weights of a [`ResMlp`] for one step: evaluate, and differentiate with
/// respect to the inputs.
#[derive(Clone, Debug)]
pub struct Weights {
    layers: Vec<Layer>,
    activation: Activation,
}

/// What the derivative passes need from a forward pass: the output, each activation's
/// input `z`, what its derivative reuses (sigma(z) or tanh z) and its dropout mask (already
/// divided by the keep probability).
#[derive(Clone, Debug)]
pub struct Trace {
    /// The network's output, `[B, out]`.
    pub output: Tensor,
    pre: Vec<Tensor>,
    aux: Vec<Option<Tensor>>,
    masks: Vec<Option<Tensor>>,
}

/// Dropout for one forward pass: drop each hidden unit of a block with probability `rate`.
pub struct Dropout<'a, R: Rng> {
    pub rate: f64,
    pub rng: &'a mut R,
}

impl Weights {
    /// The same weights cut from the graph (for passes that need no weight gradient).
    pub fn detach(&self) -> Weights {
        let layers = self
            .layers
            .iter()
            .map(|l| match l {
                Layer::Dense(a) => Layer::Dense(a.detach()),
                Layer::Block(a, b) => Layer::Block(a.detach(), b.detach()),
            })
            .collect();
        Weights {
            layers,
            activation: self.activation,
        }
    }

    /// The same network for point-by-point evaluation in plain Rust ([`NativeMlp`]).
    pub fn to_native(&self) -> Result<NativeMlp> {
        let layers = self
            .layers
            .iter()
            .map(|l| match l {
                Layer::Dense(a) => a.to_native().map(NativeLayer::Dense),
                Layer::Block(a, b) => Ok(NativeLayer::Block(a.to_native()?, b.to_native()?)),
            })
            .collect::<Result<_>>()?;
        Ok(NativeMlp {
            layers,
            activation: self.activation,
        })
    }

    /// Forward pass of `x` `[B, in]`, keeping what the derivative passes need.
    pub fn forward(&self, x: &Tensor) -> Result<Trace> {
        self.forward_dropout::<rand_pcg::Pcg64>(x, None)
    }

    /// Forward pass with optional dropout after every activation of the blocks; the masks
    /// are kept in the trace so that derivatives see the same network.
    pub fn forward_dropout<R: Rng>(&self, x: &Tensor, mut dropout: Option<Dropout<'_, R>>) -> Result<Trace> {
        let mut pre = Vec::new();
        let mut aux = Vec::new();
        let mut masks = Vec::new();
        let mut x = x.clone();
        for layer in &self.layers {
            x = match layer {
                Layer::Dense(l) => l.forward(&x)?,
                Layer::Block(l1, l2) => {
                    let mut h = x.clone();
                    for l in [l1, l2] {
                        let mask = dropout.as_mut().map(|d| mask_like(&h, d)).transpose()?;
                        let (mut a, reuse) = self.activation.value_and_aux(&h)?;
                        if let Some(m) = &mask {
                            a = a.mul(m)?;
                        }
                        pre.push(h);
                        aux.push(reuse);
                        masks.push(mask);
                        h = l.forward(&a)?;
                    }
                    (x + h)?
                }
            };
        }
        Ok(Trace {
            output: x,
            pre,
            aux,
            masks,
        })
    }

    /// `act'(z) * mask` for activation number `k` of the trace.
    fn slope(&self, trace: &Trace, k: usize) -> Result<Tensor> {
        let d = self
            .activation
            .derivative_from(&trace.pre[k], trace.aux[k].as_ref())?;
        match &trace.masks[k] {
            Some(m) => d.mul(m),
            None => Ok(d),
        }
    }

    /// Reverse pass: the gradient of `sum(seed * output)` with respect to the inputs,
    /// `[B, out] -> [B, in]` (for a scalar network and `seed = 1`, dG/dx).
    pub fn input_cotangent(&self, trace: &Trace, seed: &Tensor) -> Result<Tensor> {
        let mut c = seed.clone();
        let mut k = trace.pre.len();
        for layer in self.layers.iter().rev() {
            c = match layer {
                Layer::Dense(l) => l.cotangent(&c)?,
                Layer::Block(l1, l2) => {
                    k -= 2;
                    let c2 = l2.cotangent(&c)?.mul(&self.slope(trace, k + 1)?)?;
                    let c1 = l1.cotangent(&c2)?.mul(&self.slope(trace, k)?)?;
                    (c + c1)?
                }
            };
        }
        Ok(c)
    }

    /// Forward tangents: `[T, B, in]` input directions to `[T, B, out]` output derivatives.
    pub fn input_tangents(&self, trace: &Trace, tangents: &Tensor) -> Result<Tensor> {
        let mut t = tangents.clone();
        let mut k = 0;
        for layer in &self.layers {
            t = match layer {
                Layer::Dense(l) => l.tangent(&t)?,
                Layer::Block(l1, l2) => {
                    let h = l1.tangent(&t.broadcast_mul(&self.slope(trace, k)?)?)?;
                    let h = l2.tangent(&h.broadcast_mul(&self.slope(trace, k + 1)?)?)?;
                    k += 2;
                    (t + h)?
                }
            };
        }
        Ok(t)
    }
}

/// A dropout mask shaped like `h`: 0 with probability `rate`, else `1 / (1 - rate)`.
fn mask_like<R: Rng>(h: &Tensor, d: &mut Dropout<'_, R>) -> Result<Tensor> {
    let keep = 1.0 - d.rate;
    let values: Vec<f64> = (0..h.elem_count())
        .map(|_| {
            if d.rng.random::<f64>() < keep {
                1.0 / keep
            } else {
                0.0
            }
        })
        .collect();
    Tensor::from_vec(values, h.shape(), h.device())?.to_dtype(h.dtype())
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{DType, Device};
    use candle_nn::VarMap;

    fn net(inputs: usize, outputs: usize, act: Activation) -> (VarMap, ResMlp) {
        let map = VarMap::new();
        let mut rng = <rand_pcg::Pcg64 as rand::SeedableRng>::seed_from_u64(11);
        let dev = Device::Cpu;
        let mut ps = Params::new(&map, "", &dev, &mut rng);
        let spec = MlpSpec {
            inputs,
            outputs,
            widths: widths(8, 16, 3),
            activation: act,
        };
        let mlp = ResMlp::new(&mut ps, spec).unwrap();
        (map, mlp)
    }

    fn sample(rows: usize, cols: usize) -> Tensor {
        let v: Vec<f64> = (0..rows * cols)
            .map(|i| ((i * 37 % 101) as f64 / 50.0) - 1.0)
            .collect();
        Tensor::from_vec(v, (rows, cols), &Device::Cpu).unwrap()
    }

    /// Central differences of output `o` with respect to input `j`, row by row.
    fn central(w: &Weights, x: &Tensor, j: usize, o: usize) -> Vec<f64> {
        let h = 1e-5;
        let (rows, cols) = x.dims2().unwrap();
        let bump: Vec<f64> = (0..rows * cols)
            .map(|i| if i % cols == j { h } else { 0.0 })
            .collect();
        let bump = Tensor::from_vec(bump, (rows, cols), &Device::Cpu).unwrap();
        let up = w.forward(&(x + &bump).unwrap()).unwrap().output;
        let down = w.forward(&(x - &bump).unwrap()).unwrap().output;
        let d = ((up - down).unwrap() / (2.0 * h)).unwrap();
        d.narrow(1, o, 1)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap()
    }

    #[test]
    fn parameter_count_matches_the_variables() {
        let (map, mlp) = net(5, 3, Activation::Silu);
        let total: usize = map.all_vars().iter().map(|v| v.elem_count()).sum();
        assert_eq!(mlp.spec().parameter_count(), total);
    }

    #[test]
    fn widths_rise_and_fall_by_factors_of_two() {
        assert_eq!(
            widths(64, 1024, 11),
            vec![64, 128, 256, 512, 1024, 1024, 1024, 512, 256, 128, 64]
        );
        assert_eq!(widths(64, 64, 3), vec![64, 64, 64]);
        assert_eq!(widths(32, 128, 4), vec![32, 64, 64, 32]);
    }

    #[test]
    fn reverse_pass_matches_central_differences() {
        for act in [Activation::Silu, Activation::Tanh] {
            let (_map, mlp) = net(5, 1, act);
            let w = mlp.weights().unwrap();
            let x = sample(7, 5);
            let trace = w.forward(&x).unwrap();
            let ones = Tensor::ones((7, 1), DType::F64, &Device::Cpu).unwrap();
            let g = w
                .input_cotangent(&trace, &ones)
                .unwrap()
                .to_vec2::<f64>()
                .unwrap();
            for j in 0..5 {
                for (row, (fd, gr)) in central(&w, &x, j, 0).iter().zip(&g).enumerate() {
                    assert!(
                        (gr[j] - fd).abs() < 1e-8,
                        "{act} d/dx{j} row {row}: {} vs {fd}",
                        gr[j]
                    );
                }
            }
        }
    }

    #[test]
    fn forward_tangents_match_central_differences() {
        let (_map, mlp) = net(4, 3, Activation::Silu);
        let w = mlp.weights().unwrap();
        let x = sample(6, 4);
        let trace = w.forward(&x).unwrap();
        let eye = Tensor::eye(4, DType::F64, &Device::Cpu).unwrap();
        let tangents = eye
            .unsqueeze(1)
            .unwrap()
            .broadcast_as((4, 6, 4))
            .unwrap()
            .contiguous()
            .unwrap();
        let jt = w.input_tangents(&trace, &tangents).unwrap();
        for j in 0..4 {
            let col = jt.get(j).unwrap().to_vec2::<f64>().unwrap();
            for o in 0..3 {
                for (row, (fd, c)) in central(&w, &x, j, o).iter().zip(&col).enumerate() {
                    assert!((c[o] - fd).abs() < 1e-8, "d out{o}/d x{j} row {row}");
                }
            }
        }
    }

    #[test]
    fn weight_gradients_through_the_reverse_pass_match_differences() {
        // d/dg of sum((dG/dx)^2) by candle's backward vs central differences in g.
        let (map, mlp) = net(3, 1, Activation::Silu);
        let x = sample(5, 3);
        let ones = Tensor::ones((5, 1), DType::F64, &Device::Cpu).unwrap();
        let loss = |mlp: &ResMlp| {
            let w = mlp.weights().unwrap();
            let t = w.forward(&x).unwrap();
            w.input_cotangent(&t, &ones)
                .unwrap()
                .sqr()
                .unwrap()
                .sum_all()
                .unwrap()
        };
        let l = loss(&mlp);
        let grads = l.backward().unwrap();
        let vars = map.data().lock().unwrap();
        let var = vars.get("block1.wn2.g").unwrap().clone();
        drop(vars);
        let analytic = grads.get(var.as_tensor()).unwrap().to_vec1::<f64>().unwrap();
        let base = var.as_tensor().to_vec1::<f64>().unwrap();
        let h = 1e-6;
        for k in 0..base.len() {
            let value = |delta: f64| {
                let mut v = base.clone();
                v[k] += delta;
                var.set(&Tensor::new(v.as_slice(), &Device::Cpu).unwrap())
                    .unwrap();
                loss(&mlp).to_scalar::<f64>().unwrap()
            };
            let fd = (value(h) - value(-h)) / (2.0 * h);
            assert!(
                (fd - analytic[k]).abs() < 1e-6 * (1.0 + fd.abs()),
                "g[{k}]: {} vs {fd}",
                analytic[k]
            );
        }
    }

    #[test]
    fn dropout_masks_are_shared_by_the_derivative_pass() {
        let (_map, mlp) = net(3, 1, Activation::Silu);
        let w = mlp.weights().unwrap();
        let x = sample(4, 3);
        let mut rng = <rand_pcg::Pcg64 as rand::SeedableRng>::seed_from_u64(3);
        let drop = Dropout {
            rate: 0.5,
            rng: &mut rng,
        };
        let trace = w.forward_dropout(&x, Some(drop)).unwrap();
        let plain = w.forward(&x).unwrap();
        let diff = (&trace.output - &plain.output)
            .unwrap()
            .abs()
            .unwrap()
            .sum_all()
            .unwrap();
        assert!(diff.to_scalar::<f64>().unwrap() > 0.0, "dropout changed nothing");
    }
}
