#!/usr/bin/python3
"""MACs and bytes per audio second of each benchmarked model, counted from the architecture.

Usage:
    /usr/bin/python3 scripts/roofline_counts.py --configs CONFIGS.json [--out build/bench/roofline_counts.json]
        [--models encodec24khz,mimi,distilcodec_released]

CONFIGS.json is what `java --add-modules jdk.incubator.vector -cp jmh/target/benchmarks.jar io.vocodex.bench.PrintConfigs` prints
(the exact configurations the JMH benchmarks run). Each model is built as the project's own plain
PyTorch reference (scripts/encodec_reference.py, mimi_reference.py, distilcodec_reference.py) with
seeded random weights, and encode and decode of seeded noise run under a TorchDispatchMode that
sees every ATen operator the reference executes:

  MACs     convolution (transposed too: Cin * L_in * Cout/groups * K), mm, addmm, bmm, baddbmm
           (LSTM cells decompose into addmm, attention into bmm/mm, the VQ search into mm).
  bytes    "unfused": every non-view operator reads all its tensor inputs and writes its output
           once (no activation stays in a cache between operators), float32.
  weights  bytes of the distinct parameter tensors the direction reads (the codebooks included;
           only the codebooks actually used).
  io       the compulsory traffic: weights once + input + output.

Counted over `seconds` of audio (10 s for EnCodec and Mimi, so that Mimi's attention reaches its
context of 250 steps; 1 s for DistilCodec, which has no attention) and divided by it.
Prints and writes {model: {"encode": {...}, "decode": {...}, "frame_rate": ..., ...}}.
"""

import argparse
import json
import math
import os
import sys

import numpy as np
import torch
from torch.utils._python_dispatch import TorchDispatchMode

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

VIEW_OPS = {"view", "_unsafe_view", "_reshape_alias", "t", "transpose", "permute", "alias", "select", "slice",
            "expand", "unbind", "split", "unsafe_split", "lift_fresh", "detach", "as_strided", "squeeze",
            "unsqueeze", "reshape", "narrow", "split_with_sizes", "chunk", "unsafe_split_with_sizes", "view_as_real",
            "view_as_complex", "real", "imag", "_conj"}


def _tensors(x):
    if isinstance(x, torch.Tensor):
        yield x
    elif isinstance(x, (list, tuple)):
        for y in x:
            yield from _tensors(y)


def _nbytes(t):
    return t.numel() * t.element_size()


class Counter(TorchDispatchMode):
    def __init__(self, weight_ptrs):
        super().__init__()
        self.macs = 0
        self.bytes = 0
        self.weight_ptrs = weight_ptrs
        self.weights_read = {}
        self.by_op = {}

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        name = func.__name__.split(".")[0] if hasattr(func, "__name__") else str(func)
        name = str(func).split(".")[1] if str(func).startswith("aten.") else name
        macs = 0
        if name == "convolution":
            x, w = args[0], args[1]
            transposed, groups = args[6], args[8]
            if transposed:
                macs = x.numel() * w.shape[1] * int(np.prod(w.shape[2:]))
            else:
                macs = out.numel() * w.shape[1] * int(np.prod(w.shape[2:]))
        elif name in ("mm", "addmm"):
            a, b = (args[0], args[1]) if name == "mm" else (args[1], args[2])
            macs = a.shape[0] * a.shape[1] * b.shape[1]
        elif name in ("bmm", "baddbmm"):
            a, b = (args[0], args[1]) if name == "bmm" else (args[1], args[2])
            macs = a.shape[0] * a.shape[1] * a.shape[2] * b.shape[2]
        self.macs += macs
        if name not in VIEW_OPS:
            ins = list(_tensors(list(args) + list(kwargs.values())))
            outs = list(_tensors(out))
            b = sum(_nbytes(t) for t in ins) + sum(_nbytes(t) for t in outs)
            self.bytes += b
            e = self.by_op.setdefault(name, [0, 0])
            e[0] += macs
            e[1] += b
            for t in ins:
                p = t.storage().data_ptr() if t.numel() else 0
                if p in self.weight_ptrs:
                    self.weights_read[p] = self.weight_ptrs[p]
        return out


def weight_ptrs(tensors):
    return {t.storage().data_ptr(): t.storage().nbytes() for t in tensors if t.numel()}


def measure(fn, weights, in_bytes):
    c = Counter(weight_ptrs(weights))
    with torch.no_grad(), c:
        out = fn()
    out_bytes = sum(_nbytes(t) for t in _tensors(out))
    w = sum(c.weights_read.values())
    top = sorted(c.by_op.items(), key=lambda kv: -kv[1][0])[:6]
    return out, {"macs": c.macs, "bytes_unfused": c.bytes, "weight_bytes": w, "io_bytes": w + in_bytes + out_bytes,
                 "top_ops_by_macs": {k: v[0] for k, v in top}}


