#!/usr/bin/env python3
"""Golden files for crates/audio resampling: librosa.resample(..., res_type="soxr_hq").

Run by hand from the repository root (not part of CI):

    python3 scripts/golden/resample.py [--data ../shared/data]

Pinned versions the committed files were made with: librosa==0.11.0, numpy==2.4.6,
soundfile==0.14.0, soxr==1.1.0. The script refuses to run with another librosa or soxr.

Each case takes a 0.5 s excerpt of a lossless file in shared/data (decoded with soundfile,
channels averaged as librosa.to_mono does, float32), resamples it with librosa's default
resampler and writes the output as a mono 32-bit float WAV to crates/audio/tests/golden/.
The Rust test decodes the same excerpt itself, resamples it with musicrec_audio::resample and
compares. The 16 kHz case reuses 22.05 kHz samples labelled as 16 kHz: only the numbers matter.
"""

import argparse
from pathlib import Path

import librosa
import numpy as np
import soundfile as sf
import soxr

assert librosa.__version__ == "0.11.0", f"made with librosa 0.11.0, not {librosa.__version__}"
assert soxr.__version__ == "1.1.0", f"made with soxr 1.1.0, not {soxr.__version__}"

# name, source file, start sample, rate the samples are taken at, target rate
CASES = [
    ("dubstep_44100_to_22050", "formats/dubstep.wav", 44_100, 44_100, 22_050),
    ("sax_48000_to_22050", "formats/sax-tenor-24bit-48k.wav", 48_000, 48_000, 22_050),
    ("jazz_as_16000_to_22050", "gtzan-mini/jazz/jazz.00000.wav", 22_050, 16_000, 22_050),
    ("jazz_22050_to_44100", "gtzan-mini/jazz/jazz.00000.wav", 22_050, 22_050, 44_100),
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default="../shared/data")
    args = parser.parse_args()
    out_dir = Path(__file__).resolve().parents[2] / "crates/audio/tests/golden"
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, file, start, rate, target in CASES:
        y, _ = sf.read(Path(args.data) / file, dtype="float32", always_2d=True)
        y = librosa.to_mono(y.T)
        excerpt = np.ascontiguousarray(y[start : start + rate // 2])
        out = librosa.resample(excerpt, orig_sr=rate, target_sr=target, res_type="soxr_hq")
        assert out.dtype == np.float32
        sf.write(out_dir / f"resample_{name}.wav", out, target, subtype="FLOAT")
        print(f"{name}: {len(excerpt)} -> {len(out)} samples")


if __name__ == "__main__":
    main()
