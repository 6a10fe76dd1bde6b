#!/usr/bin/env python3
"""Golden files for MusiCNN: TensorFlow's outputs on log-mel patches of real clips, and librosa's musicnn
log-mel and filterbank.

Run by hand from the repository root (not part of CI), in the venv of scripts/convert/musicnn.py, with a
built `musicrec` binary (it decodes the clips, so that the Rust tests see the very samples librosa saw):

    TF_USE_LEGACY_KERAS=1 /work/venv-musicnn/bin/python scripts/golden/musicnn.py \\
        --musicrec $CARGO_TARGET_DIR/debug/musicrec [--data ../shared/data]

Versions the committed files were made with: musicnn 0.1.0, tensorflow-cpu 2.21.0, tf-keras 2.21.0,
librosa 0.11.0, numpy 2.4.6, soundfile 0.14.0.

The front end is musicnn's `batch_data` (librosa melspectrogram, float16 cast, log10(10000 x + 1), patches
of 187 frames with step 187) on the 16 kHz samples `musicrec decode --sr 16000` writes, with one fix: under
numpy 2 musicnn's `np.log10(10000 * audio_rep + 1)` multiplies in float16, overflows and gives NaN; we take
the log of the float16 values in float32 (`10000 * x.astype(float32)`), which is what numpy 1.x computed.
The network is musicnn's own graph (`musicnn.models.define_model`) restored from the wheel's checkpoint,
built once and run on all patches in one batch, fetching every patch's outputs. (musicnn 0.1.0's
`extractor` returns the first patch's `penultimate` for every patch; this script does not use it.)

Outputs:
  crates/model/tests/golden/musicnn_<name>.safetensors, per clip:
    mel_f16        float16 [p, 187, 96]  the float16 mel power of the chosen patches (time x mel); TF's
                                         input is log10(10000 * float32(mel_f16) + 1)
    patch_starts   int64 [p]             first frame of each patch in the whole clip's log-mel
    n_frames       int64 [1]             frames of the whole clip (1 + n_samples // 256)
    {msd,mtt}.taggram [p, 50], .penultimate [p, 200], .max_pool [p, 753], .mean_pool [p, 753]  (float32)
  crates/features/tests/golden/fb_musicnn_{index,weights}.npy   librosa's mel filterbank (fmax 8000)
  crates/features/tests/golden/logmel_jazz00000_musicnn.{npy,json}  the first FRAMES frames of the log-mel
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
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
import soundfile as sf  # noqa: E402
import tensorflow as tf  # noqa: E402
from musicnn import configuration, models  # noqa: E402
from safetensors.numpy import save_file  # noqa: E402

assert librosa.__version__ == "0.11.0", f"golden files were made with librosa 0.11.0, not {librosa.__version__}"

ROOT = Path(__file__).resolve().parents[2]
MODEL_GOLDEN = ROOT / "crates" / "model" / "tests" / "golden"
FEATURES_GOLDEN = ROOT / "crates" / "features" / "tests" / "golden"
PACKAGE = Path(musicnn.__file__).parent

SR, N_FFT, HOP, N_MELS, FMAX = 16000, 512, 256, 96, 8000.0
PATCH = 187
FEATURE_FRAMES = 64

# name -> (file under the data folder, indices of the patches to keep). Three genres, three positions.
CLIPS = {
    "jazz00000": ("gtzan-mini/jazz/jazz.00000.wav", [3]),
    "metal00000": ("gtzan-mini/metal/metal.00000.wav", [0]),
    "classical00001": ("gtzan-mini/classical/classical.00001.wav", [1]),
}
VARIANTS = {"msd": ("MSD_musicnn", configuration.MSD_LABELS), "mtt": ("MTT_musicnn", configuration.MTT_LABELS)}


def decode(musicrec, path, tmp):
    out = Path(tmp) / (path.stem + ".16k.wav")
    subprocess.run([str(musicrec), "decode", str(path), "--out", str(out), "--sr", str(SR)], check=True)
    y, sr = sf.read(out, dtype="float32")
    assert sr == SR and y.ndim == 1
    return y


def mel_power(y):
    """musicnn's batch_data up to the float16 cast: [T, 96] float16."""
    S = librosa.feature.melspectrogram(y=y, sr=SR, hop_length=HOP, n_fft=N_FFT, n_mels=N_MELS).T
    return S.astype(np.float16)


def log_mel(mel_f16):
    return np.log10(10000 * mel_f16.astype(np.float32) + 1)


def musicnn_patch_starts(n_frames):
    return list(range(0, n_frames - PATCH + 1, PATCH))


