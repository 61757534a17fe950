#!/usr/bin/python3
"""Independent plain-PyTorch reference of the EnCodec architecture (Vocodex).

This is Vocodex's own re-implementation of the EnCodec model family
(SEANet encoder/decoder + residual vector quantizer), written from the
published architecture description.  It is used to

  * produce the tiny test fixtures committed under
    java-api/src/test/resources/fixtures/ (see scripts/make_fixtures.py),
  * act as the PyTorch peer in benchmarks (scripts/bench_pytorch_encodec.py).

It is designed so that a state dict of the original implementation
(facebookresearch/encodec) loads into it unchanged: parameter and buffer
names are identical, e.g.

    encoder.model.0.conv.conv.weight_g / weight_v / bias     (norm='weight_norm')
    encoder.model.0.conv.conv.weight / bias                  (norm='none')
    encoder.model.1.block.1.conv.conv.*, encoder.model.1.shortcut.conv.conv.*
    encoder.model.13.lstm.weight_ih_l0 ...
    decoder.model.3.convtr.convtr.weight_g / weight_v / bias
    quantizer.vq.layers.{i}._codebook.{inited,cluster_size,embed,embed_avg}

Hyper-parameters use the original constructor argument names (see
DEFAULT_HPARAMS).  Only what inference needs is implemented (no training,
no k-means, no segmenting / overlap-add, no audio normalisation, ELU only,
norm in {'weight_norm', 'none'}).

Requires only torch and numpy (Debian's python3-torch works; run it with
/usr/bin/python3).  Contains a minimal safetensors reader/writer so that no
extra package is needed.
"""

from __future__ import annotations

import json
import math
import struct
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

# --------------------------------------------------------------------------
# Hyper-parameters
# --------------------------------------------------------------------------

#: Defaults = the released causal EnCodec 24 kHz model.
DEFAULT_HPARAMS: Dict[str, object] = {
    "sample_rate": 24000,
    "channels": 1,
    "dimension": 128,
    "n_filters": 32,
    "n_residual_layers": 1,
    "ratios": [8, 5, 4, 2],
    "activation": "ELU",
    "activation_params": {"alpha": 1.0},
    "norm": "weight_norm",
    "kernel_size": 7,
    "last_kernel_size": 7,
    "residual_kernel_size": 3,
    "dilation_base": 2,
    "causal": True,
    "pad_mode": "reflect",
    "true_skip": False,
    "compress": 2,
    "lstm": 2,
    "trim_right_ratio": 1.0,
    "n_q": 32,
    "bins": 1024,
    "target_bandwidths": [1.5, 3.0, 6.0, 12.0, 24.0],
}


def full_hparams(hp: Optional[Dict[str, object]] = None) -> Dict[str, object]:
    """Defaults overridden by ``hp``; unknown keys are rejected."""
    out = json.loads(json.dumps(DEFAULT_HPARAMS))
    for key, val in (hp or {}).items():
        if key not in out:
            raise KeyError(f"unknown EnCodec hyper-parameter {key!r}")
        out[key] = val
    if out["activation"] != "ELU":
        raise ValueError("only ELU activation is supported")
    if out["norm"] not in ("weight_norm", "none"):
        raise ValueError("norm must be 'weight_norm' or 'none'")
    return out


def hop_length(hp: Dict[str, object]) -> int:
    return int(np.prod(hp["ratios"]))


def frame_rate(hp: Dict[str, object]) -> int:
    # EnCodec rounds the frame rate UP (24000 / 320 = 75 exactly).
    return int(math.ceil(int(hp["sample_rate"]) / hop_length(hp)))


def n_q_for_bandwidth(hp: Dict[str, object], bandwidth: Optional[float]) -> int:
    """Number of codebooks used at ``bandwidth`` kbps (None/0: all of them).

    bits per codebook per second = log2(bins) * frame_rate;
    n_q = max(1, floor(bw * 1000 / that)), capped by the available n_q.
    """
    total = int(hp["n_q"])
    if not bandwidth or bandwidth <= 0:
        return total
    per_q = math.log2(int(hp["bins"])) * frame_rate(hp)
    return min(total, int(max(1, math.floor(bandwidth * 1000 / per_q))))


