"""The numbers bench/paper.sh needs that the actionfinder commands do not print.

    python3 bench/paper.py subset IN OUT S         first S streams of a streams dataset
    python3 bench/paper.py row OUT.json NAME ...   one row's results as JSON (see `row`)
    python3 bench/paper.py spread CATALOG          spread of actions along each stream
    python3 bench/paper.py table DIR               the table of every row JSON in DIR
    python3 bench/paper.py done MODEL_DIR          exit 0 when a training has finished

Spread along an orbit: for each stream (orbit) s and component k, the mean absolute
deviation D_sk = mean_i |J_sk,i - mean_i J_sk,i| over its points, then the mean of D_sk over
the three components (r, z, phi), as validate's conservation table defines it.
"""
import json
import os
import sys

import h5py
import numpy as np

GROUPS = ("streams", "truth", "baseline")


def subset(src, dst, s):
    """The first S streams of /streams, /truth and /baseline, with every attribute."""
    s = int(s)
    with h5py.File(src, "r") as f, h5py.File(dst + ".partial", "w") as g:
        total = f["streams/xv"].shape[0]
        if not 2 <= s <= total:
            sys.exit(f"subset: {src} holds {total} streams, asked for {s}")
        for k, v in f.attrs.items():
            g.attrs[k] = v
        g.attrs["n_streams"] = np.int64(s)
        g.attrs["description"] = f"first {s} of {total} streams of {os.path.basename(src)}: " + str(
            f.attrs.get("description", "")
        )
        for name in GROUPS:
            if name not in f:
                continue
            grp = g.create_group(name)
            for k, v in f[name].attrs.items():
                grp.attrs[k] = v
            for key, d in f[name].items():
                data = d[:s] if d.shape and d.shape[0] == total else d[()]
                out = grp.create_dataset(key, data=data)
                for k, v in d.attrs.items():
                    out.attrs[k] = v
    os.replace(dst + ".partial", dst)


def spread(catalog):
    """Per stream: the spread of each component and their mean (NaN points left out)."""
    with h5py.File(catalog, "r") as f:
        j = f["particles/actions"][:]
        stream = f["particles/stream"][:] if "particles/stream" in f else None
    if stream is None:
        sys.exit(f"spread: {catalog} has no /particles/stream")
    result = []
    for s in np.unique(stream):
        js = j[stream == s]
        ok = np.all(np.isfinite(js), axis=1)
        d = np.mean(np.abs(js[ok] - js[ok].mean(axis=0)), axis=0)
        result.append({"per_component": d.tolist(), "overall": float(d.mean()), "points": int(ok.sum()),
                       "failed": int((~ok).sum())})
    return result


def load(path):
    with open(path) as f:
        return json.load(f)


def training(model_dir):
    """Seconds, epochs, best epoch and stop reason of a model directory's training."""
    t = load(os.path.join(model_dir, "model.json"))["training"]
    return {"seconds": t["wall_s"], "epochs": len(t["history"]), "best_epoch": t["best_epoch"],
            "stop": t["stop"]["reason"], "toy_m": t["history"][-1]["toy_m"],
            "toy_b": t["history"][-1]["toy_b"]}


def done(model_dir):
    path = os.path.join(model_dir, "model.json")
    if not os.path.exists(path):
        sys.exit(1)
    sys.exit(0 if load(path)["training"]["stop"]["reason"] != "stop_after" else 1)


def validate_numbers(path):
    """Our action and angle errors and the Staeckel fudge's, from validate --json."""
    v = load(path)
    out = {"flagged_share": v["flags"]["flagged_share"]}
    if v.get("actions"):
        a = v["actions"]["all"]
        out.update(actions=a["mean_abs_overall"], actions_per_component=a["mean_abs"],
                   relative=a["relative_overall"], actions_median=a["median_abs_overall"])
    if v.get("angles"):
        out["angles_deg"] = v["angles"]["all"]["mean_deg_overall"]
    for b in v.get("baselines", []):
        if b["name"] == "staeckel":
            out["fudge_actions"] = b["all"]["mean_abs_overall"]
    return out


