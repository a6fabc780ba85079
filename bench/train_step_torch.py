"""One ActionFinder training step in PyTorch (CPU, f64): the peer of `actionfinder bench train`.

The networks and the step follow the paper's listing 1 (Ibata et al. 2021) as the Rust side
builds them:

* widths(width, max_width, depth): start at `width`, double each block up to `max_width`, stay,
  then halve so that the sequence is a palindrome of length `depth`.
* net = Linear(in -> w_0) ; for each block i: ResDense(w_i) and, except after the last,
  Linear(w_i -> w_{i+1}) ; Linear(w_last -> out) with its weights scaled by 0.1 at init.
  ResDense(w): h = silu(x); h = WN(Linear(w, w, no bias))(h); h = silu(h);
  h = WN(Linear(w, w))(h); x + h. WN: W = g v / ||v|| per output row.
* G(cos theta, sin theta, J') -> 1 and P(cos theta', sin theta') -> 3.
* A step on S streams x N points (B = S N rows, stream-major):
  1. K_FP = 5 fixed-point iterations without a graph:
     J'_s <- mean over the stream of (J_toy - dG/dtheta(theta, J'_s)), where
     dG/dtheta_k = -sin(theta_k) dG/dc_k + cos(theta_k) dG/ds_k.
  2. With the graph: J' = J_toy - dG/dtheta, theta' = theta + dG/dJ' at (theta, J'_s).
  3. p = P(cos theta', sin theta'); A = I + dp/dtheta' (A[b, k, j] = dp_k / dtheta'_j);
     J''_i = sum_j (A^-1)_{ji} J'_j.
  4. loss = mean|J'' - stream mean of J''| + mean(|J''_r| - J''_r) + mean(|J''_z| - J''_z);
     backward; Adam(lr 1e-3) step.

Prints one JSON line {"seconds_per_step", "torch", "threads", "params", "jacobian"}: the median
over --steps timed steps after 3 warm-up steps, on one fixed batch. `params` counts every
trainable tensor: v, g and biases of the weight-normed layers, weights and biases of the plain
ones. --check verifies the step instead (finite differences and a falling loss).
"""

import argparse
import contextlib
import json
import math
import statistics
import sys
import time
import warnings

warnings.filterwarnings("ignore", category=FutureWarning, module="torch")  # torch.jit deprecation on import
import torch  # noqa: E402
import torch.nn.functional as F
from torch import nn
from torch.func import jacfwd, jacrev, vmap
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import weight_norm

K_FP = 5
WARMUP = 3
LR = 1e-3


def widths(width, max_width, depth):
    """Block widths: doubling from `width` up to `max_width`, then the mirror image."""
    half = (depth + 1) // 2
    up = [min(width * 2**i, max_width) for i in range(half)]
    return up + up[: depth - half][::-1]


class ResDense(nn.Module):
    """x + WN(Linear(w, w))(silu(WN(Linear(w, w, bias=False))(silu(x))))."""

    def __init__(self, w):
        super().__init__()
        self.l1 = weight_norm(nn.Linear(w, w, bias=False), dim=0)
        self.l2 = weight_norm(nn.Linear(w, w, bias=True), dim=0)

    def forward(self, x):
        return x + self.l2(F.silu(self.l1(F.silu(x))))


class Net(nn.Module):
    """Input Linear, ResDense blocks joined by width-changing Linears, output Linear (x0.1)."""

    def __init__(self, n_in, n_out, width, max_width, depth):
        super().__init__()
        ws = widths(width, max_width, depth)
        layers = [nn.Linear(n_in, ws[0])]
        for i, w in enumerate(ws):
            layers.append(ResDense(w))
            if i + 1 < len(ws):
                layers.append(nn.Linear(w, ws[i + 1]))
        out = nn.Linear(ws[-1], n_out)
        with torch.no_grad():
            out.weight.mul_(0.1)
        layers.append(out)
        self.layers = nn.Sequential(*layers)

    def forward(self, x):
        return self.layers(x)


def g_grads(G, theta, jp, create_graph):
    """(dG/dtheta, dG/dJ') at rows (theta, J'), both [B, 3], through the (cos, sin, J') features."""
    x = torch.cat([theta.cos(), theta.sin(), jp], dim=-1).requires_grad_(True)
    (gx,) = torch.autograd.grad(G(x).sum(), x, create_graph=create_graph)
    dc, ds, dj = gx[:, :3], gx[:, 3:6], gx[:, 6:]
    return -theta.sin() * dc + theta.cos() * ds, dj


def stream_mean(a, streams):
    """Mean over each stream's points: [S*N, 3] -> [S, 3]."""
    return a.view(streams, -1, a.shape[-1]).mean(dim=1)


def per_point(a_s, points):
    """[S, 3] -> [S*N, 3], each stream's row repeated for its points."""
    return a_s.repeat_interleave(points, dim=0)


def fixed_point(G, theta, j_toy, streams, points):
    """K_FP iterations of J'_s <- stream mean(J_toy - dG/dtheta(theta, J'_s)), without a graph."""
    js = stream_mean(j_toy, streams)
    for _ in range(K_FP):
        dth, _ = g_grads(G, theta, per_point(js, points), create_graph=False)
        js = stream_mean(j_toy - dth, streams).detach()
    return js


