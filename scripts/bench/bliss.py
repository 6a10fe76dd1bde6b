#!/usr/bin/env python3
"""`musicrec scan` side by side with bliss-rs on the same files, in one run: wall time, tracks per
minute, x real time, and how many cores each kept busy.

    python3 scripts/bench/bliss.py [--binary PATH] [--jobs 2] [--models cnn,musicnn] [--repeats 2]
        [--sets short,long] [--data ../shared/data/gtzan-mini] [--long-tracks 20]

bliss is bliss-audio 0.13 (`SymphoniaDecoder::analyze_paths_with_options`, symphonia decoders, as
bliss-rs's own library analysis runs) in the bench-only crate scripts/bench/bliss (GPL-3.0, outside
the workspace; built here with cargo into $CARGO_TARGET_DIR or its own target/). musicrec is the
release binary (`--binary`, default: built with `cargo build --release -p musicrec`), scanning into a
fresh SQLite catalog each run with `--jobs` and each `--model` of `--models`.

Sets: `short` is the GTZAN-mini clips (100 WAVs, 22 050 Hz, 15-30 s); `long` is `--long-tracks`
tracks of 3-8 minutes made by joining GTZAN-mini clips (scripts/bench/long_tracks.py's maker; the
team has no long real tracks). Every timing is the best of `--repeats` runs after a warm-up of the
page cache; "cores busy" is the child's user + system CPU time over its wall time.
Needs numpy and soundfile for the long set (the venv of scripts/convert/musicnn.py has both).
"""

import argparse
import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))


def cargo_target_dir(manifest: Path) -> Path:
    meta = subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--no-deps", "--manifest-path", str(manifest)],
        check=True, capture_output=True, text=True,
    )
    return Path(json.loads(meta.stdout)["target_directory"])


def build(manifest: Path, package_args: list, binary: str) -> Path:
    subprocess.run(["cargo", "build", "--release", "--manifest-path", str(manifest), *package_args], check=True)
    return cargo_target_dir(manifest) / "release" / binary


def timed(cmd: list) -> tuple:
    """Runs `cmd`; gives (wall seconds, CPU seconds of the child, stdout)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1):  # 1: some files failed (none should here)
        sys.exit(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.stdout


def best_of(repeats: int, run) -> tuple:
    runs = [run() for _ in range(repeats)]
    return min(runs, key=lambda r: r[0])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--binary", help="musicrec release binary (default: cargo build --release -p musicrec)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count())
    ap.add_argument("--models", default="cnn,musicnn")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--sets", default="short,long")
    ap.add_argument("--data", type=Path, default=ROOT / ".." / "shared" / "data" / "gtzan-mini")
    ap.add_argument("--long-tracks", type=int, default=20)
    args = ap.parse_args()

    bliss = build(ROOT / "scripts" / "bench" / "bliss" / "Cargo.toml", [], "musicrec-bench-bliss")
    musicrec = Path(args.binary) if args.binary else build(ROOT / "Cargo.toml", ["--locked", "-p", "musicrec"], "musicrec")

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        sets = {}
        for name in args.sets.split(","):
            if name == "short":
                sets[name] = args.data
            elif name == "long":
                from long_tracks import make_tracks
                folder = tmp / "long"
                folder.mkdir()
                make_tracks(args.data, folder, args.long_tracks, 0)
                sets[name] = folder
            else:
                sys.exit(f"unknown set {name!r} (short, long)")

        print(f"musicrec {musicrec}\nbliss    {bliss}\n{args.jobs} jobs, {os.cpu_count()} cpus, best of {args.repeats}")
        print(f"{'set':<6} {'tool':<18} {'files':>5} {'audio s':>8} {'wall s':>7} {'tracks/min':>10} "
              f"{'x real time':>11} {'cores busy':>10} {'x bliss':>7}")
        for name, folder in sets.items():
            # Warm the page cache for both tools.
            timed([str(bliss), str(folder), str(args.jobs)])
            rows, audio, files = [], None, None
            for model in args.models.split(","):
                dbs = []

                def run_scan():
                    dbs.append(tmp / f"scan-{name}-{model}-{len(dbs)}.db")
                    return timed([str(musicrec), "scan", str(folder), "--db", str(dbs[-1]),
                                  "--jobs", str(args.jobs), "--model", model])

                wall, cpu, _ = best_of(args.repeats, run_scan)
                # The audio's length as musicrec decoded it (bliss does not report one).
                files, audio = sqlite3.connect(dbs[-1]).execute(
                    "SELECT count(*), coalesce(sum(duration_secs), 0) FROM tracks").fetchone()
                rows.append((f"musicrec {model}", wall, cpu))

            def run_bliss():
                return timed([str(bliss), str(folder), str(args.jobs)])

            bliss_wall, cpu, out = best_of(args.repeats, run_bliss)
            result = json.loads(out.strip().splitlines()[-1])
            if result["analysed"] != files:
                print(f"note: bliss analysed {result['analysed']} files, musicrec {files}")
            for tool, wall, cpu in [("bliss-rs 0.13", bliss_wall, cpu)] + rows:
                print(f"{name:<6} {tool:<18} {files:>5} {audio:>8.0f} {wall:>7.2f} "
                      f"{files * 60 / wall:>10.0f} {audio / wall:>11.0f} {cpu / wall:>10.2f} "
                      f"{bliss_wall / wall:>7.2f}")

if __name__ == "__main__":
    main()
