#!/usr/bin/python3
"""Write Vocodex's own tiny Mimi test fixtures.

Usage:
    /usr/bin/python3 scripts/make_mimi_fixtures.py [--out java-api/src/test/resources/fixtures]

Produces <out>/mimi_small/ with

    weights.safetensors   state dict, original Mimi tensor names, F32
    config.json           the config in the original loader's layout (seanet/transformer/quantizer)
    input[_short].npy     float32 [N]
    latent_batch[_short].npy, latent_stream[_short].npy   float32 [D, T]
    codes_batch[_short].npy, codes_stream[_short].npy     int32 [K, T] (all n_q codebooks)
    decoded_batch[_short].npy, decoded_stream[_short].npy float32 [T * frame]  (decode of the
                          BATCH codes, batch resp. frame-by-frame streaming)
    manifest.json         shapes, call sequence, seed, minimum code margins, torch version

The model is scripts/mimi_reference.py (Vocodex's own plain-PyTorch Mimi, which reproduces the
original's batch and streaming codes exactly: scripts/check_mimi_reference_against_golden.py).
The configuration differs from the shared golden on purpose: 16 kHz with 1280-sample frames,
ratios [8, 5, 4, 4], two residual layers (dilation 1 and 2) with 1x1-conv shortcuts
(true_skip false), no layer scale, context 6 (the ring cache binds from frame 3), 3 x 128 codes.
Seeded, CPU, float32, one thread.
"""

import argparse
import json
import math
import os
import sys

import numpy as np
import torch

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mimi_reference as ref  # noqa: E402
from encodec_reference import write_safetensors  # noqa: E402

DEFAULT_OUT = os.path.join("java-api", "src", "test", "resources", "fixtures")

CONFIG = {
    "sample_rate": 16000,
    "channels": 1,
    "frame_rate": 12.5,
    "seanet": {
        "channels": 1, "dimension": 16, "causal": True, "n_filters": 2, "n_residual_layers": 2,
        "activation": "ELU", "compress": 2, "dilation_base": 2, "disable_norm_outer_blocks": 0,
        "kernel_size": 7, "residual_kernel_size": 3, "last_kernel_size": 3, "norm": "none",
        "pad_mode": "constant", "ratios": [8, 5, 4, 4], "true_skip": False,
    },
    "transformer": {
        "d_model": 16, "num_heads": 2, "num_layers": 2, "causal": True, "layer_scale": None,
        "context": 6, "conv_layout": True, "max_period": 10000, "gating": "none", "norm": "layer_norm",
        "positional_embedding": "rope", "dim_feedforward": 32, "input_dimension": 16,
        "output_dimensions": [16],
    },
    "quantizer": {"dimension": 8, "n_q": 3, "bins": 128, "input_dimension": 16, "output_dimension": 16},
}