# --------------------------------------------------------------------------
# Padding helpers
# --------------------------------------------------------------------------

def _extra_right_padding(length: int, kernel: int, stride: int, pad_total: int) -> int:
    """Zeros/reflection to append so that the last conv window is complete."""
    span = length - kernel + pad_total
    frames = -(-span // stride) + 1           # ceil(span / stride) + 1
    wanted = (frames - 1) * stride + kernel - pad_total
    return wanted - length


def _pad(x: torch.Tensor, left: int, right: int, mode: str) -> torch.Tensor:
    """F.pad, but reflect padding also works when the signal is too short:
    zeros are appended first so that the reflection is defined, and they are
    cut off again afterwards."""
    if mode != "reflect":
        return F.pad(x, (left, right), mode="constant" if mode in ("zero", "constant") else mode)
    n = x.shape[-1]
    widest = max(left, right)
    grow = widest - n + 1 if n <= widest else 0
    if grow:
        x = F.pad(x, (0, grow))
    y = F.pad(x, (left, right), mode="reflect")
    return y[..., : y.shape[-1] - grow]


# --------------------------------------------------------------------------
# Layers (attribute names chosen so state dict keys match the original)
# --------------------------------------------------------------------------

def _maybe_weight_norm(module: nn.Module, norm: str) -> nn.Module:
    return nn.utils.weight_norm(module) if norm == "weight_norm" else module


class _ConvHolder(nn.Module):
    """Holds the raw conv as ``.conv`` (gives the ``conv.conv`` key level)."""

    def __init__(self, conv: nn.Module, norm: str):
        super().__init__()
        self.conv = _maybe_weight_norm(conv, norm)

    def forward(self, x):
        return self.conv(x)


class _ConvTrHolder(nn.Module):
    def __init__(self, convtr: nn.Module, norm: str):
        super().__init__()
        self.convtr = _maybe_weight_norm(convtr, norm)

    def forward(self, x):
        return self.convtr(x)


class PaddedConv1d(nn.Module):
    """1-D convolution with EnCodec's streaming-friendly padding.

    Total padding (k-1)*dilation - (stride-1); causal: all of it on the left,
    otherwise split with the larger half on the left.  Extra padding on the
    right completes the last window.  Output length = ceil(L / stride).
    """

    def __init__(self, cin: int, cout: int, kernel: int, stride: int = 1, dilation: int = 1,
                 causal: bool = False, norm: str = "none", pad_mode: str = "reflect"):
        super().__init__()
        self.conv = _ConvHolder(nn.Conv1d(cin, cout, kernel, stride, dilation=dilation), norm)
        self.kernel, self.stride, self.dilation = kernel, stride, dilation
        self.causal, self.pad_mode = causal, pad_mode

    def forward(self, x):
        eff_kernel = (self.kernel - 1) * self.dilation + 1
        total = eff_kernel - self.stride
        extra = _extra_right_padding(x.shape[-1], self.kernel, self.stride, total)
        if self.causal:
            left, right = total, 0
        else:
            right = total // 2
            left = total - right
        return self.conv(_pad(x, left, right + extra, self.pad_mode))


class PaddedConvTranspose1d(nn.Module):
    """Transposed conv whose k - stride overhang is trimmed.

    Causal: ceil((k-stride)*trim_right_ratio) trimmed on the right, the rest on
    the left; non-causal: larger half on the left.  Output = L * stride.
    """

    def __init__(self, cin: int, cout: int, kernel: int, stride: int = 1, causal: bool = False,
                 norm: str = "none", trim_right_ratio: float = 1.0):
        super().__init__()
        if not causal and trim_right_ratio != 1.0:
            raise ValueError("trim_right_ratio != 1 requires causal=True")
        self.convtr = _ConvTrHolder(nn.ConvTranspose1d(cin, cout, kernel, stride), norm)
        self.kernel, self.stride = kernel, stride
        self.causal, self.trim_right_ratio = causal, trim_right_ratio

    def forward(self, x):
        y = self.convtr(x)
        total = self.kernel - self.stride
        if self.causal:
            right = int(math.ceil(total * self.trim_right_ratio))
        else:
            right = total // 2
        left = total - right
        return y[..., left: y.shape[-1] - right]


class LSTMWithSkip(nn.Module):
    """Multi-layer unidirectional LSTM over time, added to its input.
    Works on [B, C, T]; the LSTM itself sees [T, B, C]."""

    def __init__(self, dim: int, num_layers: int):
        super().__init__()
        self.lstm = nn.LSTM(dim, dim, num_layers)

    def forward(self, x):
        seq = x.permute(2, 0, 1)
        out, _ = self.lstm(seq)
        return (out + seq).permute(1, 2, 0)


class ResidualUnit(nn.Module):
    """shortcut(x) + [act, conv(k, dilation) dim->dim/compress, act, conv1x1 ->dim](x)."""

    def __init__(self, dim: int, kernel: int, dilation: int, alpha: float, norm: str,
                 causal: bool, pad_mode: str, compress: int, true_skip: bool):
        super().__init__()
        hidden = dim // compress
        self.block = nn.Sequential(
            nn.ELU(alpha),
            PaddedConv1d(dim, hidden, kernel, dilation=dilation, causal=causal, norm=norm,
                         pad_mode=pad_mode),
            nn.ELU(alpha),
            PaddedConv1d(hidden, dim, 1, causal=causal, norm=norm, pad_mode=pad_mode),
        )
        if true_skip:
            self.shortcut = nn.Identity()
        else:
            self.shortcut = PaddedConv1d(dim, dim, 1, causal=causal, norm=norm, pad_mode=pad_mode)

    def forward(self, x):
        return self.shortcut(x) + self.block(x)


def _common(hp):
    return dict(norm=hp["norm"], causal=bool(hp["causal"]), pad_mode=hp["pad_mode"])


class Encoder(nn.Module):
    def __init__(self, hp: Dict[str, object]):
        super().__init__()
        c = _common(hp)
        alpha = float(hp["activation_params"]["alpha"])
        nf = int(hp["n_filters"])
        width = nf
        layers: List[nn.Module] = [PaddedConv1d(int(hp["channels"]), width, int(hp["kernel_size"]), **c)]
        for ratio in reversed(list(hp["ratios"])):          # encoder downsamples small ratios first
            for j in range(int(hp["n_residual_layers"])):
                layers.append(ResidualUnit(width, int(hp["residual_kernel_size"]),
                                           int(hp["dilation_base"]) ** j, alpha,
                                           compress=int(hp["compress"]), true_skip=bool(hp["true_skip"]), **c))
            layers.append(nn.ELU(alpha))
            layers.append(PaddedConv1d(width, width * 2, 2 * ratio, stride=ratio, **c))
            width *= 2
        if int(hp["lstm"]):
            layers.append(LSTMWithSkip(width, int(hp["lstm"])))
        layers.append(nn.ELU(alpha))
        layers.append(PaddedConv1d(width, int(hp["dimension"]), int(hp["last_kernel_size"]), **c))
        self.model = nn.Sequential(*layers)

    def forward(self, x):
        return self.model(x)


class Decoder(nn.Module):
    def __init__(self, hp: Dict[str, object]):
        super().__init__()
        c = _common(hp)
        alpha = float(hp["activation_params"]["alpha"])
        nf = int(hp["n_filters"])
        ratios = list(hp["ratios"])
        width = nf * (2 ** len(ratios))
        layers: List[nn.Module] = [PaddedConv1d(int(hp["dimension"]), width, int(hp["kernel_size"]), **c)]
        if int(hp["lstm"]):
            layers.append(LSTMWithSkip(width, int(hp["lstm"])))
        for ratio in ratios:
            layers.append(nn.ELU(alpha))
            layers.append(PaddedConvTranspose1d(width, width // 2, 2 * ratio, stride=ratio,
                                                causal=c["causal"], norm=c["norm"],
                                                trim_right_ratio=float(hp["trim_right_ratio"])))
            width //= 2
            for j in range(int(hp["n_residual_layers"])):
                layers.append(ResidualUnit(width, int(hp["residual_kernel_size"]),
                                           int(hp["dilation_base"]) ** j, alpha,
                                           compress=int(hp["compress"]), true_skip=bool(hp["true_skip"]), **c))
        layers.append(nn.ELU(alpha))
        layers.append(PaddedConv1d(nf, int(hp["channels"]), int(hp["last_kernel_size"]), **c))
        self.model = nn.Sequential(*layers)

    def forward(self, z):
        return self.model(z)


class Codebook(nn.Module):
    """Euclidean codebook; buffers named like the original's."""

    def __init__(self, dim: int, size: int):
        super().__init__()
        self.register_buffer("inited", torch.ones(1))
        self.register_buffer("cluster_size", torch.zeros(size))
        self.register_buffer("embed", torch.zeros(size, dim))
        self.register_buffer("embed_avg", torch.zeros(size, dim))

    def scores(self, x: torch.Tensor) -> torch.Tensor:
        """Negated squared distance, evaluated as -(|x|^2 - 2 x.E^T + |E|^2)
        in exactly that order (it decides fp32 ties the same way)."""
        e_t = self.embed.t()
        xx = x.pow(2).sum(1, keepdim=True)
        ee = e_t.pow(2).sum(0, keepdim=True)
        return -(xx - (2 * x) @ e_t + ee)

    def nearest(self, x: torch.Tensor) -> torch.Tensor:
        return self.scores(x).max(dim=-1).indices

    def lookup(self, idx: torch.Tensor) -> torch.Tensor:
        return F.embedding(idx, self.embed)


class _VQLayer(nn.Module):
    def __init__(self, dim: int, size: int):
        super().__init__()
        self._codebook = Codebook(dim, size)

    def encode(self, x_bdt: torch.Tensor) -> torch.Tensor:
        b, d, t = x_bdt.shape
        flat = x_bdt.transpose(1, 2).reshape(b * t, d)
        return self._codebook.nearest(flat).view(b, t)

    def decode(self, idx_bt: torch.Tensor) -> torch.Tensor:
        return self._codebook.lookup(idx_bt).transpose(1, 2)


class _RVQStack(nn.Module):
    def __init__(self, dim: int, size: int, n_q: int):
        super().__init__()
        self.layers = nn.ModuleList([_VQLayer(dim, size) for _ in range(n_q)])


class ResidualVQ(nn.Module):
    """Residual VQ.  Codes are [K, B, T] internally, like the original."""

    def __init__(self, dim: int, n_q: int, bins: int):
        super().__init__()
        self.n_q, self.bins, self.dimension = n_q, bins, dim
        self.vq = _RVQStack(dim, bins, n_q)

    def encode(self, x: torch.Tensor, n_q: int, with_margins: bool = False):
        residual = x
        codes, margins = [], []
        for layer in self.vq.layers[:n_q]:
            if with_margins:
                b, d, t = residual.shape
                s = layer._codebook.scores(residual.transpose(1, 2).reshape(b * t, d))
                top2 = s.topk(2, dim=-1).values
                margins.append((top2[:, 0] - top2[:, 1]).view(b, t))
            idx = layer.encode(residual)
            residual = residual - layer.decode(idx)
            codes.append(idx)
        codes_t = torch.stack(codes)
        if with_margins:
            return codes_t, torch.stack(margins)
        return codes_t

    def decode(self, codes_kbt: torch.Tensor) -> torch.Tensor:
        out = torch.tensor(0.0)
        for k in range(codes_kbt.shape[0]):
            out = out + self.vq.layers[k].decode(codes_kbt[k])
        return out


class EncodecReference(nn.Module):
    """Whole codec: ``encode`` (audio [B,C,N] -> codes [B,K,T]) and
    ``decode`` (codes -> audio [B,C,T*hop], not trimmed to N)."""

    def __init__(self, hp: Optional[Dict[str, object]] = None):
        super().__init__()
        self.hp = full_hparams(hp)
        hp = self.hp
        self.encoder = Encoder(hp)
        self.quantizer = ResidualVQ(int(hp["dimension"]), int(hp["n_q"]), int(hp["bins"]))
        self.decoder = Decoder(hp)
        bits = int(math.log2(int(hp["bins"])))
        if 2 ** bits != int(hp["bins"]):
            raise ValueError("bins must be a power of two")
        self.sample_rate = int(hp["sample_rate"])
        self.frame_rate = frame_rate(hp)
        self.hop_length = hop_length(hp)
        self.bandwidth: Optional[float] = None

    def set_target_bandwidth(self, bw: float) -> None:
        if bw not in self.hp["target_bandwidths"]:
            raise ValueError(f"bandwidth {bw} not in {self.hp['target_bandwidths']}")
        self.bandwidth = bw

    def num_codebooks(self, bw: Optional[float] = None) -> int:
        return n_q_for_bandwidth(self.hp, self.bandwidth if bw is None else bw)

    def encode(self, x: torch.Tensor, with_margins: bool = False):
        assert x.dim() == 3, "expected [B, C, N]"
        latent = self.encoder(x)
        res = self.quantizer.encode(latent, self.num_codebooks(), with_margins)
        if with_margins:
            codes, margins = res
            return codes.transpose(0, 1), margins.transpose(0, 1), latent
        return res.transpose(0, 1)

    def decode(self, codes_bkt: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.quantizer.decode(codes_bkt.transpose(0, 1)))

    def forward(self, x):
        return self.decode(self.encode(x))[..., : x.shape[-1]]


def build_model(hp: Optional[Dict[str, object]] = None,
                weights: Optional[Dict[str, torch.Tensor]] = None) -> EncodecReference:
    model = EncodecReference(hp)
    if weights is not None:
        model.load_state_dict(weights, strict=True)
    return model.eval()


# --------------------------------------------------------------------------
# Minimal safetensors I/O (8-byte LE header size, JSON header, raw LE data)
# --------------------------------------------------------------------------

_ST_DTYPES = {
    "F32": (np.float32, torch.float32), "F64": (np.float64, torch.float64),
    "F16": (np.float16, torch.float16), "I64": (np.int64, torch.int64),
    "I32": (np.int32, torch.int32), "I16": (np.int16, torch.int16),
    "I8": (np.int8, torch.int8), "U8": (np.uint8, torch.uint8),
    "BOOL": (np.bool_, torch.bool),
}


def read_safetensors(path: str) -> Tuple[Dict[str, torch.Tensor], Dict[str, str]]:
    with open(path, "rb") as f:
        blob = f.read()
    (hlen,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8: 8 + hlen].decode("utf-8"))
    meta = header.pop("__metadata__", {}) or {}
    base = 8 + hlen
    out: Dict[str, torch.Tensor] = OrderedDict()
    for name, info in header.items():
        np_dt, _ = _ST_DTYPES[info["dtype"]]
        b, e = info["data_offsets"]
        arr = np.frombuffer(blob, dtype=np.dtype(np_dt).newbyteorder("<"), count=(e - b) // np.dtype(np_dt).itemsize,
                            offset=base + b)
        out[name] = torch.from_numpy(arr.astype(np_dt).reshape(info["shape"]).copy())
    return out, meta


