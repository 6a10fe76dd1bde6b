#!/usr/bin/env python3
"""Converts the MusiCNN TensorFlow checkpoints shipped in the `musicnn` wheel to SafeTensors.

Run by hand from the repository root (not part of CI), in a venv with the reference packages:

    python3 -m venv /work/venv-musicnn
    /work/venv-musicnn/bin/pip install tensorflow-cpu tf-keras librosa soundfile safetensors numpy
    /work/venv-musicnn/bin/pip install --no-deps musicnn      # its numpy pin is ancient: ignore it
    /work/venv-musicnn/bin/python scripts/convert/musicnn.py

Versions the committed files were made with: musicnn 0.1.0, tensorflow-cpu 2.21.0, numpy 2.4.6,
safetensors 0.8.0.

Writes models/musicnn-msd/ and models/musicnn-mtt/, each with
  weights.safetensors  the 64 model variables of the checkpoint, float32, under their TensorFlow names
                       and in TensorFlow's layouts (Adam slots and beta1/2_power dropped):
                         conv2d/kernel    [7, 38, 1, 204]   timbral 7x38 (HWIO: time, mel, in, out)
                         conv2d_1/kernel  [7, 67, 1, 204]   timbral 7x67
                         conv2d_2/kernel  [128, 1, 1, 51]   temporal 128 (TF 'same' padding)
                         conv2d_3/kernel  [64, 1, 1, 51]    temporal 64
                         conv2d_4/kernel  [32, 1, 1, 51]    temporal 32
                         conv2d_5/kernel  [7, 561, 1, 64]   mid-end 1 (the kernel spans all 561 channels)
                         conv2d_6/kernel  [7, 64, 1, 64]    mid-end 2 (residual)
                         conv2d_7/kernel  [7, 64, 1, 64]    mid-end 3 (residual)
                         conv2d*/bias     [out]
                         dense/kernel     [1506, 200], dense/bias [200]   (x @ kernel + bias)
                         dense_1/kernel   [200, 50], dense_1/bias [50]    (the tag layer)
                         batch_normalization{,_1.._10}/{gamma,beta,moving_mean,moving_variance}:
                           _ (input, 1), _1/_2 (timbral, 204), _3.._5 (temporal, 51), _6.._8 (mid-end, 64),
                           _9 (pooled features, 1506), _10 (penultimate, 200); epsilon 1e-3
                       crates/model/src/musicnn.rs reads exactly these names and shapes.
  config.json          arch, variant, the mel preset, patch length and the 50 tag names in output order
  LICENSE              musicnn's ISC licence (copied from the wheel's LICENSE.md)
  MODEL.md             the model card, with attribution
"""

import argparse
import hashlib
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# This file is called musicnn.py too: keep its folder off the path so `import musicnn` finds the package.
sys.path = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import musicnn  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from musicnn import configuration  # noqa: E402
from safetensors.numpy import save_file  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = Path(musicnn.__file__).parent

VARIANTS = {
    "msd": dict(model="MSD_musicnn", labels=configuration.MSD_LABELS,
                data="the Million Song Dataset (audio previews with the 50 most frequent last.fm tags)"),
    "mtt": dict(model="MTT_musicnn", labels=configuration.MTT_LABELS,
                data="MagnaTagATune (the 50 most frequent tags)"),
}

N_MODEL_VARIABLES = 64
N_PARAMETERS = 792_079


def licence_text():
    dist = next(PACKAGE.parent.glob("musicnn-*.dist-info"))
    return (dist / "LICENSE.md").read_text()


def read_checkpoint(model):
    # The wheel's `checkpoint` file points at a path on the author's machine: open the prefix directly.
    reader = tf.compat.v1.train.NewCheckpointReader(str(PACKAGE / model) + "/")
    shapes = reader.get_variable_to_shape_map()
    names = sorted(n for n in shapes if "Adam" not in n and not n.endswith("_power"))
    tensors = {n: np.ascontiguousarray(reader.get_tensor(n), dtype=np.float32) for n in names}
    assert len(tensors) == N_MODEL_VARIABLES, f"{model}: {len(tensors)} model variables"
    total = sum(t.size for t in tensors.values())
    assert total == N_PARAMETERS, f"{model}: {total} parameters"
    return tensors


