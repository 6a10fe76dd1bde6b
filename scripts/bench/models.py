"""Burn vs PyTorch on CPU: one training step and one inference batch of the default CNN and CRNN.

Times the PyTorch twins from scripts/golden/models.py (same layers, same default widths) and
runs the Rust bench (crates/model/examples/bench_step.rs) at the same thread count, then
prints both with the ratio burn / torch. Goals from the issue: train step <= 1.0x,
inference <= 0.7x.

    python scripts/bench/models.py                # 2 threads, 3 timed repetitions each
    python scripts/bench/models.py --quick        # 1 timed repetition
    python scripts/bench/models.py --burn-json f  # reuse a saved `bench_step` output

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


def burn_times(threads: int, quick: bool, saved: Path | None) -> dict[tuple[str, int], dict]:
    if saved is not None:
        lines = saved.read_text().splitlines()
    else:
        command = ["cargo", "run", "--quiet", "--release", "-p", "musicrec-model", "--example", "bench_step"]
        if quick:
            command += ["--", "--quick"]
        env = dict(os.environ, RAYON_NUM_THREADS=str(threads))
        lines = subprocess.run(command, cwd=REPO, env=env, check=True, capture_output=True, text=True).stdout.splitlines()
    rows = [json.loads(line) for line in lines if line.startswith("{")]
    return {(row["model"], row["frames"]): row for row in rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--burn-json", type=Path)
    args = parser.parse_args()
    repetitions = 1 if args.quick else 3

    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    burn = burn_times(args.threads, args.quick, args.burn_json)
    twins = load_twins()

    print(f"batch {BATCH}, {N_MELS} mels, {N_GENRES} genres, {args.threads} threads, "
          f"median of {repetitions}; torch {torch.__version__}")
    header = f"{'model':6} {'input':8} | {'train burn':>10} {'torch':>8} {'ratio':>6} | {'infer burn':>10} {'torch':>8} {'ratio':>6}"
    print(header)
    print("-" * len(header))
    for name, cls in twins.items():
        for frames in FRAMES:
            torch_train, torch_infer = torch_times(cls, frames, repetitions)
            row = burn[(name, frames)]
            train_ratio = row["train_step_s"] / torch_train
            infer_ratio = row["inference_s"] / torch_infer
            print(
                f"{name:6} {N_MELS}x{frames:<5} | {row['train_step_s']:9.3f}s {torch_train:7.3f}s {train_ratio:5.2f}x"
                f" | {row['inference_s']:9.3f}s {torch_infer:7.3f}s {infer_ratio:5.2f}x"
                f"   goals: train<=1.0x {'ok' if train_ratio <= 1.0 else 'MISSED'},"
                f" infer<=0.7x {'ok' if infer_ratio <= 0.7 else 'MISSED'}"
            )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
