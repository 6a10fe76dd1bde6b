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

Second set (PAIRS): every common rate pair, judged where it matters, on the log-mel. For each
(from, to) a 0.5 s excerpt at `from` (real 44.1 and 48 kHz recordings; the 22.05 kHz GTZAN clip
labelled as 8, 11.025, 16 or 22.05 kHz for the other rates) is resampled by librosa (soxr_hq)
and turned into librosa's log-mel with the front end used at `to` (22.05 kHz: the `librosa`
preset; 12 kHz: `choi`; 16 kHz: musicnn's STFT, 512/256, 96 mels, dB as the other presets).
Stored as float32 .npy `[n_mels][n_frames]` (a few KB each): resample_logmel_<from>_to_<to>.npy.
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


# (rate the excerpt is labelled with, file, start sample); the excerpt is rate // 2 samples.
SOURCES = {
    8_000: ("gtzan-mini/jazz/jazz.00000.wav", 22_050),
    11_025: ("gtzan-mini/jazz/jazz.00000.wav", 22_050),
    16_000: ("gtzan-mini/jazz/jazz.00000.wav", 22_050),
    22_050: ("gtzan-mini/jazz/jazz.00000.wav", 22_050),
    44_100: ("formats/dubstep.wav", 44_100),
    48_000: ("formats/sax-tenor-24bit-48k.wav", 48_000),
}
# target rate -> (n_fft, hop_length, n_mels)
FRONT_ENDS = {22_050: (2048, 512, 128), 12_000: (512, 256, 96), 16_000: (512, 256, 96)}
PAIRS = [(a, b) for b in FRONT_ENDS for a in SOURCES if a != b] + [(12_000, 22_050), (22_050, 44_100)]


def source_excerpt(data: Path, rate: int) -> np.ndarray:
    file, start = SOURCES[rate] if rate in SOURCES else SOURCES[22_050]
    y, _ = sf.read(data / file, dtype="float32", always_2d=True)
    y = librosa.to_mono(y.T)
    return np.ascontiguousarray(y[start : start + rate // 2])


def log_mel(y: np.ndarray, sr: int) -> np.ndarray:
    n_fft, hop, n_mels = FRONT_ENDS.get(sr, FRONT_ENDS[22_050])
    S = librosa.feature.melspectrogram(y=y, sr=sr, n_fft=n_fft, hop_length=hop, n_mels=n_mels)
    return librosa.power_to_db(S, ref=1.0, amin=1e-10, top_db=80.0).astype(np.float32)


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
    for a, b in PAIRS:
        x = source_excerpt(Path(args.data), a)
        y = librosa.resample(x, orig_sr=a, target_sr=b, res_type="soxr_hq")
        mel = log_mel(y, b)
        np.save(out_dir / f"resample_logmel_{a}_to_{b}.npy", mel)
        print(f"{a} -> {b}: {len(x)} -> {len(y)} samples, log-mel {mel.shape}")


if __name__ == "__main__":
    main()
