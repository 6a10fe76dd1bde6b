"""PyTorch twins of musicrec-model's CNN and CRNN, and the golden files its parity test reads.

The Rust models (crates/model) and these must stay layer-for-layer identical:
  ConvBlock: Conv2d 3x3 (stride 1, padding 1, no bias) -> BatchNorm2d -> ReLU
             -> MaxPool2d(kernel = stride = (f, t), floor) -> Dropout
  Crnn: BatchNorm1d over mel bins -> zero-pad time symmetrically to a multiple of the
        time-pool product -> conv blocks -> [B, T', C] -> nn.GRU (num_layers) -> last step
        (= embedding) -> Dropout -> Linear
  Cnn:  conv blocks -> max over time (= embedding) -> Linear
Frequency pools are passed explicitly here (the Rust side derives them from n_mels; the
parity test therefore also checks that derivation for 96 and 128 mels).

Weights are written with Burn's tensor names and layouts (see `burn_state`): BatchNorm
weight/bias -> gamma/beta, Linear weight transposed to [in, out], and each GRU layer's packed
PyTorch weights (rows in r, z, n order) split into Burn's reset/update/new gate controllers.

Run from the repo root (pinned in scripts/golden/requirements-models.txt):
    python scripts/golden/models.py
It rewrites crates/model/tests/golden/*.safetensors (a few tens of kB in total).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import save_file
from torch import nn

GOLDEN_DIR = Path(__file__).resolve().parents[2] / "crates" / "model" / "tests" / "golden"


class ConvBlock(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, pool: tuple[int, int], dropout: float):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, 3, stride=1, padding=1, bias=False)
        self.norm = nn.BatchNorm2d(out_channels)
        self.pool = nn.MaxPool2d(pool, stride=pool)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.pool(torch.relu(self.norm(self.conv(x)))))


def conv_blocks(filters, frequency_pools, time_pools, dropout) -> nn.ModuleList:
    blocks, in_channels = [], 1
    for out_channels, f, t in zip(filters, frequency_pools, time_pools, strict=True):
        blocks.append(ConvBlock(in_channels, out_channels, (f, t), dropout))
        in_channels = out_channels
    return nn.ModuleList(blocks)


class Crnn(nn.Module):
    """Choi et al. 2017 CRNN; defaults are the 0.5M-parameter model on 96 mels."""

    def __init__(
        self,
        n_genres: int,
        n_mels: int = 96,
        filters=(68, 137, 137, 137),
        time_pools=(2, 3, 4, 4),
        frequency_pools=(2, 3, 4, 4),
        block_dropout: float = 0.1,
        gru_hidden: int = 68,
        gru_layers: int = 2,
        final_dropout: float = 0.3,
    ):
        super().__init__()
        assert math.prod(frequency_pools) == n_mels
        self.input_norm = nn.BatchNorm1d(n_mels)
        self.blocks = conv_blocks(filters, frequency_pools, time_pools, block_dropout)
        self.gru = nn.GRU(filters[-1], gru_hidden, num_layers=gru_layers, batch_first=True)
        self.final_dropout = nn.Dropout(final_dropout)
        self.classifier = nn.Linear(gru_hidden, n_genres)
        self.time_pool_product = math.prod(time_pools)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        frames = x.shape[-1]
        x = self.input_norm(x[:, 0]).unsqueeze(1)
        padded = -(-frames // self.time_pool_product) * self.time_pool_product
        before = (padded - frames) // 2
        x = F.pad(x, (before, padded - frames - before))
        for block in self.blocks:
            x = block(x)
        sequence, _ = self.gru(x.squeeze(2).transpose(1, 2))
        return sequence[:, -1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.final_dropout(self.embed(x)))


class Cnn(nn.Module):
    """5 conv blocks, global max over time, dense; defaults as in crates/model/src/cnn.rs."""

    def __init__(
        self,
        n_genres: int,
        n_mels: int = 96,
        filters=(40, 80, 112, 144, 176),
        time_pools=(4, 4, 2, 2, 2),
        frequency_pools=(2, 2, 2, 3, 4),
        block_dropout: float = 0.0,
    ):
        super().__init__()
        assert math.prod(frequency_pools) == n_mels
        self.blocks = conv_blocks(filters, frequency_pools, time_pools, block_dropout)
        self.classifier = nn.Linear(filters[-1], n_genres)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.blocks:
            x = block(x)
        return x.amax(dim=(2, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.embed(x))


GATES = ("reset_gate", "update_gate", "new_gate")  # PyTorch's packed row order: r, z, n


def gru_state(gru: nn.GRU, layer: int, prefix: str) -> dict[str, torch.Tensor]:
    """One PyTorch GRU layer as Burn `Gru` tensors (Linear weights are [in, out] in Burn)."""
    out = {}
    for kind, transform in (("ih", "input_transform"), ("hh", "hidden_transform")):
        weights = getattr(gru, f"weight_{kind}_l{layer}").chunk(3, dim=0)
        biases = getattr(gru, f"bias_{kind}_l{layer}").chunk(3, dim=0)
        for gate, w, b in zip(GATES, weights, biases, strict=True):
            out[f"{prefix}{gate}.{transform}.weight"] = w.T
            out[f"{prefix}{gate}.{transform}.bias"] = b
    return out


def burn_state(model: nn.Module) -> dict[str, torch.Tensor]:
    out: dict[str, torch.Tensor] = {}
    for name, module in model.named_modules():
        prefix = f"{name}." if name else ""
        if isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
            out[prefix + "gamma"] = module.weight
            out[prefix + "beta"] = module.bias
            out[prefix + "running_mean"] = module.running_mean
            out[prefix + "running_var"] = module.running_var
        elif isinstance(module, nn.Conv2d):
            out[prefix + "weight"] = module.weight
        elif isinstance(module, nn.Linear):
            out[prefix + "weight"] = module.weight.T
            out[prefix + "bias"] = module.bias
        elif isinstance(module, nn.GRU):
            # Burn keeps one `Gru` per layer in `grus`; a standalone GRU has no prefix.
            for layer in range(module.num_layers):
                layer_prefix = f"grus.{layer}." if name else ""
                out.update(gru_state(module, layer, layer_prefix))
    # clone: the train-mode pass below updates the running stats in place.
    return {k: v.detach().float().contiguous().clone() for k, v in out.items()}


def randomise_batch_norms(model: nn.Module, generator: torch.Generator) -> None:
    """Non-trivial affine parameters and running statistics, so eval mode is really tested."""

    def uniform(t: torch.Tensor, low: float, high: float) -> None:
        t.copy_(torch.rand(t.shape, generator=generator) * (high - low) + low)

    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
                uniform(module.weight, 0.5, 1.5)
                uniform(module.bias, -0.3, 0.3)
                uniform(module.running_mean, -0.5, 0.5)
                uniform(module.running_var, 0.5, 2.0)


def write_case(name: str, model: nn.Module, config: dict, input_shape, generator) -> None:
    randomise_batch_norms(model, generator)
    x = torch.randn(input_shape, generator=generator)
    model.eval()
    with torch.no_grad():
        io = {"input": x, "logits": model(x), "embedding": model.embed(x)}
    weights = burn_state(model)
    # Train mode on a model without dropout: batch statistics and the running-stat update
    # (biased variance to normalise, unbiased for the running estimate) must match too.
    if all(m.p == 0.0 for m in model.modules() if isinstance(m, nn.Dropout)):
        # Values per channel each batch norm averages over: Burn's running_var update uses
        # the biased batch variance, PyTorch's the unbiased one (x n / (n - 1)); the Rust
        # test needs n to convert one into the other.
        counts = {}
        hooks = [
            m.register_forward_pre_hook(
                lambda mod, args, key=key: counts.__setitem__(key, args[0].numel() // mod.num_features)
            )
            for key, m in model.named_modules()
            if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d))
        ]
        model.train()
        with torch.no_grad():
            io["train_logits"] = model(x)
        for hook in hooks:
            hook.remove()
        for key, count in counts.items():
            io[f"batch_count.{key}"] = torch.tensor([float(count)])
        for key, value in burn_state(model).items():
            if key.endswith(("running_mean", "running_var")):
                io[f"after_train.{key}"] = value
        model.eval()
    meta = {"config": json.dumps(config), "torch": torch.__version__}
    save_file(weights, GOLDEN_DIR / f"{name}.weights.safetensors", metadata=meta)
    save_file({k: v.contiguous() for k, v in io.items()}, GOLDEN_DIR / f"{name}.io.safetensors")
    print(f"{name}: {sum(v.numel() for v in weights.values())} weights, input {list(input_shape)}")


def write_gru_case(generator) -> None:
    """One torch.nn.GRU layer alone, from a zero and from a given initial state."""
    gru = nn.GRU(5, 6, num_layers=1, batch_first=True)
    with torch.no_grad():
        for p in gru.parameters():
            p.copy_(torch.rand(p.shape, generator=generator) * 1.6 - 0.8)
    x = torch.randn(2, 7, 5, generator=generator)
    h0 = torch.randn(1, 2, 6, generator=generator)
    with torch.no_grad():
        out_zero, _ = gru(x)
        out_h0, _ = gru(x, h0)
    save_file(burn_state(gru), GOLDEN_DIR / "gru_single.weights.safetensors")
    io = {"input": x, "h0": h0[0], "output_zero_state": out_zero, "output_h0": out_h0}
    save_file({k: v.contiguous() for k, v in io.items()}, GOLDEN_DIR / "gru_single.io.safetensors")
    print("gru_single: d_input 5, d_hidden 6, input [2, 7, 5]")


def main() -> None:
    torch.manual_seed(0)
    generator = torch.Generator().manual_seed(20240917)
    GOLDEN_DIR.mkdir(parents=True, exist_ok=True)
    write_gru_case(generator)

    small_crnn = dict(filters=(4, 8, 8, 8), gru_hidden=6, gru_layers=2, n_genres=3)
    for n_mels, pools, frames in ((96, (2, 3, 4, 4), 301), (128, (2, 4, 4, 4), 200)):
        config = dict(small_crnn, n_mels=n_mels, frequency_pools=pools)
        write_case(f"crnn_small_{n_mels}", Crnn(**config), config, (2, 1, n_mels, frames), generator)

    small_cnn = dict(filters=(4, 8, 8, 8, 8), n_genres=3)
    for n_mels, pools, frames in ((96, (2, 2, 2, 3, 4), 200), (128, (2, 2, 2, 4, 4), 170)):
        config = dict(small_cnn, n_mels=n_mels, frequency_pools=pools)
        write_case(f"cnn_small_{n_mels}", Cnn(**config), config, (2, 1, n_mels, frames), generator)


if __name__ == "__main__":
    main()
