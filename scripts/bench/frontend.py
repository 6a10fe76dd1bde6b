#!/usr/bin/env python3
"""Front-end throughput: librosa vs musicrec on the same files, side by side, in one run.

    cargo build --release -p musicrec                                   # the CLI (`musicrec features`), or
    cargo build --release -p musicrec-features --example frontend       # the front end alone (quicker to build)
    python3 scripts/bench/frontend.py [--data ../shared/data/gtzan-mini] [--bin PATH] [--presets librosa choi]

Inputs: the GTZAN-mini clips (100 WAVs, 22 050 Hz) and one 10-minute Opus file (48 kHz) made from
them with ffmpeg (libopus, 96 kbit/s; cached under the system temp folder), so that both the
native-rate path and the decode + resample path are measured.

Per preset, librosa does per file what the preset computes: `librosa.load(f, sr=SR)` (soxr_hq),
`melspectrogram(n_fft, hop_length, n_mels)`, `power_to_db(ref=1.0, amin=1e-10, top_db=80)`; it runs
single-threaded (OMP/MKL/OPENBLAS/NUMBA threads = 1). musicrec does the same and writes each log-mel
to a .npy file, with `--jobs 1` and `--jobs 2`: `--bin` is either the CLI (`musicrec features FILES
--out-dir D --preset P --jobs N`) or the `frontend` example (`--preset P --jobs N --out D FILES`).
Each timing is the best of --repeats runs after one warm-up (page cache warm for both). The ratio
"x librosa" is librosa's time over musicrec's; "2 jobs / 1" is the two-core speed-up.

The `musicnn` preset (16 kHz, 512/256, 96 mels, log10(1 + 10000 x)) is listed in PRESETS; it is
skipped with a note while the binary does not know it. Made with librosa 0.11.0, numpy 2.4.6.

Figures (2026-12-03, `frontend` example, idle 2-core VM, log-mels kept in memory as librosa's are;
wall times vary by ~10-20% between runs). GTZAN-mini, x librosa at 1 / 2 jobs (2 jobs / 1): librosa
6.41 / 10.95 (1.71), choi 1.90 / 3.47 (1.82), musicnn 1.93 / 4.53 (2.35). For choi and musicnn libsoxr, the very resampler
librosa calls (python-soxr), takes about 5.8 ms of musicrec's 6.4 ms per clip: with the same
resampler librosa's 12 ms per clip caps the ratio near 2. With
`--write` (each .npy fsynced, as `musicrec features` does): librosa preset 3.9x on one core, the
fsync costing ~1.2-2.5 ms a file.

The 10-minute Opus file (2026-12-03, `musicrec features`, best of 5): x librosa at 1 / 2 jobs (2 jobs
/ 1): librosa 2.44 / 4.23 (1.73), choi 2.15 / 3.91 (1.82), musicnn 2.49 / 3.86 (1.55); with the
`frontend` example 1.42, 1.57, 1.71 in another run. One long file keeps both threads busy: it is
decoded (libopus, 75% of the time on one thread), resampled and cut into STFT frames in segments
on the threads of the pool; before that, 2 jobs ran it no faster than 1.
"""

import os

# Must be set before numpy/librosa are imported to take effect.
for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[var] = "1"

import argparse
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import librosa
import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parents[2]


def db(S):
    return librosa.power_to_db(S, ref=1.0, amin=1e-10, top_db=80.0)


def musicnn_scale(S):
    # musicnn's front end: log10(1 + 10000 * mel power)
    return np.log10(1.0 + 10000.0 * S)


# preset -> (sample rate, n_fft, hop_length, n_mels, dB scaling)
PRESETS = {
    "librosa": (22_050, 2048, 512, 128, db),
    "choi": (12_000, 512, 256, 96, db),
    "musicnn": (16_000, 512, 256, 96, musicnn_scale),
}


def default_binary():
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    for candidate in (target / "release" / "musicrec", target / "release" / "examples" / "frontend"):
        if candidate.is_file():
            return candidate
    return target / "release" / "musicrec"


def ten_minute_opus(clips):
    """10 minutes of the clips back to back, as Opus (made once, then cached)."""
    out = Path(tempfile.gettempdir()) / "musicrec-bench-10min.opus"
    if out.is_file():
        return out
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise SystemExit("ffmpeg is needed to make the 10-minute Opus file")
    with tempfile.TemporaryDirectory() as tmp:
        listing = Path(tmp) / "list.txt"
        listing.write_text("".join(f"file '{c.resolve()}'\n" for c in clips))
        subprocess.run([ffmpeg, "-v", "error", "-y", "-f", "concat", "-safe", "0", "-i", str(listing),
                        "-t", "600", "-c:a", "libopus", "-b:a", "96k", str(out)], check=True)
    return out


