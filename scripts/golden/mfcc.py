#!/usr/bin/env python3
"""Golden files for crates/features' MFCCs: librosa.feature.mfcc on a stored dB log-mel.

Run by hand from the repository root (it is not part of CI):

    python3 scripts/golden/mfcc.py [--data ../shared/data]

Pinned versions the committed files were made with: librosa==0.11.0, numpy==2.4.6, scipy==1.17.1 (librosa's
dependency; its DCT-II with norm='ortho' is the reference), soundfile==0.14.0.

Outputs in crates/features/tests/golden/ (small on purpose):
  mfcc_input_logmel.npy   float32 [128, 64]: dB log-mel (librosa defaults: sr 22050, n_fft 2048,
                          hop 512, 128 mels, power_to_db ref=1.0, top_db=80) of the first 64 frames
                          of gtzan-mini/jazz/jazz.00000.wav
  mfcc_expected.npy       float32 [20, 64]: librosa.feature.mfcc(S=input, n_mfcc=20), computed in
                          float64 from the stored float32 input (so the Rust side sees the same input)
  mfcc_summary_expected.npy float32 [40]: per-coefficient mean then population std (numpy default
                          ddof=0) over frames: 20 means followed by 20 stds
"""

import argparse
from pathlib import Path

import librosa
import numpy as np

assert librosa.__version__ == "0.11.0", f"golden files were made with librosa 0.11.0, not {librosa.__version__}"

FRAMES = 64
N_MFCC = 20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--out", type=Path, default=Path("crates/features/tests/golden"))
    args = parser.parse_args()

    y, sr = librosa.load(args.data / "gtzan-mini/jazz/jazz.00000.wav", sr=22050)
    mel = librosa.feature.melspectrogram(y=y, sr=sr, n_fft=2048, hop_length=512, n_mels=128)
    log_mel = librosa.power_to_db(mel, ref=1.0, amin=1e-10, top_db=80.0)
    log_mel = np.ascontiguousarray(log_mel[:, :FRAMES]).astype(np.float32)

    mfcc = librosa.feature.mfcc(S=log_mel.astype(np.float64), n_mfcc=N_MFCC)
    summary = np.concatenate([mfcc.mean(axis=1), mfcc.std(axis=1)])

    args.out.mkdir(parents=True, exist_ok=True)
    np.save(args.out / "mfcc_input_logmel.npy", log_mel)
    np.save(args.out / "mfcc_expected.npy", mfcc.astype(np.float32))
    np.save(args.out / "mfcc_summary_expected.npy", summary.astype(np.float32))
    print("mfcc", mfcc.shape, "range", float(mfcc.min()), float(mfcc.max()))


if __name__ == "__main__":
    main()