def shapes(c):
    """Every tensor of the configured model, in the original names, with its shape."""
    s, t, q = c["seanet"], c["transformer"], c["quantizer"]
    out = {}
    nf, dim = s["n_filters"], s["dimension"]

    def conv(p, cin, cout, k):
        out[p + ".conv.conv.weight"] = (cout, cin, k)
        out[p + ".conv.conv.bias"] = (cout,)

    def res(p, d):
        conv(p + ".block.1", d, d // s["compress"], s["residual_kernel_size"])
        conv(p + ".block.3", d // s["compress"], d, 1)
        if not s["true_skip"]:
            conv(p + ".shortcut", d, d, 1)

    i, mult = 0, 1
    conv("encoder.model.0", 1, nf, s["kernel_size"])
    i = 1
    for r in reversed(s["ratios"]):
        for _ in range(s["n_residual_layers"]):
            res(f"encoder.model.{i}", mult * nf)
            i += 1
        i += 1  # ELU
        conv(f"encoder.model.{i}", mult * nf, 2 * mult * nf, 2 * r)
        i += 1
        mult *= 2
    i += 1
    conv(f"encoder.model.{i}", mult * nf, dim, s["last_kernel_size"])
    conv("decoder.model.0", dim, mult * nf, s["kernel_size"])
    i = 1
    for r in s["ratios"]:
        i += 1
        out[f"decoder.model.{i}.convtr.convtr.weight"] = (mult * nf, mult * nf // 2, 2 * r)
        out[f"decoder.model.{i}.convtr.convtr.bias"] = (mult * nf // 2,)
        i += 1
        for _ in range(s["n_residual_layers"]):
            res(f"decoder.model.{i}", mult * nf // 2)
            i += 1
        mult //= 2
    i += 1
    conv(f"decoder.model.{i}", nf, 1, s["last_kernel_size"])
    d, ff = t["d_model"], t["dim_feedforward"]
    for tr in ("encoder_transformer", "decoder_transformer"):
        for l in range(t["num_layers"]):
            p = f"{tr}.transformer.layers.{l}."
            out[p + "self_attn.in_proj_weight"] = (3 * d, d)
            out[p + "self_attn.out_proj.weight"] = (d, d)
            for n in ("norm1", "norm2"):
                out[p + n + ".weight"] = (d,)
                out[p + n + ".bias"] = (d,)
            out[p + "linear1.weight"] = (ff, d)
            out[p + "linear2.weight"] = (d, ff)
            if t["layer_scale"] is not None:
                out[p + "layer_scale_1.scale"] = (d,)
                out[p + "layer_scale_2.scale"] = (d,)
    for name, n in (("rvq_first", 1), ("rvq_rest", q["n_q"] - 1)):
        p = f"quantizer.{name}."
        out[p + "input_proj.weight"] = (q["dimension"], q["input_dimension"], 1)
        out[p + "output_proj.weight"] = (q["output_dimension"], q["dimension"], 1)
        for k in range(n):
            cb = f"{p}vq.layers.{k}._codebook."
            out[cb + "_initialized"] = (1,)
            out[cb + "cluster_usage"] = (q["bins"],)
            out[cb + "embedding_sum"] = (q["bins"], q["dimension"])
    out["downsample.conv.conv.conv.weight"] = (dim, dim, 4)
    out["upsample.convtr.convtr.convtr.weight"] = (dim, 1, 4)
    return out


def random_weights(c, seed):
    g = torch.Generator().manual_seed(seed)
    sd = {}
    for name, shp in shapes(c).items():
        u = torch.rand(shp, generator=g, dtype=torch.float64) * 2 - 1
        if name.endswith("_initialized"):
            v = torch.ones(shp, dtype=torch.float64)
        elif name.endswith("cluster_usage"):
            v = 1.0 + 0.5 * u
        elif name.endswith("embedding_sum"):
            v = 0.5 * u
        elif name.endswith(("norm1.weight", "norm2.weight")):
            v = 1.0 + 0.1 * u
        elif name.endswith("bias"):
            v = 0.02 * u
        else:
            fan_in = int(np.prod(shp[1:])) if len(shp) > 1 else 1
            if name.startswith("upsample"):
                fan_in = 2
            if ".convtr." in name and not name.startswith("upsample"):
                fan_in = shp[0] * shp[2] // 2  # each output sample sums K/stride taps per input channel
            gain = 0.6 if "transformer" in name else 1.0
            v = gain * math.sqrt(3.0 / fan_in) * u
        sd[name] = v.to(torch.float32).contiguous()
    return sd


def make_inputs(sr, seed):
    g = torch.Generator().manual_seed(seed + 100)
    n = 24000  # 1.5 s, not a multiple of the 1280-sample frame (18.75 frames)
    t = np.arange(n, dtype=np.float64) / sr
    phase = 2 * np.pi * (60.0 * t + 0.5 * (4000.0 - 60.0) / 1.5 * t * t)
    main = 0.4 * np.sin(phase) * (0.6 + 0.4 * np.sin(2 * np.pi * 2.0 * t))
    main += 0.05 * torch.randn(n, generator=g, dtype=torch.float64).numpy()
    short = 0.5 * torch.randn(1000, generator=g, dtype=torch.float64).numpy()  # less than one frame
    return {"": main.astype(np.float32), "short": short.astype(np.float32)}


def margins(m, latent, codes):
    """d(2nd) - d(1st) in float64 along the float32 residual path, min over all steps."""
    best = math.inf
    k = 0
    for rvq, n in ((m.first, m.n_sem), (m.rest, codes.shape[0] - m.n_sem)):
        r = torch.nn.functional.conv1d(latent[None], rvq.inp)[0].t()
        for j in range(n):
            cb = rvq.cbs[j]
            d = torch.cdist(r[None].double(), cb[None].double())[0]
            two = d.topk(2, largest=False).values
            best = min(best, float((two[:, 1] - two[:, 0]).min()))
            r = r - cb[codes[k]]
            k += 1
    return best


def run(m, x, n_q):
    lat = m.latent(torch.from_numpy(x))
    codes = m.encode(torch.from_numpy(x), n_q)
    lats = []
    scodes = m.encode_streaming(torch.from_numpy(x), n_q, lats)
    slat = torch.cat(lats, 1)
    return dict(latent_batch=lat, latent_stream=slat, codes_batch=codes, codes_stream=scodes,
                decoded_batch=m.decode(codes), decoded_stream=m.decode_streaming(codes),
                margin=min(margins(m, lat, codes), margins(m, slat, scodes)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=DEFAULT_OUT)
    args = ap.parse_args()
    torch.set_num_threads(1)
    n_q = CONFIG["quantizer"]["n_q"]
    inputs = make_inputs(CONFIG["sample_rate"], 0)
    # Seed with the largest minimum code margin among 1..8, so codes are robust to summation order.
    best = None
    with torch.no_grad():
        for seed in range(1, 9):
            m = ref.MimiReference(CONFIG, random_weights(CONFIG, seed))
            mg = min(run(m, x, n_q)["margin"] for x in inputs.values())
            if best is None or mg > best[1]:
                best = (seed, mg)
        seed = best[0]
        sd = random_weights(CONFIG, seed)
        m = ref.MimiReference(CONFIG, sd)
        out = os.path.join(args.out, "mimi_small")
        os.makedirs(out, exist_ok=True)
        write_safetensors(os.path.join(out, "weights.safetensors"), sd,
                          {"format": "pt", "source": "vocodex scripts/make_mimi_fixtures.py", "seed": str(seed)})
        with open(os.path.join(out, "config.json"), "w") as f:
            json.dump(CONFIG, f, indent=1)
        files, stats = {}, {}
        for name, x in inputs.items():
            suf = "_" + name if name else ""
            r = run(m, x, n_q)
            arrays = {"input": x}
            for k in ("latent_batch", "latent_stream", "decoded_batch", "decoded_stream"):
                arrays[k] = r[k].numpy().astype(np.float32)
            for k in ("codes_batch", "codes_stream"):
                arrays[k] = r[k].numpy().astype(np.int32)
            for k, a in arrays.items():
                fn = k + suf + ".npy"
                np.save(os.path.join(out, fn), a)
                files[fn] = list(a.shape)
            cb, cs = arrays["codes_batch"], arrays["codes_stream"]
            diff = np.nonzero((cb != cs).any(0))[0]
            stats[name or "main"] = {"samples": int(x.shape[0]), "frames": int(cb.shape[1]),
                                     "min_code_margin": r["margin"],
                                     "first_frame_stream_differs": int(diff[0]) if len(diff) else None,
                                     "stream_code_mismatches": int((cb != cs).sum())}
        manifest = {
            "model": "Mimi (tiny, random weights), scripts/mimi_reference.py",
            "seed": seed, "config": CONFIG, "files": files, "stats": stats,
            "call_sequence": [
                "batch: codes = encode(x zero-padded at the end to a multiple of frame_size, n_q = all)",
                "stream: fresh state; encode one frame_size frame at a time (the last zero-padded); "
                "the transformers take each frame's 2 positions as one chunk through a ring KV cache of "
                "capacity context, written before the chunk attends",
                "decoded_batch = decode(codes_batch); decoded_stream = frame-by-frame streaming decode of codes_batch",
            ],
            "torch": torch.__version__, "numpy": np.__version__,
        }
        with open(os.path.join(out, "manifest.json"), "w") as f:
            json.dump(manifest, f, indent=1)
        print(json.dumps(stats, indent=1), "seed", seed)


if __name__ == "__main__":
    main()
