#!/usr/bin/env python3
"""How many MusiCNN patches a long track needs: recall of each track's top-10 neighbours when tracks are
analysed from a bounded, evenly spread set of 3 s patches (`scan --analysis N`) against all of them
(`--analysis full`), and what each setting costs in scan time.

    python3 scripts/bench/long_tracks.py [--binary target/release/musicrec] [--tracks 40] [--jobs 2]
        [--analysis 5,10,20,40] [--data ../shared/data/gtzan-mini] [--seed 0] [--keep DIR]

The team has no long real tracks, so the long tracks are made from real ones: each is 10-20 GTZAN-mini
clips (15-30 s each, so 3-8 minutes) joined end to end, two thirds of them from one genre and the rest
from one other genre, in random order: a track whose sections differ, as real songs' do. Every setting
scans the same files into its own catalog (the patch count is not part of the model id), then the
embeddings are read back from SQLite and each track's 10 nearest others by cosine are compared.
Needs numpy and soundfile (the venv of scripts/convert/musicnn.py has both).
"""

import argparse
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

K = 10


def make_tracks(data: Path, out: Path, count: int, seed: int) -> float:
    """Writes `count` long WAV tracks into `out`; returns their total duration in seconds."""
    rng = random.Random(seed)
    genres = sorted(p.name for p in data.iterdir() if p.is_dir())
    clips = {g: sorted((data / g).glob("*.wav")) for g in genres}
    total = 0.0
    for i in range(count):
        main = genres[i % len(genres)]
        other = rng.choice([g for g in genres if g != main])
        n = rng.randint(10, 20)
        n_main = (2 * n + 2) // 3
        chosen = [rng.choice(clips[main]) for _ in range(n_main)]
        chosen += [rng.choice(clips[other]) for _ in range(n - n_main)]
        rng.shuffle(chosen)
        parts, rate = [], None
        for clip in chosen:
            audio, sr = sf.read(clip, dtype="float32", always_2d=False)
            rate = rate or sr
            assert sr == rate, f"{clip}: {sr} Hz, expected {rate}"
            parts.append(audio if audio.ndim == 1 else audio.mean(axis=1))
        track = np.concatenate(parts)
        sf.write(out / f"long-{i:03d}-{main}-{other}.wav", track, rate, subtype="PCM_16")
        total += len(track) / rate
    return total


def scan(binary: str, music: Path, db: Path, analysis: str, jobs: int) -> float:
    start = time.perf_counter()
    subprocess.run(
        [binary, "scan", str(music), "--db", str(db), "--analysis", analysis, "--jobs", str(jobs)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - start


def embeddings(db: Path) -> dict:
    """path -> unit-length embedding of the catalog's one model."""
    rows = sqlite3.connect(db).execute(
        "SELECT t.path, e.embedding FROM embeddings e JOIN tracks t ON t.id = e.track_id"
    )
    out = {}
    for path, blob in rows:
        v = np.frombuffer(blob, dtype="<f4").astype(np.float64)
        out[path] = v / np.linalg.norm(v)
    return out


def neighbours(vectors: dict, paths: list) -> dict:
    m = np.stack([vectors[p] for p in paths])
    sims = m @ m.T
    np.fill_diagonal(sims, -np.inf)
    return {p: set(np.argsort(-sims[i])[:K]) for i, p in enumerate(paths)}


def main() -> None:
    repo = Path(__file__).resolve().parents[2]
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", default=str(repo / "target/release/musicrec"))
    ap.add_argument("--data", default=str(repo.parent / "shared/data/gtzan-mini"))
    ap.add_argument("--tracks", type=int, default=40)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--analysis", default="5,10,20,40")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--keep", help="folder to write the tracks and catalogs to (default: a temporary one)")
    args = ap.parse_args()

    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="musicrec-long-"))
    music = work / "music"
    music.mkdir(parents=True, exist_ok=True)
    total = make_tracks(Path(args.data), music, args.tracks, args.seed)
    print(f"{args.tracks} long tracks, {total / 60:.1f} min of audio ({total / args.tracks / 60:.1f} min each), "
          f"scanned with {args.binary} --jobs {args.jobs}")

    settings = ["full"] + args.analysis.split(",")
    results = {}
    for setting in settings:
        db = work / f"catalog-{setting}.db"
        db.unlink(missing_ok=True)
        secs = scan(args.binary, music, db, setting, args.jobs)
        results[setting] = (secs, embeddings(db))
        print(f"  --analysis {setting:>4}: {secs:7.1f} s, {total / secs:6.1f}x real time", flush=True)

    paths = sorted(results["full"][1])
    reference = neighbours(results["full"][1], paths)
    print(f"\nrecall of the top-{K} neighbours against --analysis full ({len(paths)} tracks)")
    print("patches  mean recall  min recall  mean cosine to full  scan time vs full")
    for setting in settings[1:]:
        secs, vectors = results[setting]
        got = neighbours(vectors, paths)
        recalls = [len(got[p] & reference[p]) / K for p in paths]
        cosines = [float(vectors[p] @ results["full"][1][p]) for p in paths]
        print(f"{setting:>7}  {np.mean(recalls):11.3f}  {min(recalls):10.2f}  {np.mean(cosines):19.4f}"
              f"  {secs / results['full'][0]:17.2f}")
    if not args.keep:
        print(f"(tracks and catalogs were in {work}; removed)")
        subprocess.run(["rm", "-rf", str(work)], check=False)


if __name__ == "__main__":
    sys.exit(main())