def per_second(d, seconds):
    r = dict(d)
    for k in ("macs", "bytes_unfused", "io_bytes"):
        r[k + "_per_audio_s"] = d[k] / seconds
    r["weight_bytes"] = d["weight_bytes"]
    r["intensity_flop_per_byte_unfused"] = 2 * d["macs"] / max(d["bytes_unfused"], 1)
    return r


def count_encodec(cfg, seconds, n_q):
    import encodec_reference as ref
    hp = {k: v for k, v in cfg.items() if k in ref.full_hparams()}
    model = ref.EncodecReference(hp).eval()
    ref.randomize_(model, 1)
    n = int(seconds * model.sample_rate)
    x = 0.1 * torch.randn(1, 1, n, generator=torch.Generator().manual_seed(0))
    bw = [b for b in cfg["target_bandwidths"] if ref.n_q_for_bandwidth(model.hp, b) == n_q][0]
    model.set_target_bandwidth(bw)
    ws = list(model.state_dict().values())
    codes, enc = measure(lambda: model.encode(x), ws, _nbytes(x))
    _, dec = measure(lambda: model.decode(codes), ws, _nbytes(codes))
    return {"encode": enc, "decode": dec, "frame_rate": model.frame_rate, "frame_samples": model.hop_length,
            "n_codebooks": n_q, "reference": "scripts/encodec_reference.py"}


def count_mimi(cfg, seconds, n_q):
    import mimi_reference as ref
    import make_mimi_fixtures as fx
    sd = fx.random_weights(cfg, 1)
    m = ref.MimiReference(cfg, sd)
    n = int(seconds * cfg["sample_rate"])
    x = 0.1 * torch.randn(n, generator=torch.Generator().manual_seed(0))
    ws = list(sd.values())
    codes, enc = measure(lambda: m.encode(x, n_q), ws, _nbytes(x))
    _, dec = measure(lambda: m.decode(codes), ws, _nbytes(codes))
    return {"encode": enc, "decode": dec, "frame_rate": cfg["frame_rate"], "frame_samples": m.frame,
            "n_codebooks": n_q, "reference": "scripts/mimi_reference.py"}


def count_distilcodec(cfg, seconds):
    import distilcodec_reference as ref
    import make_distilcodec_fixtures as fx
    sd = fx.random_weights(cfg, 1)
    sr = cfg["spec_transform"]["sampling_rate"]
    n = int(seconds * sr)
    x = 0.1 * torch.randn(n, generator=torch.Generator().manual_seed(0))
    ws = list(sd.values())

    def encode():
        mel = ref.log_mel(cfg, x)
        return ref.quantize(cfg, sd, ref.prequant(cfg, sd, ref.encode_mel(cfg, sd, mel)))[0]

    codes, enc = measure(encode, ws, _nbytes(x))
    _, dec = measure(lambda: ref.generate(cfg, sd, ref.dequantize(cfg, sd, codes)), ws, _nbytes(codes))
    hop = cfg["spec_transform"]["hop_size"]
    return {"encode": enc, "decode": dec, "frame_rate": sr / hop, "frame_samples": hop, "n_codebooks": 1,
            "reference": "scripts/distilcodec_reference.py"}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--configs", required=True)
    ap.add_argument("--out", default=os.path.join("build", "bench", "roofline_counts.json"))
    ap.add_argument("--models", default="encodec24khz,mimi,distilcodec_released")
    args = ap.parse_args()
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    with open(args.configs) as f:
        configs = json.load(f)
    out = {}
    for name in args.models.split(","):
        cfg = configs[name]
        if name == "encodec24khz":
            seconds, r = 10.0, count_encodec(cfg, 10.0, 8)
        elif name == "mimi":
            seconds, r = 10.0, count_mimi(cfg, 10.0, 8)
        elif name.startswith("distilcodec"):
            seconds, r = 1.0, count_distilcodec(cfg, 1.0)
        else:
            raise SystemExit(f"unknown model {name}")
        r["encode"] = per_second(r["encode"], seconds)
        r["decode"] = per_second(r["decode"], seconds)
        r["seconds_counted"] = seconds
        out[name] = r
        print(f"{name}: encode {r['encode']['macs_per_audio_s'] / 1e9:.3f} GMAC/s-audio, "
              f"decode {r['decode']['macs_per_audio_s'] / 1e9:.3f} GMAC/s-audio", file=sys.stderr)
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print(json.dumps({k: {d: {kk: v[d][kk] for kk in ("macs_per_audio_s", "bytes_unfused_per_audio_s", "weight_bytes")}
                          for d in ("encode", "decode")} for k, v in out.items()}))


if __name__ == "__main__":
    main()