def _p_row(P, t):
    """P at one row of angles t [3]; returned twice (Jacobian target and aux value)."""
    p = P(torch.cat([t.cos(), t.sin()])[None])[0]
    return p, p


def p_and_jacobian(P, theta_p, method):
    """p = P(cos theta', sin theta') [B, 3] and dp/dtheta' [B, 3, 3] (row k = grad of p_k), with graph."""
    if method in ("jacfwd", "jacrev"):
        jac = jacfwd if method == "jacfwd" else jacrev
        d, p = vmap(jac(lambda t: _p_row(P, t), has_aux=True))(theta_p)
        return p, d
    p = P(torch.cat([theta_p.cos(), theta_p.sin()], dim=-1))
    if method == "batched":
        seeds = torch.eye(3, dtype=p.dtype)[:, None, :].expand(3, *p.shape)
        (d,) = torch.autograd.grad(p, theta_p, seeds, create_graph=True, is_grads_batched=True)
        return p, d.transpose(0, 1)
    rows = [torch.autograd.grad(p[:, k].sum(), theta_p, create_graph=True)[0] for k in range(3)]
    return p, torch.stack(rows, dim=1)


def j_second(A, jp):
    """J''_i = sum_j (A^-1)_{ji} J'_j."""
    return torch.einsum("bji,bj->bi", torch.linalg.inv(A), jp)


def loss_at(G, P, theta, j_toy, js, streams, points, method):
    """The loss of steps 2-4 at a given (detached) J'_s."""
    dth, dj = g_grads(G, theta, per_point(js, points), create_graph=True)
    jp = j_toy - dth
    theta_p = theta + dj
    p, dp = p_and_jacobian(P, theta_p, method)
    A = torch.eye(3, dtype=p.dtype) + dp
    jpp = j_second(A, jp)
    spread = (jpp - per_point(stream_mean(jpp, streams), points)).abs().mean()
    sign = (jpp[:, 0].abs() - jpp[:, 0]).mean() + (jpp[:, 1].abs() - jpp[:, 1]).mean()
    return spread + sign


def prime_weight_cache(*nets):
    """Compute every weight-normed W once, outside any torch.func transform."""
    for net in nets:
        for m in net.modules():
            if parametrize.is_parametrized(m):
                m.weight


def step(G, P, opt, batch, streams, points, method):
    """One training step; returns the loss. W = g v/||v|| is computed once per step."""
    theta, j_toy = batch
    opt.zero_grad(set_to_none=True)
    with parametrize.cached():
        prime_weight_cache(G, P)
        js = fixed_point(G, theta, j_toy, streams, points)
        loss = loss_at(G, P, theta, j_toy, js, streams, points, method)
        loss.backward()
    opt.step()
    return loss.item()


def make_batch(streams, points, seed):
    """theta uniform in [0, 2 pi), J_toy uniform in [0.1, 2], [S*N, 3] each."""
    gen = torch.Generator().manual_seed(seed)
    b = streams * points
    theta = 2 * math.pi * torch.rand(b, 3, generator=gen)
    j_toy = 0.1 + 1.9 * torch.rand(b, 3, generator=gen)
    return theta, j_toy


def build(args, seed=0):
    torch.manual_seed(seed)
    G = Net(9, 1, args.width, args.max_width, args.depth_g)
    P = Net(6, 3, args.width, args.max_width, args.depth_p)
    opt = torch.optim.Adam(list(G.parameters()) + list(P.parameters()), lr=LR)
    return G, P, opt


def n_params(*nets):
    return sum(p.numel() for net in nets for p in net.parameters())


def rel_err(a, b):
    """max |a - b| / max |b|."""
    return ((a - b).abs().max() / b.abs().max()).item()


def check_input_grads(G, theta, jp, h=1e-5):
    """dG/dtheta and dG/dJ' against central differences of G; returns the two relative errors."""

    def g_of(t, j):
        with torch.no_grad():
            return G(torch.cat([t.cos(), t.sin(), j], dim=-1))[:, 0]

    dth, dj = g_grads(G, theta, jp, create_graph=False)
    fd_th, fd_j = torch.empty_like(dth), torch.empty_like(dj)
    for k in range(3):
        e = torch.zeros(3)
        e[k] = h
        fd_th[:, k] = (g_of(theta + e, jp) - g_of(theta - e, jp)) / (2 * h)
        fd_j[:, k] = (g_of(theta, jp + e) - g_of(theta, jp - e)) / (2 * h)
    return rel_err(dth, fd_th), rel_err(dj, fd_j)