def model_card(key, spec, digest):
    return f"""# MusiCNN ({spec['model']}), converted for musicrec

The `{spec['model']}` network of [musicnn](https://github.com/jordipons/musicnn) 0.1.0 (Jordi Pons and Xavier
Serra, "musicnn: pre-trained convolutional neural networks for music audio tagging", ISMIR 2019 late-breaking
demo; Pons et al., "End-to-end learning for music audio tagging at scale", ISMIR 2018), trained on
{spec['data']}. Weights © Music Technology Group, Universitat Pompeu Fabra 2019, under the ISC licence in
`LICENSE` beside this file, which must stay with the weights.

- `weights.safetensors`: the checkpoint's 64 model variables ({N_PARAMETERS:,} float32 values), unchanged, under
  their TensorFlow names and layouts (Adam optimiser state dropped); SHA-256 of the
  file `{digest}`. Converted by `scripts/convert/musicnn.py` from the checkpoint inside the `musicnn`
  0.1.0 wheel (PyPI).
- Input: 187-frame (3 s) patches of the `musicnn` log-mel preset: 16 kHz, `n_fft` 512, hop 256, 96 Slaney mels
  0–8000 Hz, `log10(1 + 10000 · mel)` of the float16-rounded mel power.
- Outputs per patch: 50 tag probabilities (`config.json` lists them in order), the 200-d penultimate layer,
  and max/mean temporal pooling of the 753 front-end and mid-end channels.
- Parity: `crates/model/tests/musicnn_parity.rs` runs the Burn port (`crates/model/src/musicnn.rs`) on
  log-mel patches of real clips and matches TensorFlow 2.21 running musicnn's own graph on the same patches
  (golden files from `scripts/golden/musicnn.py`).
- Intended use: music auto-tagging and as a pretrained backbone (embeddings, heads trained on its features).
  Its tags reflect the training data's (last.fm / MagnaTagATune) vocabulary and biases; the variant
  `{key}` is {'the stronger backbone in musicrec measurements' if key == 'msd' else 'weaker than MSD as a genre backbone in musicrec measurements'}.
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "models")
    args = parser.parse_args()
    licence = licence_text()
    assert "ISC" in licence or "Permission to use, copy, modify, and/or distribute" in licence
    for key, spec in VARIANTS.items():
        out = args.out / f"musicnn-{key}"
        out.mkdir(parents=True, exist_ok=True)
        tensors = read_checkpoint(spec["model"])
        weights = out / "weights.safetensors"
        save_file(tensors, str(weights), metadata={"source": f"musicnn 0.1.0 {spec['model']} checkpoint",
                                                   "layout": "tensorflow"})
        weights.chmod(0o644)
        digest = hashlib.sha256(weights.read_bytes()).hexdigest()
        assert len(spec["labels"]) == 50
        config = {
            "format": "musicrec-backbone",
            "format_version": 1,
            "arch": "musicnn",
            "variant": key,
            "source_model": spec["model"],
            "source": "musicnn 0.1.0 (PyPI), ISC licence, (c) Music Technology Group, Universitat Pompeu Fabra 2019",
            "preset": "musicnn",
            "patch_frames": 187,
            "tags": list(spec["labels"]),
            "weights_sha256": digest,
        }
        (out / "config.json").write_text(json.dumps(config, indent=2) + "\n")
        (out / "LICENSE").write_text(licence if licence.endswith("\n") else licence + "\n")
        (out / "MODEL.md").write_text(model_card(key, spec, digest))
        print(f"{out}: {len(tensors)} tensors, {weights.stat().st_size} bytes, sha256 {digest[:16]}")


if __name__ == "__main__":
    main()
