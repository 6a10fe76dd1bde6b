#!/usr/bin/env python3
"""Golden files for crates/features: librosa's mel filterbanks and log-mels of real recordings.

Run by hand from the repository root (it is not part of CI):

    python3 scripts/golden/features.py [--data ../shared/data]

Pinned versions the committed files were made with: librosa==0.11.0, numpy==2.4.6, soundfile==0.14.0,
soxr==1.1.0 (librosa.load resamples with soxr_hq). The script refuses to run with another librosa.

Outputs in crates/features/tests/golden/ (kept small on purpose):
  fb_<preset>_index.npy    int64 [n_mels, 2]: first non-zero FFT bin and run length of each filter
  fb_<preset>_weights.npy  float32: the non-zero runs, concatenated (the script checks that every
                           other entry of the dense librosa filterbank is exactly zero)
  logmel_<name>.npy        float32 [n_mels, FRAMES]: the first FRAMES frames of the dB log-mel of the
                           whole file (top_db is applied over the whole file, so the Rust tests compute
                           the full file and compare this slice)
  logmel_<name>.json       the file, config, full frame count and decoded sample count used
"""

import argparse
import json
from pathlib import Path

import librosa
import numpy as np

assert librosa.__version__ == "0.11.0", f"golden files were made with librosa 0.11.0, not {librosa.__version__}"

FRAMES = 200
OUT = Path(__file__).resolve().parents[2] / "crates" / "features" / "tests" / "golden"

PRESETS = {
    "librosa": dict(sr=22050, n_fft=2048, hop_length=512, n_mels=128, fmin=0.0, fmax=None, top_db=80.0),
    "choi": dict(sr=12000, n_fft=512, hop_length=256, n_mels=96, fmin=0.0, fmax=None, top_db=80.0),
}

# name -> (file under the data folder, preset, sample rate override or None). librosa.load resamples
# to the config's rate unless the file is already at it.
LOGMELS = {
    # 16-bit WAV at its native 22 050 Hz: no resampling, the pure STFT/mel/dB path.
    "jazz00000_wav_librosa": ("gtzan-mini/jazz/jazz.00000.wav", "librosa", None),
    # 24-bit 48 kHz WAV read at its native rate (librosa preset with sr=48000): 24-bit input, no resampling.
    "sax48k_native_librosa": ("formats/sax-tenor-24bit-48k.wav", "librosa", 48000),
    # The same file resampled 48 kHz -> 22 050 Hz.
    "sax48k_librosa": ("formats/sax-tenor-24bit-48k.wav", "librosa", None),
    # MP3, 44.1 kHz mono -> 22 050 Hz.
    "jazzpiano_mp3_librosa": ("formats/bensound-thejazzpiano-mono.mp3", "librosa", None),
    # Ogg Vorbis, 44.1 kHz stereo -> mono -> 22 050 Hz.
    "vibe_ogg_librosa": ("formats/vibe-ace-kevin-macleod.ogg", "librosa", None),
    # The choi preset end to end: 22 050 Hz WAV resampled to 12 kHz.
    "jazz00000_wav_choi": ("gtzan-mini/jazz/jazz.00000.wav", "choi", None),
}


def log_mel(y, cfg):
    S = librosa.feature.melspectrogram(
        y=y, sr=cfg["sr"], n_fft=cfg["n_fft"], hop_length=cfg["hop_length"], n_mels=cfg["n_mels"],
        fmin=cfg["fmin"], fmax=cfg["fmax"],
    )
    return librosa.power_to_db(S, ref=1.0, amin=1e-10, top_db=cfg["top_db"]).astype(np.float32)


def write_filterbank(name, cfg):
    fb = librosa.filters.mel(sr=cfg["sr"], n_fft=cfg["n_fft"], n_mels=cfg["n_mels"], fmin=cfg["fmin"], fmax=cfg["fmax"])
    assert fb.dtype == np.float32
    index, runs = [], []
    for row in fb:
        nz = np.flatnonzero(row)
        first, last = (nz[0], nz[-1]) if len(nz) else (0, -1)
        run = row[first : last + 1]
        rebuilt = np.zeros_like(row)
        rebuilt[first : last + 1] = run
        assert np.array_equal(rebuilt, row)
        index.append((first, len(run)))
        runs.append(run)
    np.save(OUT / f"fb_{name}_index.npy", np.asarray(index, dtype=np.int64))
    np.save(OUT / f"fb_{name}_weights.npy", np.concatenate(runs).astype(np.float32))
    print(f"fb_{name}: {fb.shape}, {sum(i[1] for i in index)} non-zero weights")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / ".." / "shared" / "data")
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)

    for name, cfg in PRESETS.items():
        write_filterbank(name, cfg)

    for name, (rel, preset, sr) in LOGMELS.items():
        cfg = dict(PRESETS[preset])
        if sr is not None:
            cfg["sr"] = sr
        y, _ = librosa.load(args.data / rel, sr=cfg["sr"])
        mel = log_mel(y, cfg)
        np.save(OUT / f"logmel_{name}.npy", np.ascontiguousarray(mel[:, :FRAMES]))
        meta = dict(file=rel, preset=preset, config=cfg, n_frames=int(mel.shape[1]), n_samples=int(len(y)))
        (OUT / f"logmel_{name}.json").write_text(json.dumps(meta, indent=1) + "\n")
        print(f"logmel_{name}: {mel.shape} from {rel}")

    # The .au is the same recording as the GTZAN WAV: librosa must give the identical log-mel, so the
    # Rust .au test compares against logmel_jazz00000_wav_librosa instead of storing a copy.
    cfg = PRESETS["librosa"]
    au = log_mel(librosa.load(args.data / "formats/jazz.00000.au", sr=cfg["sr"])[0], cfg)
    wav = log_mel(librosa.load(args.data / "gtzan-mini/jazz/jazz.00000.wav", sr=cfg["sr"])[0], cfg)
    assert np.array_equal(au, wav), "librosa decodes jazz.00000.au and .wav differently"
    print("jazz.00000.au == jazz.00000.wav under librosa")


if __name__ == "__main__":
    main()
