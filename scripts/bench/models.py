"""Burn vs PyTorch on CPU: one training step and one inference batch of the default CNN and CRNN.

Times the PyTorch twins from scripts/golden/models.py (same layers, same default widths) and
runs the Rust bench (crates/model/examples/bench_step.rs) at the same thread count, then
prints both with the ratio burn / torch. Goals from the issue: train step <= 1.0x,
inference <= 0.7x.

    python scripts/bench/models.py                # 2 threads, 3 rounds of 3 timed repetitions
    python scripts/bench/models.py --rounds 5     # more rounds: steadier ratios on a busy machine
    python scripts/bench/models.py --quick        # 1 round of 1 timed repetition

Burn and PyTorch alternate round by round on the same (model, input) pair, and the ratio is taken
within each round: load from other processes then slows both sides of a ratio alike instead of
whichever happened to run during it. The median ratio over rounds is printed with its range.

Versions: see scripts/golden/requirements-models.txt (torch 2.15.0, CPU).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch
from torch import nn

REPO = Path(__file__).resolve().parents[2]
BATCH, N_GENRES, N_MELS = 16, 50, 96
FRAMES = (256, 1366)


def load_twins():
    spec = importlib.util.spec_from_file_location("golden_models", REPO / "scripts/golden/models.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return {"crnn": module.Crnn, "cnn": module.Cnn}


def median_seconds(fn, repetitions: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repetitions):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def torch_times(model_cls, frames: int, repetitions: int) -> tuple[float, float]:
    torch.manual_seed(0)
    model = model_cls(N_GENRES)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.BCEWithLogitsLoss()
    x = torch.randn(BATCH, 1, N_MELS, frames)
    targets = torch.randint(0, 2, (BATCH, N_GENRES)).float()

    def train_step():
        model.train()
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), targets)
        loss.backward()
        optimizer.step()
        loss.item()

    def inference():
        model.eval()
        with torch.inference_mode():
            model(x).numpy()

    return median_seconds(train_step, repetitions), median_seconds(inference, repetitions)


def burn_binary() -> Path:
    subprocess.run(
        ["cargo", "build", "--quiet", "--release", "-p", "musicrec-model", "--example", "bench_step"],
        cwd=REPO, check=True,
    )
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    return target / "release" / "examples" / "bench_step"


def burn_times(binary: Path, pair: str, threads: int, quick: bool) -> dict:
    command = [str(binary), "--only", pair] + (["--quick"] if quick else [])
    env = dict(os.environ, RAYON_NUM_THREADS=str(threads))
    out = subprocess.run(command, cwd=REPO, env=env, check=True, capture_output=True, text=True).stdout
    rows = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert len(rows) == 1, f"bench_step printed {len(rows)} rows for {pair}"
    return rows[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    repetitions = 1 if args.quick else 3
    rounds = 1 if args.quick else args.rounds

    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    binary = burn_binary()
    twins = load_twins()

    print(f"batch {BATCH}, {N_MELS} mels, {N_GENRES} genres, {args.threads} threads, "
          f"{rounds} alternating rounds of median-of-{repetitions}; torch {torch.__version__}")
    header = (f"{'model':6} {'input':8} | {'train burn':>10} {'torch':>8} {'ratio':>6} {'range':>11}"
              f" | {'infer burn':>10} {'torch':>8} {'ratio':>6} {'range':>11}")
    print(header)
    print("-" * len(header))
    for name, cls in twins.items():
        for frames in FRAMES:
            pair = f"{name}:{frames}"
            rows = []
            for _ in range(rounds):
                burn = burn_times(binary, pair, args.threads, args.quick)
                torch_train, torch_infer = torch_times(cls, frames, repetitions)
                rows.append((burn["train_step_s"], torch_train, burn["inference_s"], torch_infer))
            train_ratios = [b / t for b, t, _, _ in rows]
            infer_ratios = [b / t for _, _, b, t in rows]
            train_ratio = statistics.median(train_ratios)
            infer_ratio = statistics.median(infer_ratios)
            med = lambda k: statistics.median(r[k] for r in rows)  # noqa: E731
            print(
                f"{name:6} {N_MELS}x{frames:<5} | {med(0):9.3f}s {med(1):7.3f}s {train_ratio:5.2f}x"
                f" {min(train_ratios):4.2f}-{max(train_ratios):4.2f}x"
                f" | {med(2):9.3f}s {med(3):7.3f}s {infer_ratio:5.2f}x"
                f" {min(infer_ratios):4.2f}-{max(infer_ratios):4.2f}x"
                f"   goals: train<=1.0x {'ok' if train_ratio <= 1.0 else 'MISSED'},"
                f" infer<=0.7x {'ok' if infer_ratio <= 0.7 else 'MISSED'}"
            )
            sys.stdout.flush()


if __name__ == "__main__":
    main()
