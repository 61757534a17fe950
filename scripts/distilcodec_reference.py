"""Vocodex's own plain-PyTorch implementation of DistilCodec inference (encode and decode).

Written from the architecture description (log-mel front end, ConvNeXt encoder, grouped residual
VQ with projections, HiFi-GAN generator) in functional form over a state dict with the original
tensor names (``encoder.*``, ``quantizer.*``, ``generator.*``; weight norm as
``parametrizations.weight.original0/1`` or ``weight_g/weight_v``). It needs only torch and numpy
(no torchaudio): the Slaney mel filterbank is computed here.

Used by make_distilcodec_fixtures.py, which first checks it against the golden outputs of the
original implementation, then writes the Java test fixtures.
"""
from __future__ import annotations

import math
from typing import Dict, List

import numpy as np
import torch
import torch.nn.functional as F

LN_EPS = 1e-6


def hz_to_mel(f: float) -> float:
    f_sp = 200.0 / 3
    if f >= 1000.0:
        return 1000.0 / f_sp + math.log(f / 1000.0) / (math.log(6.4) / 27.0)
    return f / f_sp


def mel_to_hz(m: np.ndarray) -> np.ndarray:
    f_sp = 200.0 / 3
    min_log_mel = 1000.0 / f_sp
    step = math.log(6.4) / 27.0
    return np.where(m >= min_log_mel, 1000.0 * np.exp(step * (m - min_log_mel)), f_sp * m)


