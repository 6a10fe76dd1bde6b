#!/usr/bin/env python3
"""Top-5 recommendation time for 5 seeds: musicrec-recommend vs NumPy brute force, same data.

    python3 scripts/bench/topk.py [--sizes 10000 100000 1000000] [--dims 88 128] [--queries 30]

For each (size, dim) it writes a clustered random matrix (256 Gaussian clusters, seeded) and query
seed sets (5 tracks of one cluster) to a temporary folder, times NumPy, runs
`cargo run --release -p musicrec-recommend --example bench_topk` on the same files, and prints the
median time per query of each, the ratio musicrec / NumPy, and recall@5 against NumPy's exact answer.

NumPy's query, with the row-normalised matrix Xn made once beforehand (not timed, like the index):
q = Xn[seeds].mean(0); s = Xn @ q; s[seeds] = -inf; top = argpartition(-s, 5)[:5], sorted by score.
That is method 1 under cosine with the mean-of-similarities combination, the crate's default.
NumPy uses its BLAS threads (both cores), as musicrec uses rayon's. Made with numpy 2.x, OpenBLAS.
"""

import argparse
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]


def clustered(n, dim, rng, clusters=256, spread=0.5):
    centres = rng.standard_normal((clusters, dim), dtype=np.float32)
    labels = rng.integers(0, clusters, n)
    x = centres[labels] + spread * rng.standard_normal((n, dim), dtype=np.float32)
    return x.astype(np.float32), labels


def seed_sets(labels, queries, rng):
    out = []
    for _ in range(queries):
        c = labels[rng.integers(0, len(labels))]
        members = np.flatnonzero(labels == c)
        out.append(rng.choice(members, 5, replace=False))
    return np.array(out, dtype=np.int64)


def numpy_topk(xn, seeds, k=5):
    q = xn[seeds].mean(axis=0)
    s = xn @ q
    s[seeds] = -np.inf
    top = np.argpartition(-s, k)[:k]
    return top[np.argsort(-s[top], kind="stable")]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--dims", type=int, nargs="+", default=[88, 128])
    ap.add_argument("--queries", type=int, default=30)
    args = ap.parse_args()

    env = dict(os.environ)
    env.setdefault("CARGO_TARGET_DIR", str(ROOT / "target"))
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "musicrec-recommend", "--example", "bench_topk"],
                   cwd=ROOT, check=True, env=env)
    binary = Path(env["CARGO_TARGET_DIR"]) / "release" / "examples" / "bench_topk"

    rows = []
    for dim in args.dims:
        for n in args.sizes:
            rng = np.random.default_rng(n * 1000 + dim)
            x, labels = clustered(n, dim, rng)
            seeds = seed_sets(labels, args.queries, rng)
            xn = x / np.linalg.norm(x, axis=1, keepdims=True)
            numpy_topk(xn, seeds[0])  # warm-up
            np_times, np_ids = [], []
            for s in seeds:
                t = time.perf_counter()
                np_ids.append(numpy_topk(xn, s))
                np_times.append((time.perf_counter() - t) * 1e3)
            np_ms = float(np.median(np_times))
            with tempfile.TemporaryDirectory() as tmp:
                x.tofile(Path(tmp) / "vectors.f32")
                seeds.tofile(Path(tmp) / "seeds.i64")
                del xn
                out = subprocess.run([str(binary), tmp, str(n), str(dim)], check=True,
                                     capture_output=True, text=True).stdout
            for line in out.splitlines():
                r = json.loads(line)
                ms = float(np.median(r["times_ms"]))
                recall = np.mean([len(set(a) & set(b.tolist())) / 5 for a, b in zip(r["ids"], np_ids)])
                rows.append((dim, n, r["mode"], ms, np_ms, ms / np_ms, recall))
                print(f"dim {dim:4d} n {n:8d} {r['mode']:16s} musicrec {ms:8.3f} ms  numpy {np_ms:8.3f} ms  "
                      f"ratio {ms / np_ms:5.2f}  recall@5 {recall:.3f}", flush=True)
    print("\n| dim | n | mode | musicrec ms | NumPy ms | ratio | recall@5 vs NumPy |")
    print("|---|---|---|---|---|---|---|")
    for dim, n, mode, ms, np_ms, ratio, recall in rows:
        print(f"| {dim} | {n} | {mode} | {ms:.3f} | {np_ms:.3f} | {ratio:.2f} | {recall:.3f} |")


if __name__ == "__main__":
    main()