def row(out, name, mode, streams, model_dir, apply_seconds, *rest):
    """rest: `validate FILE`, `spread CATALOG`, `fudge-spread CATALOG`, `paper JSON`."""
    r = {"row": name, "mode": mode, "streams": int(streams), "train": training(model_dir),
         "apply_seconds": float(apply_seconds)}
    for kind, arg in zip(rest[::2], rest[1::2]):
        if kind == "validate":
            r.update(validate_numbers(arg))
        elif kind == "spread":
            r["spread"] = spread(arg)
        elif kind == "fudge-spread":
            r["fudge_spread"] = spread(arg)
        elif kind == "paper":
            r["paper"] = json.loads(arg)
        else:
            sys.exit(f"row: unknown part {kind}")
    with open(out + ".partial", "w") as f:
        json.dump(r, f, indent=1)
    os.replace(out + ".partial", out)


def fmt(x, digits=3):
    if x is None:
        return "-"
    if isinstance(x, str):
        return x
    return f"{x:.{digits}g}"


ORBITS = ("thin disk", "thick disk", "halo", "GD-1-like")


def table(d):
    rows = [load(os.path.join(d, f)) for f in sorted(os.listdir(d)) if f.endswith(".json")]
    order = ["iso", "halo", "disk", "orbits", "plummer"]
    group = lambda r: next((i for i, p in enumerate(order) if r["row"].startswith(p)), len(order))
    rows.sort(key=lambda r: (group(r), r["streams"], r["row"]))
    head = (f"{'row':<18} {'S':>5} {'epochs':>7} {'train s':>8} {'s/epoch':>8} {'apply s':>8} "
            f"{'dJ':>9} {'median':>8} {'rel':>8} {'paper dJ':>9} {'fudge dJ':>9} {'dtheta':>7} {'paper':>6}")
    print(head)
    print("-" * len(head))
    for r in rows:
        t = r["train"]
        p = r.get("paper", {})
        per_epoch = t["seconds"] / max(t["epochs"], 1)
        lead = (f"{r['row']:<18} {r['streams']:>5} {t['epochs']:>7} {t['seconds']:>8.0f} {per_epoch:>8.2f} "
                f"{r['apply_seconds']:>8.1f}")
        if "spread" in r:
            print(lead + "  spread along each orbit, mean over J_r, J_z, J_phi:")
            fudge = r.get("fudge_spread") or [{}] * len(r["spread"])
            for k, (ours, fs) in enumerate(zip(r["spread"], fudge)):
                name = ORBITS[k] if k < len(ORBITS) else f"orbit {k}"
                pa = (p.get("actions") or [None] * 4)[k] if k < 4 else None
                print(f"{'  ' + name:<18} {'':>5} {'':>7} {'':>8} {'':>8} {'':>8} {fmt(ours['overall']):>9} "
                      f"{'':>8} {'':>8} {fmt(pa):>9} {fmt(fs.get('overall')):>9}")
            if p.get("note"):
                print(f"{'':<18} paper: {p['note']}")
            continue
        rel = r.get("relative")
        rel = f"{100 * rel:.2g}%" if rel is not None else "-"
        print(lead + f" {fmt(r.get('actions')):>9} {fmt(r.get('actions_median')):>8} {rel:>8} {fmt(p.get('actions')):>9} {fmt(r.get('fudge_actions')):>9} "
              f"{fmt(r.get('angles_deg'), 2):>7} {fmt(p.get('angles_deg'), 2):>6}")
        if "per_component" in p:
            ours = r.get("actions_per_component") or [None] * 3
            print(f"{'':<18} per component (r, z, phi): ours {', '.join(fmt(x) for x in ours)}; "
                  f"paper {', '.join(fmt(x) for x in p['per_component'])}")
        if p.get("note"):
            print(f"{'':<18} paper: {p['note']}")
    modes = sorted({r["mode"] for r in rows})
    print(f"\nmode: {', '.join(modes)}; dJ: mean |J - J_true| over points and the three components "
          f"(kpc km/s); median: the median over points of |J - J_true|, averaged over the components; rel: sum of mean |dJ| over sum of mean |J_true|; dtheta: mean angle error "
          f"(deg); train s: wall time of the training, summed over sessions; apply s: apply on the "
          f"evaluation set; fudge: the Staeckel fudge on the same points")


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "subset":
        subset(*args)
    elif cmd == "row":
        row(*args)
    elif cmd == "spread":
        print(json.dumps(spread(*args)))
    elif cmd == "table":
        table(*args)
    elif cmd == "done":
        done(*args)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