def mel_filterbank(n_freqs: int, f_min: float, f_max: float, n_mels: int, sr: int) -> torch.Tensor:
    """Slaney-scale, Slaney-normalised triangular filters, [n_freqs, n_mels], computed in float64."""
    freqs = np.linspace(0, sr // 2, n_freqs)
    pts = mel_to_hz(np.linspace(hz_to_mel(f_min), hz_to_mel(f_max), n_mels + 2))
    fb = np.zeros((n_freqs, n_mels))
    for m in range(n_mels):
        down = (freqs - pts[m]) / (pts[m + 1] - pts[m])
        up = (pts[m + 2] - freqs) / (pts[m + 2] - pts[m + 1])
        fb[:, m] = np.maximum(0, np.minimum(down, up)) * (2.0 / (pts[m + 2] - pts[m]))
    return torch.from_numpy(fb).float()


def log_mel(cfg: dict, x: torch.Tensor) -> torch.Tensor:
    """x: [n] float32 raw audio -> [n_mels, T]; one leading zero sample as the original encode path."""
    s = cfg["spec_transform"]
    n_fft, hop, win = s["n_fft"], s["hop_size"], s["win_size"]
    y = torch.cat([torch.zeros(1), x])[None, None]
    y = F.pad(y, ((win - hop) // 2, (win - hop + 1) // 2), mode="reflect")[0]
    spec = torch.stft(y, n_fft, hop_length=hop, win_length=win, window=torch.hann_window(win), center=False,
                      onesided=True, return_complex=True)
    mag = torch.sqrt(torch.view_as_real(spec).pow(2).sum(-1) + 1e-6)[0]  # [freqs, T]
    fmax = s["fmax"] if s.get("fmax") is not None else s["sampling_rate"] // 2
    fb = mel_filterbank(n_fft // 2 + 1, s.get("fmin", 0) or 0, fmax, s["num_mels"], s["sampling_rate"])
    return torch.log(torch.clamp(fb.T @ mag, min=1e-5))


def _w(sd: Dict[str, torch.Tensor], p: str) -> torch.Tensor:
    """Effective weight of module p (weight norm folded, norm over all dims but 0)."""
    if p + ".weight" in sd:
        return sd[p + ".weight"]
    for g, v in ((".parametrizations.weight.original0", ".parametrizations.weight.original1"), (".weight_g", ".weight_v")):
        if p + g in sd:
            gg, vv = sd[p + g], sd[p + v]
            return gg * vv / vv.flatten(1).norm(dim=1).reshape(-1, *([1] * (vv.dim() - 1)))
    raise KeyError(p + ".weight")


def layer_norm_cf(sd, p, x):  # x [C, T]
    u = x.mean(0, keepdim=True)
    s = (x - u).pow(2).mean(0, keepdim=True)
    return sd[p + ".weight"][:, None] * ((x - u) / torch.sqrt(s + LN_EPS)) + sd[p + ".bias"][:, None]


def convnext_block(sd, p, x, k=7):
    dim = int(x.shape[0])  # a plain int: torch.onnx traces it as a constant
    h = F.conv1d(x[None], sd[p + ".dwconv.weight"], sd[p + ".dwconv.bias"], padding=(k - 1) // 2, groups=dim)[0]
    h = F.layer_norm(h.T, (dim,), sd[p + ".norm.weight"], sd[p + ".norm.bias"], LN_EPS)
    h = F.gelu(F.linear(h, sd[p + ".pwconv1.weight"], sd[p + ".pwconv1.bias"]))
    h = sd[p + ".gamma"] * F.linear(h, sd[p + ".pwconv2.weight"], sd[p + ".pwconv2.bias"])
    return x + h.T


def encode_mel(cfg, sd, mel):
    e = cfg["encoder"]
    k = e.get("kernel_size", 7)
    x = mel
    for i in range(len(e["dims"])):
        if i == 0:
            x = F.conv1d(x[None], sd["encoder.downsample_layers.0.0.weight"], sd["encoder.downsample_layers.0.0.bias"],
                         padding=k // 2)[0]
            x = layer_norm_cf(sd, "encoder.downsample_layers.0.1", x)
        else:
            x = layer_norm_cf(sd, f"encoder.downsample_layers.{i}.0", x)
            x = F.conv1d(x[None], sd[f"encoder.downsample_layers.{i}.1.weight"], sd[f"encoder.downsample_layers.{i}.1.bias"])[0]
        for j in range(e["depths"][i]):
            x = convnext_block(sd, f"encoder.stages.{i}.{j}", x, k)
    return layer_norm_cf(sd, "encoder.norm", x)


def prequant(cfg, sd, x):
    for i, f in enumerate(cfg["quantizer"]["downsample_factor"]):
        x = F.conv1d(x[None], sd[f"quantizer.downsample.{i}.0.weight"], sd[f"quantizer.downsample.{i}.0.bias"], stride=f)[0]
        x = convnext_block(sd, f"quantizer.downsample.{i}.1", x)
    return x


def _groups(cfg):
    q = cfg["quantizer"]
    return q.get("n_groups", 1), q.get("n_codebooks", 1)


def quantize(cfg, sd, latent):
    """latent [C, T] -> codes [G*R, T] (int64) and the projected vectors of group 0 [T, cd]."""
    G, R = _groups(cfg)
    codes, first = [], None
    for g, chunk in enumerate(latent.chunk(G, dim=0)):
        p = f"quantizer.grvq.rvqs.{g}"
        x = chunk.T
        if p + ".project_in.weight" in sd:
            x = F.linear(x, sd[p + ".project_in.weight"], sd[p + ".project_in.bias"])
        first = x if first is None else first
        res = x
        for r in range(R):
            emb = sd[f"{p}.layers.{r}._codebook.embed"][0]
            d = (res.pow(2).sum(1, keepdim=True) + emb.pow(2).sum(1)[None] - 2 * res @ emb.T).clamp(min=0).sqrt()
            idx = torch.argmax(-d, dim=1)
            codes.append(idx)
            res = res - emb[idx]
    return torch.stack(codes), first


def dequantize(cfg, sd, codes):
    G, R = _groups(cfg)
    outs = []
    for g in range(G):
        p = f"quantizer.grvq.rvqs.{g}"
        z = sum(sd[f"{p}.layers.{r}._codebook.embed"][0][codes[g * R + r]] for r in range(R))
        if p + ".project_out.weight" in sd:
            z = F.linear(z, sd[p + ".project_out.weight"], sd[p + ".project_out.bias"])
        outs.append(z)
    x = torch.cat(outs, dim=1).T
    factors = cfg["quantizer"]["downsample_factor"]
    for j, f in enumerate(reversed(factors)):
        x = F.conv_transpose1d(x[None], sd[f"quantizer.upsample.{j}.0.weight"], sd[f"quantizer.upsample.{j}.0.bias"], stride=f)[0]
        x = convnext_block(sd, f"quantizer.upsample.{j}.1", x)
    return x


def generate(cfg, sd, x):
    d = cfg["decoder"]
    k = d.get("pre_conv_kernel_size", 7)
    x = F.conv1d(x[None], _w(sd, "generator.conv_pre"), sd["generator.conv_pre.bias"], padding=(k - 1) // 2)
    for i, (u, kk) in enumerate(zip(d["upsample_rates"], d["upsample_kernel_sizes"])):
        x = F.silu(x)
        x = F.conv_transpose1d(x, _w(sd, f"generator.ups.{i}"), sd[f"generator.ups.{i}.bias"], stride=u, padding=(kk - u) // 2)
        outs = []
        for b, (rk, dil) in enumerate(zip(d["resblock_kernel_sizes"], d["resblock_dilation_sizes"])):
            h = x
            for j, dd in enumerate(dil):
                p1, p2 = f"generator.resblocks.{i}.blocks.{b}.convs1.{j}", f"generator.resblocks.{i}.blocks.{b}.convs2.{j}"
                t = F.conv1d(F.silu(h), _w(sd, p1), sd[p1 + ".bias"], dilation=dd, padding=(rk * dd - dd) // 2)
                t = F.conv1d(F.silu(t), _w(sd, p2), sd[p2 + ".bias"], padding=(rk - 1) // 2)
                h = t + h
            outs.append(h)
        x = torch.stack(outs).mean(0)
    k = d.get("post_conv_kernel_size", 7)
    x = F.conv1d(F.silu(x), _w(sd, "generator.conv_post"), sd["generator.conv_post.bias"], padding=(k - 1) // 2)
    return torch.tanh(x)[0, 0]


@torch.no_grad()
def run(cfg: dict, sd: Dict[str, torch.Tensor], audio: np.ndarray) -> Dict[str, np.ndarray]:
    """Every intermediate of encode + decode for one clip, as numpy arrays."""
    x = torch.from_numpy(np.asarray(audio, dtype=np.float32))
    mel = log_mel(cfg, x)
    enc = encode_mel(cfg, sd, mel)
    pre = prequant(cfg, sd, enc)
    codes, pin = quantize(cfg, sd, pre)
    ql = dequantize(cfg, sd, codes)
    y = generate(cfg, sd, ql)
    return {"mel": mel.numpy(), "encoder_out": enc.numpy(), "latent_prequant": pre.numpy(), "x_pjt_in": pin.numpy(),
            "codes": codes.numpy().astype(np.int32), "quantized_latent": ql.numpy(), "decoded": y.numpy()}
