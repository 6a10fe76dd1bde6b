#!/usr/bin/env python3
"""MusiCNN inference speed: the Burn port (crates/model/examples/bench_musicnn.rs) vs TensorFlow running musicnn
0.1.0's own graph, on the same log-mel patches of a real clip, at the same thread count; then the whole
analysis of a track (decode -> mel -> network) in x real time for both.

    TF_USE_LEGACY_KERAS=1 /work/venv-musicnn/bin/python scripts/bench/musicnn.py [--threads 2] [--batch 8]
        [--clip ../shared/data/gtzan-mini/jazz/jazz.00000.wav] [--rounds 3]

Needs the venv of scripts/convert/musicnn.py and cargo (it builds the example in release mode with
$CARGO_TARGET_DIR). The issue's goal: Burn at least 5x TensorFlow's throughput (ratio tf/burn >= 5).

Both sides: the best of 3 timed runs over all patches after a warm-up; TensorFlow builds its graph once
(musicnn's extractor rebuilds it on every call: that cost, 1.6-2.0 s, is NOT counted here, which favours TF).
TF's whole-track time is musicnn's front end (librosa.load, melspectrogram, patching) plus the session
run with the graph already built. Burn and TF alternate round by round, so machine load hits both; the
median ratio over rounds is printed with its range. Check `uptime` first: other jobs skew both sides.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
warnings.filterwarnings("ignore", message=".*is deprecated.*")
# This file is called musicnn.py too: keep its folder off the path so `import musicnn` finds the package.
sys.path = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import librosa  # noqa: E402
import musicnn  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from musicnn import models  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
PACKAGE = Path(musicnn.__file__).parent
SR, N_FFT, HOP, N_MELS, PATCH = 16000, 512, 256, 96, 187


def musicnn_patches(path):
    """musicnn's batch_data (its float16 log line patched for numpy 2): [n, 187, 96] float32, seconds."""
    y, _ = librosa.load(path, sr=SR)
    mel = librosa.feature.melspectrogram(y=y, sr=SR, hop_length=HOP, n_fft=N_FFT, n_mels=N_MELS).T
    logmel = np.log10(10000 * mel.astype(np.float16).astype(np.float32) + 1)
    starts = range(0, logmel.shape[0] - PATCH + 1, PATCH)
    return np.stack([logmel[s:s + PATCH] for s in starts]).astype(np.float32), len(y) / SR


class TfMusicnn:
    def __init__(self, threads):
        tf.compat.v1.disable_eager_execution()
        tf.compat.v1.reset_default_graph()
        self.x = tf.compat.v1.placeholder(tf.float32, [None, PATCH, N_MELS])
        self.is_training = tf.compat.v1.placeholder(tf.bool)
        y, *_rest, penultimate = models.define_model(self.x, self.is_training, "MSD_musicnn", 50)
        self.fetch = [tf.nn.sigmoid(y), penultimate]
        config = tf.compat.v1.ConfigProto(intra_op_parallelism_threads=threads, inter_op_parallelism_threads=1)
        self.sess = tf.compat.v1.Session(config=config)
        tf.compat.v1.train.Saver().restore(self.sess, str(PACKAGE / "MSD_musicnn") + "/")

    def run(self, patches, batch):
        for start in range(0, len(patches), batch):
            self.sess.run(self.fetch, feed_dict={self.x: patches[start:start + batch], self.is_training: False})


def best_of(fn, reps=3):
    fn()
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def burn_binary(profile):
    # --workspace: the workspace's feature unification, so a target dir built for the workspace is reused.
    subprocess.run(["cargo", "build", "--quiet", "--workspace", "--profile", profile, "--example", "bench_musicnn"],
                   cwd=REPO, check=True)
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    return target / {"dev": "debug", "test": "debug"}.get(profile, profile) / "examples" / "bench_musicnn"


def burn_run(binary, patches_file, n, batch, threads, clip):
    cmd = [str(binary), "--patches", str(patches_file), "--n-patches", str(n), "--batch", str(batch),
           "--audio", str(clip)]
    out = subprocess.run(cmd, cwd=REPO, env=dict(os.environ, RAYON_NUM_THREADS=str(threads)), check=True,
                         capture_output=True, text=True).stdout
    rows = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    return next(r for r in rows if r["what"] == "forward"), next(r for r in rows if r["what"] == "track")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", default="release",
                        help="cargo profile of the Rust build (release; 'test' reuses a test build: deps at opt-level 3)")
    parser.add_argument("--clip", type=Path, default=REPO.parent / "shared/data/gtzan-mini/jazz/jazz.00000.wav")
    args = parser.parse_args()

    binary = burn_binary(args.profile)
    patches, seconds = musicnn_patches(args.clip)
    n = len(patches)
    tf_model = TfMusicnn(args.threads)
    print(f"{args.clip.name}: {seconds:.1f} s, {n} patches; batch {args.batch}, {args.threads} threads, "
          f"cargo profile {args.profile}, "
          f"{args.rounds} alternating rounds; tensorflow {tf.__version__}; load {os.getloadavg()[0]:.2f}")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        patches_file = Path(tmp) / "patches.f32"
        patches.astype("<f4").tofile(patches_file)
        for _ in range(args.rounds):
            burn_forward, burn_track = burn_run(binary, patches_file, n, args.batch, args.threads, args.clip)
            tf_forward = best_of(lambda: tf_model.run(patches, args.batch)) / n
            tf_track = best_of(lambda: tf_model.run(musicnn_patches(args.clip)[0], args.batch))
            rows.append((burn_forward["ms_per_patch"] / 1e3, tf_forward, burn_track["analysis_s"], tf_track))
            print(f"  round: burn {rows[-1][0] * 1e3:.1f} ms/patch, tf {tf_forward * 1e3:.1f} ms/patch, "
                  f"track burn {rows[-1][2]:.3f} s, tf {tf_track:.3f} s; load {os.getloadavg()[0]:.2f}")
            sys.stdout.flush()
    fwd_ratios = [t / b for b, t, _, _ in rows]
    track_ratios = [t / b for _, _, b, t in rows]
    med = lambda k: statistics.median(r[k] for r in rows)  # noqa: E731
    patch_seconds = PATCH * HOP / SR
    print(f"forward: burn {med(0) * 1e3:.1f} ms/patch ({patch_seconds / med(0):.0f}x real time), "
          f"tensorflow {med(1) * 1e3:.1f} ms/patch ({patch_seconds / med(1):.0f}x real time); "
          f"throughput burn/tf {statistics.median(fwd_ratios):.2f}x "
          f"(range {min(fwd_ratios):.2f}-{max(fwd_ratios):.2f}); goal >= 5x: "
          f"{'ok' if statistics.median(fwd_ratios) >= 5 else 'MISSED'}")
    print(f"whole track ({seconds:.1f} s): burn {med(2):.3f} s ({seconds / med(2):.0f}x real time), "
          f"tensorflow {med(3):.3f} s ({seconds / med(3):.0f}x real time); burn/tf {statistics.median(track_ratios):.2f}x")


if __name__ == "__main__":
    main()