def librosa_pass(files, preset):
    sr, n_fft, hop, n_mels, scale = PRESETS[preset]
    for f in files:
        y, _ = librosa.load(f, sr=sr)
        S = librosa.feature.melspectrogram(y=y, sr=sr, n_fft=n_fft, hop_length=hop, n_mels=n_mels)
        scale(S)


def musicrec_command(binary, files, preset, jobs, out, write=True):
    if binary.name == "frontend":
        keep = ["--out", out] if write else []
        return [str(binary), "--preset", preset, "--jobs", str(jobs), *keep, *map(str, files)]
    return [str(binary), "features", *map(str, files), "--out-dir", out, "--preset", preset,
            "--jobs", str(jobs)]


def knows_preset(binary, preset, sample):
    with tempfile.TemporaryDirectory() as out:
        return subprocess.run(musicrec_command(binary, [sample], preset, 1, out),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0


def musicrec_pass(binary, files, preset, jobs, write):
    with tempfile.TemporaryDirectory() as out:
        subprocess.run(musicrec_command(binary, files, preset, jobs, out, write), check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def best_time(fn, repeats):
    """Best wall seconds over `repeats` runs after one warm-up run."""
    fn()  # warm-up: page cache, numba/JIT, lazy imports
    walls = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        walls.append(time.perf_counter() - t0)
    return min(walls)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT / ".." / "shared" / "data" / "gtzan-mini")
    ap.add_argument("--bin", type=Path, default=default_binary())
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--presets", nargs="+", default=list(PRESETS))
    ap.add_argument("--sets", nargs="+", default=["gtzan-mini", "opus-10min"])
    ap.add_argument("--write", action="store_true",
                    help="with the frontend example: write each log-mel to a fsynced .npy as `musicrec features` "
                         "does (the CLI always does); by default the log-mel stays in memory, as in librosa's pass")
    args = ap.parse_args()
    write = args.write or args.bin.name != "frontend"

    clips = sorted(args.data.rglob("*.wav"))
    if not clips:
        raise SystemExit(f"no .wav files under {args.data}")
    if not args.bin.is_file():
        raise SystemExit(f"{args.bin} not found: build the CLI or the frontend example in release first")
    sets = {}
    if "gtzan-mini" in args.sets:
        sets["gtzan-mini"] = (clips, sum(sf.info(f).duration for f in clips))
    if "opus-10min" in args.sets:
        opus = ten_minute_opus(clips)
        sets["opus-10min"] = ([opus], librosa.get_duration(path=opus))
    print(f"binary {args.bin}; librosa {librosa.__version__}, numpy {np.__version__}, {os.cpu_count()} cpus, "
          f"load average {os.getloadavg()[0]:.2f} at start; musicrec "
          f"{'writes each log-mel to a .npy' if write else 'keeps each log-mel in memory, as librosa does'}")
    print(f"{'preset':8s} {'input':11s} {'audio s':>8s} {'librosa s':>9s} {'musicrec 1 job s':>16s} "
          f"{'x librosa':>9s} {'2 jobs s':>8s} {'x librosa':>9s} {'2 jobs / 1':>10s}")
    for preset in args.presets:
        if preset not in PRESETS:
            raise SystemExit(f"unknown preset {preset}; known: {', '.join(PRESETS)}")
        if not knows_preset(args.bin, preset, clips[0]):
            print(f"{preset:8s} skipped: {args.bin.name} has no preset {preset!r} yet")
            continue
        for name, (files, audio_s) in sets.items():
            lib = best_time(lambda: librosa_pass(files, preset), args.repeats)
            one = best_time(lambda: musicrec_pass(args.bin, files, preset, 1, write), args.repeats)
            two = best_time(lambda: musicrec_pass(args.bin, files, preset, 2, write), args.repeats)
            print(f"{preset:8s} {name:11s} {audio_s:8.0f} {lib:9.3f} {one:16.3f} {lib / one:9.2f} "
                  f"{two:8.3f} {lib / two:9.2f} {one / two:10.2f}", flush=True)
    print(f"load average {os.getloadavg()[0]:.2f} at the end (the machine may be shared: compare with the CPU count)")


if __name__ == "__main__":
    main()