def write_safetensors(path: str, tensors: Dict[str, torch.Tensor],
                      metadata: Optional[Dict[str, str]] = None) -> None:
    rev = {tdt: name for name, (_, tdt) in _ST_DTYPES.items()}
    header: Dict[str, object] = OrderedDict()
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    chunks, offset = [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().cpu().contiguous()
        arr = t.numpy()
        data = arr.astype(arr.dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": rev[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    hbytes = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hbytes += b" " * ((8 - len(hbytes) % 8) % 8)          # align data to 8 bytes
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hbytes)))
        f.write(hbytes)
        for c in chunks:
            f.write(c)


def load_model(weights_path: str, hparams_path: Optional[str] = None,
               hp: Optional[Dict[str, object]] = None) -> EncodecReference:
    if hparams_path:
        with open(hparams_path) as f:
            hp = json.load(f)
    weights, _ = read_safetensors(weights_path)
    return build_model(hp, weights)


# --------------------------------------------------------------------------
# Random weights
# --------------------------------------------------------------------------

def randomize_(model: EncodecReference, seed: int, codebook_scale: float = 0.5,
               codebook_decay: float = 1.0, weight_gain: float = 1.0) -> None:
    """Deterministic random weights drawn from ``torch.Generator().manual_seed(seed)``
    in state-dict order: weight_v / plain weights U(+-weight_gain/sqrt(fan_in)),
    weight_g U(0.5, 1.5) (so the gain differs from ||v||), LSTM tensors
    U(+-1/sqrt(hidden)), conv biases U(+-0.05); codebook k is
    N(0, (codebook_scale * codebook_decay**k)^2) with embed_avg = embed,
    cluster_size = 1, inited = 1 (an untrained original leaves them zero)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("weight_g"):
                p.copy_(torch.rand(p.shape, generator=g) + 0.5)
            elif name.endswith("weight_v") or name.endswith(".weight"):
                fan_in = p[0].numel() if p.dim() > 1 else 1
                bound = weight_gain / math.sqrt(fan_in)
                p.copy_((torch.rand(p.shape, generator=g) * 2 - 1) * bound)
            elif "lstm" in name:
                bound = 1.0 / math.sqrt(p.shape[0] // 4)   # torch's LSTM init: 1/sqrt(hidden)
                p.copy_((torch.rand(p.shape, generator=g) * 2 - 1) * bound)
            else:  # conv biases
                p.copy_((torch.rand(p.shape, generator=g) * 2 - 1) * 0.05)
        for k, layer in enumerate(model.quantizer.vq.layers):
            cb = layer._codebook
            scale = codebook_scale * codebook_decay ** k
            cb.embed.copy_(torch.randn(cb.embed.shape, generator=g) * scale)
            cb.embed_avg.copy_(cb.embed)
            cb.cluster_size.fill_(1.0)
            cb.inited.fill_(1.0)


def fit_codebooks_(model: EncodecReference, latent: torch.Tensor, seed: int) -> None:
    """Give the codebooks a realistic spread for random weights: codebook k =
    per-dimension mean + std * N(0,1) of the residual (frames of ``latent``,
    [B, D, T]) entering stage k, drawn from torch.Generator().manual_seed(seed);
    the residual is then quantized with it before fitting stage k+1.
    embed_avg = embed, cluster_size = 1, inited = 1."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        residual = latent
        for layer in model.quantizer.vq.layers:
            cb = layer._codebook
            frames = residual.transpose(1, 2).reshape(-1, residual.shape[1])
            mu, sd = frames.mean(0), frames.std(0)
            cb.embed.copy_(mu + sd * torch.randn(cb.embed.shape, generator=g))
            cb.embed_avg.copy_(cb.embed)
            cb.cluster_size.fill_(1.0)
            cb.inited.fill_(1.0)
            residual = residual - layer.decode(layer.encode(residual))


def state_dict_f32(model: nn.Module) -> Dict[str, torch.Tensor]:
    return OrderedDict((k, v.detach().to(torch.float32).contiguous()) for k, v in model.state_dict().items())
