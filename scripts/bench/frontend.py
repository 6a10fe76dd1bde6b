#!/usr/bin/env python3
"""Front-end throughput: librosa vs `musicrec features` on the same GTZAN clips, as x real time.

    cargo build --release -p musicrec
    python3 scripts/bench/frontend.py [--data ../shared/data/gtzan-mini] [--bin target/release/musicrec]

librosa runs single-threaded (OMP/MKL/OPENBLAS/NUMBA threads = 1) and does, per clip, what the
`librosa` preset computes: load at sr=22050, melspectrogram(n_fft=2048, hop_length=512, n_mels=128),
power_to_db(ref=1.0, top_db=80). musicrec does the same and also writes each log-mel to a .npy file
(`musicrec features CLIPS... --out-dir TMP --jobs N`). Each timing is the best of --repeats runs after
one warm-up (page cache warm for both). Made with librosa 0.11.0, numpy 2.4.6.
"""

import os

# Must be set before numpy/librosa are imported to take effect.
for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[var] = "1"

import argparse
import resource
import subprocess
import tempfile
import time
from pathlib import Path

import librosa
import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parents[2]


def default_binary():
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    return target / "release" / "musicrec"


def librosa_pass(files):
    for f in files:
        y, sr = librosa.load(f, sr=22050)
        S = librosa.feature.melspectrogram(y=y, sr=sr, n_fft=2048, hop_length=512, n_mels=128)
        librosa.power_to_db(S, ref=1.0, amin=1e-10, top_db=80.0)


def musicrec_pass(binary, files, jobs):
    with tempfile.TemporaryDirectory() as out:
        subprocess.run(
            [str(binary), "features", *map(str, files), "--out-dir", out, "--jobs", str(jobs)],
            check=True, stderr=subprocess.DEVNULL,
        )


def cpu_seconds():
    """CPU time (user + system) of this process and its finished children: unlike wall time it does not
    grow when other work shares the machine, so both are reported."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def best_time(fn, repeats):
    """(best wall seconds, best CPU seconds) over `repeats` runs after one warm-up run."""
    fn()  # warm-up: page cache, numba/JIT, lazy imports
    walls, cpus = [], []
    for _ in range(repeats):
        c0, t0 = cpu_seconds(), time.perf_counter()
        fn()
        walls.append(time.perf_counter() - t0)
        cpus.append(cpu_seconds() - c0)
    return min(walls), min(cpus)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT / ".." / "shared" / "data" / "gtzan-mini")
    ap.add_argument("--bin", type=Path, default=default_binary())
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    args = ap.parse_args()

    files = sorted(args.data.rglob("*.wav"))
    if not files:
        raise SystemExit(f"no .wav files under {args.data}")
    if not args.bin.is_file():
        raise SystemExit(f"{args.bin} not found: run `cargo build --release -p musicrec` first")
    audio_s = sum(sf.info(f).duration for f in files)
    print(f"{len(files)} clips, {audio_s:.1f} s of audio, librosa {librosa.__version__}, numpy {np.__version__}, "
          f"{os.cpu_count()} cpus")

    wall, cpu = best_time(lambda: librosa_pass(files), args.repeats)
    base_wall, base_cpu = audio_s / wall, audio_s / cpu
    print(f"{'':20s} {'wall s':>8s} {'x real time':>12s} {'vs librosa':>10s}   {'CPU s':>7s} {'x real time':>12s} {'vs librosa':>10s}")
    print(f"{'librosa (1 thread)':20s} {wall:8.3f} {base_wall:12.0f} {1.0:10.1f}   {cpu:7.3f} {base_cpu:12.0f} {1.0:10.1f}")
    for jobs in args.jobs:
        wall, cpu = best_time(lambda: musicrec_pass(args.bin, files, jobs), args.repeats)
        print(f"{f'musicrec --jobs {jobs}':20s} {wall:8.3f} {audio_s / wall:12.0f} {audio_s / wall / base_wall:10.1f}   "
              f"{cpu:7.3f} {audio_s / cpu:12.0f} {audio_s / cpu / base_cpu:10.1f}")
    print("CPU-time columns: total CPU used, independent of other load on the machine; with --jobs N > 1 "
          "they show the work done, the wall columns the speed-up.")

if __name__ == "__main__":
    main()