def check_loss_grad(G, P, batch, streams, points, method, eps=1e-6):
    """Directional derivative of the loss (at fixed J'_s) along a random parameter direction vs
    central differences: checks the double backward through G, P, the inverse and Adam's input."""
    theta, j_toy = batch
    js = fixed_point(G, theta, j_toy, streams, points)
    params = list(G.parameters()) + list(P.parameters())
    gen = torch.Generator().manual_seed(1)
    dirs = [torch.randn(p.shape, generator=gen) for p in params]
    loss = loss_at(G, P, theta, j_toy, js, streams, points, method)
    # G's output bias never reaches the loss (only derivatives of G do): its gradient is None.
    grads = torch.autograd.grad(loss, params, allow_unused=True)
    analytic = sum((g * d).sum() for g, d in zip(grads, dirs) if g is not None).item()

    def shifted(s):
        with torch.no_grad():
            for p, d in zip(params, dirs):
                p.add_(s * d)
        value = loss_at(G, P, theta, j_toy, js, streams, points, method).item()
        with torch.no_grad():
            for p, d in zip(params, dirs):
                p.sub_(s * d)
        return value

    fd = (shifted(eps) - shifted(-eps)) / (2 * eps)
    return abs(analytic - fd) / abs(fd)


def check_cached(G, P, batch, streams, points, method):
    """Weight gradients of one step with W = g v/||v|| cached (as timed) and recomputed at each use:
    returns the largest relative difference."""

    def grads(cached):
        G.zero_grad(set_to_none=True)
        P.zero_grad(set_to_none=True)
        with parametrize.cached() if cached else contextlib.nullcontext():
            prime_weight_cache(G, P)
            js = fixed_point(G, batch[0], batch[1], streams, points)
            loss_at(G, P, batch[0], batch[1], js, streams, points, method).backward()
        return [p.grad.clone() for net in (G, P) for p in net.parameters() if p.grad is not None]

    return max(rel_err(a, b) for a, b in zip(grads(True), grads(False)))


def check_jacobians(P, theta_p):
    """The four Jacobian methods agree; returns the largest difference from the three-call one."""
    ref = p_and_jacobian(P, theta_p, "autograd3")[1]
    return max((p_and_jacobian(P, theta_p, m)[1] - ref).abs().max().item() for m in JAC_METHODS)


JAC_METHODS = ("autograd3", "batched", "jacfwd", "jacrev")


def run_check(args):
    """Gradients against finite differences, then the loss over 200 steps on one batch."""
    G, P, opt = build(args)
    batch = make_batch(args.streams, args.points, seed=2)
    theta, j_toy = batch
    jp = per_point(stream_mean(j_toy, args.streams), args.points)
    e_th, e_j = check_input_grads(G, theta, jp)
    theta_p = (theta + 0.3).requires_grad_(True)
    e_jac = check_jacobians(P, theta_p)
    e_loss = check_loss_grad(G, P, batch, args.streams, args.points, args.jacobian)
    e_cache = check_cached(G, P, batch, args.streams, args.points, args.jacobian)
    print(f"dG/dtheta vs central differences: max rel err {e_th:.2e}")
    print(f"dG/dJ'    vs central differences: max rel err {e_j:.2e}")
    print(f"dp/dtheta' methods {', '.join(JAC_METHODS)}: max abs difference {e_jac:.2e}")
    print(f"d loss / d params (random direction) vs central differences: rel err {e_loss:.2e}")
    losses = [step(G, P, opt, batch, args.streams, args.points, args.jacobian) for _ in range(200)]
    first, last = statistics.mean(losses[:5]), statistics.mean(losses[-5:])
    print(f"weight gradients, W cached vs recomputed: max rel difference {e_cache:.2e}")
    print(f"loss over 200 steps: first 5 mean {first:.4f}, last 5 mean {last:.4f}")
    assert e_th < 1e-7 and e_j < 1e-7, "input gradient disagrees with finite differences"
    assert e_jac < 1e-12, "Jacobian methods disagree"
    assert e_loss < 1e-5, "loss gradient disagrees with finite differences"
    assert e_cache < 1e-12, "cached weight norm changes the gradients"
    assert last < 0.8 * first, "loss did not fall"
    print("check passed")


def run_bench(args):
    G, P, opt = build(args)
    batch = make_batch(args.streams, args.points, seed=2)
    times = []
    for i in range(WARMUP + args.steps):
        t0 = time.perf_counter()
        step(G, P, opt, batch, args.streams, args.points, args.jacobian)
        if i >= WARMUP:
            times.append(time.perf_counter() - t0)
    out = {
        "seconds_per_step": statistics.median(times),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "params": n_params(G, P),
        "jacobian": args.jacobian,
    }
    print(json.dumps(out))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--width", type=int, default=64)
    ap.add_argument("--max-width", type=int, default=64)
    ap.add_argument("--depth-g", type=int, default=3)
    ap.add_argument("--depth-p", type=int, default=2)
    ap.add_argument("--streams", type=int, default=32)
    ap.add_argument("--points", type=int, default=8)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--jacobian", choices=JAC_METHODS, default="batched",
                    help="how dp/dtheta' is built: three autograd.grad calls, one call with the "
                    "3 seeds batched (is_grads_batched, the fastest: 15-25%% less than three calls "
                    "for that part), or torch.func vmap(jacfwd|jacrev)")
    ap.add_argument("--check", action="store_true", help="verify the step instead of timing it")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.set_default_dtype(torch.float64)
    if args.check:
        run_check(args)
    else:
        run_bench(args)


if __name__ == "__main__":
    sys.exit(main())