def run_tf(model, patches):
    """musicnn's graph, built once, run on all patches in one batch; every patch's own outputs."""
    tf.compat.v1.disable_eager_execution()
    tf.compat.v1.reset_default_graph()
    with tf.name_scope("model"):
        x = tf.compat.v1.placeholder(tf.float32, [None, PATCH, N_MELS])
        is_training = tf.compat.v1.placeholder(tf.bool)
        y, _timbral, _temporal, _c1, _c2, _c3, mean_pool, max_pool, penultimate = models.define_model(
            x, is_training, model, 50)
        taggram = tf.nn.sigmoid(y)
    with tf.compat.v1.Session() as sess:
        tf.compat.v1.train.Saver().restore(sess, str(PACKAGE / model) + "/")
        fetch = dict(taggram=taggram, penultimate=penultimate, max_pool=max_pool, mean_pool=mean_pool)
        batch = sess.run(fetch, feed_dict={x: patches, is_training: False})
        # The same patches one at a time: a batch must not change a patch's outputs.
        for i in range(len(patches)):
            one = sess.run(fetch, feed_dict={x: patches[i:i + 1], is_training: False})
            for k in fetch:
                assert np.allclose(one[k][0], batch[k][i], atol=1e-5, rtol=1e-6), (model, k, i)
    return {k: np.asarray(v, dtype=np.float32) for k, v in batch.items()}


def write_filterbank():
    fb = librosa.filters.mel(sr=SR, n_fft=N_FFT, n_mels=N_MELS, fmin=0.0, fmax=FMAX)
    index, runs = [], []
    for row in fb:
        nz = np.flatnonzero(row)
        first, last = (nz[0], nz[-1]) if len(nz) else (0, -1)
        index.append((first, last - first + 1))
        runs.append(row[first:last + 1])
        rebuilt = np.zeros_like(row)
        rebuilt[first:last + 1] = row[first:last + 1]
        assert np.array_equal(rebuilt, row)
    np.save(FEATURES_GOLDEN / "fb_musicnn_index.npy", np.asarray(index, dtype=np.int64))
    np.save(FEATURES_GOLDEN / "fb_musicnn_weights.npy", np.concatenate(runs).astype(np.float32))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--musicrec", type=Path, required=True, help="a built musicrec binary (for `decode`)")
    args = parser.parse_args()

    write_filterbank()
    with tempfile.TemporaryDirectory() as tmp:
        for name, (rel, keep) in CLIPS.items():
            path = args.data / rel
            y = decode(args.musicrec, path, tmp)
            mel = mel_power(y)
            n_frames = mel.shape[0]
            assert n_frames == 1 + len(y) // HOP
            starts = musicnn_patch_starts(n_frames)
            chosen = [starts[i] for i in keep]
            mel_patches = np.stack([mel[s:s + PATCH] for s in chosen])
            tensors = {
                "mel_f16": np.ascontiguousarray(mel_patches),
                "patch_starts": np.asarray(chosen, dtype=np.int64),
                "n_frames": np.asarray([n_frames], dtype=np.int64),
            }
            for key, (model, _labels) in VARIANTS.items():
                outputs = run_tf(model, log_mel(mel_patches))
                assert all(np.isfinite(v).all() for v in outputs.values())
                for k, v in outputs.items():
                    tensors[f"{key}.{k}"] = np.ascontiguousarray(v)
            golden = MODEL_GOLDEN / f"musicnn_{name}.safetensors"
            save_file(tensors, str(golden), metadata={"file": rel, "n_samples": str(len(y)), "sample_rate": str(SR)})
            golden.chmod(0o644)

            # For the record (not stored): musicnn's own resampling (librosa.load, soxr_hq) instead of
            # musicrec's decoder, on the same patches: how much the resampler alone moves the outputs.
            y_soxr, _ = librosa.load(path, sr=SR)
            mel_soxr = mel_power(y_soxr)
            soxr_patches = np.stack([mel_soxr[s:s + PATCH] for s in chosen])
            ref = run_tf("MSD_musicnn", log_mel(soxr_patches))
            ours = {k[4:]: v for k, v in tensors.items() if k.startswith("msd.")}
            print(f"{name}: {len(y)} samples, {n_frames} frames, {len(starts)} patches, kept {chosen}; "
                  f"msd penultimate range {ours['penultimate'].min():.3f}..{ours['penultimate'].max():.3f}, "
                  f"max_pool max {ours['max_pool'].max():.2f}; musicrec decoder vs soxr resampling: "
                  f"log-mel max |diff| {np.abs(log_mel(mel_patches) - log_mel(soxr_patches)).max():.4f}, "
                  f"taggram max |diff| {np.abs(ours['taggram'] - ref['taggram']).max():.2e}, "
                  f"penultimate max |diff| {np.abs(ours['penultimate'] - ref['penultimate']).max():.2e}")

            if name == "jazz00000":
                logmel = log_mel(mel)[:FEATURE_FRAMES].T.astype(np.float32)  # [96, FRAMES], band-major
                np.save(FEATURES_GOLDEN / "logmel_jazz00000_musicnn.npy", np.ascontiguousarray(logmel))
                meta = {"file": rel, "decoded_by": "musicrec decode --sr 16000", "sr": SR, "n_fft": N_FFT,
                        "hop_length": HOP, "n_mels": N_MELS, "fmin": 0.0, "fmax": FMAX, "top_db": None,
                        "log_scale": "musicnn", "n_frames": n_frames, "n_samples": len(y)}
                (FEATURES_GOLDEN / "logmel_jazz00000_musicnn.json").write_text(json.dumps(meta, indent=1) + "\n")

    print("done")


if __name__ == "__main__":
    main()
