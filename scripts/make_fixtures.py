#!/usr/bin/python3
"""Write Vocodex's own tiny EnCodec test fixtures.

Usage:
    /usr/bin/python3 scripts/make_fixtures.py [--out java-api/src/test/resources/fixtures]

Produces, for each variant (encodec_small, encodec_nonorm), a folder
<out>/<variant>/ with

    weights.safetensors   state dict, original EnCodec tensor names, F32
    hparams.json          constructor arguments by their original names
    input.npy             float32 [N]       main input (chirp + seeded noise)
    latent.npy            float32 [D, T]    encoder output
    codes_bw{bw}.npy      int32   [K, T]    codes at bandwidth bw (K = n_q(bw))
    quantized_bw{bw}.npy  float32 [D, T]    sum of the selected codebook vectors
    decoded_bw{bw}.npy    float32 [T*hop]   model.decode(codes), NOT trimmed to N
    margins_bw{bw}.npy    float32 [K, T]    top1 - top2 of the negated distance
    <same names with _{name} after the kind> for the extra inputs, e.g.
    input_odd.npy, latent_odd.npy, codes_odd_bw6.npy ...
    manifest.json         everything above, plus seed, torch version, stats

{bw} is formatted with "%g" (1.5 -> "1.5", 6.0 -> "6").

The model is scripts/encodec_reference.py (an independent re-implementation
that reproduces the original EnCodec codes exactly; see
scripts/check_reference_against_golden.py).  Everything is seeded, CPU,
float32, one thread, so re-running the script gives the same files on the
same torch build (bit-identical floats across BLAS builds are not promised;
codes are, up to the near-ties listed in the manifest stats).
"""

import argparse
import hashlib
import json
import math
import os
import sys

import numpy as np
import torch

sys.dont_write_bytecode = True  # keep scripts/ free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import encodec_reference as ref  # noqa: E402

DEFAULT_OUT = os.path.join("java-api", "src", "test", "resources", "fixtures")

# Seeds were picked (among 1..30) for the largest minimum code margin, so that
# codes are robust to fp32 summation order; every code also equals that of a
# float64 run of the same model (stats.*.code_mismatches_vs_float64_model).
VARIANTS = {
    # weight_norm, causal, odd stride (7) and a non-integer frame rate
    # (24000/56 = 428.57 -> 429), two residual layers (dilation 1 and 2),
    # 1-layer LSTM, 6 codebooks of 64; bandwidths give n_q = 1 (floor is 0,
    # clamped to 1), 2, 4 and 6 (24 kbps asks for 9, only 6 exist).
    "encodec_small": {
        "seed": 24,
        "hparams": {
            "sample_rate": 24000, "channels": 1, "dimension": 16, "n_filters": 4,
            "n_residual_layers": 2, "ratios": [7, 4, 2], "activation": "ELU",
            "activation_params": {"alpha": 1.0}, "norm": "weight_norm", "kernel_size": 7,
            "last_kernel_size": 7, "residual_kernel_size": 3, "dilation_base": 2,
            "causal": True, "pad_mode": "reflect", "true_skip": False, "compress": 2,
            "lstm": 1, "trim_right_ratio": 1.0, "n_q": 6, "bins": 64,
            "target_bandwidths": [1.5, 6.0, 12.0, 24.0],
        },
    },
    # norm='none' (plain conv weights), identity shortcuts, 2-layer LSTM,
    # ELU alpha != 1, other kernel sizes, dilation base 3, compress 1.
    "encodec_nonorm": {
        "seed": 5,
        "weight_gain": 2.0,
        "hparams": {
            "sample_rate": 24000, "channels": 1, "dimension": 8, "n_filters": 2,
            "n_residual_layers": 2, "ratios": [5, 2], "activation": "ELU",
            "activation_params": {"alpha": 0.7}, "norm": "none", "kernel_size": 5,
            "last_kernel_size": 3, "residual_kernel_size": 5, "dilation_base": 3,
            "causal": True, "pad_mode": "reflect", "true_skip": True, "compress": 1,
            "lstm": 2, "trim_right_ratio": 1.0, "n_q": 3, "bins": 16,
            "target_bandwidths": [10.0, 20.0, 30.0],
        },
    },
}


def bw_tag(bw):
    return "%g" % bw


def make_inputs(seed, hop, sr):
    """Main input: 0.5 s-ish, a multiple of the hop.  'odd': odd length, not a
    multiple of the hop.  'short': shorter than several paddings (exercises the
    reflect-padding zero-extension on short signals)."""
    g = torch.Generator().manual_seed(seed + 1)
    n_main = (sr // 2 // hop) * hop
    t = np.arange(n_main, dtype=np.float64) / sr
    f0, f1 = 80.0, 6000.0
    dur = n_main / sr
    phase = 2 * np.pi * (f0 * t + 0.5 * (f1 - f0) / dur * t * t)
    chirp = 0.4 * np.sin(phase) * (0.6 + 0.4 * np.sin(2 * np.pi * 3.0 * t))
    noise = 0.05 * torch.randn(n_main, generator=g, dtype=torch.float64).numpy()
    main = (chirp + noise).astype(np.float32)
    n_odd = hop * 37 + (hop // 2 | 1)
    if n_odd % 2 == 0:
        n_odd += 1
    odd = (0.3 * torch.randn(n_odd, generator=g, dtype=torch.float64).numpy()
           + 0.2 * np.sin(2 * np.pi * 440.0 * np.arange(n_odd) / sr)).astype(np.float32)
    short = (0.5 * torch.randn(hop + 3, generator=g, dtype=torch.float64).numpy()).astype(np.float32)
    return {"": main, "odd": odd, "short": short}


def fname(kind, name, bw=None):
    s = kind + ("_" + name if name else "")
    if bw is not None:
        s += "_bw" + bw_tag(bw)
    return s + ".npy"


def build_variant(out_dir, variant, spec):
    hp = ref.full_hparams(spec["hparams"])
    seed = spec["seed"]
    torch.manual_seed(seed)
    model = ref.EncodecReference(hp).eval()
    ref.randomize_(model, seed, weight_gain=spec.get("weight_gain", 1.0))
    hop, sr = ref.hop_length(hp), int(hp["sample_rate"])
    inputs = make_inputs(seed, hop, sr)

    with torch.no_grad():
        # Fit each codebook to the distribution of what it will see (the
        # residual of the main input entering that stage).
        latent = model.encoder(torch.from_numpy(inputs[""]).view(1, 1, -1))
        ref.fit_codebooks_(model, latent, seed + 2)

    os.makedirs(out_dir, exist_ok=True)
    sd = ref.state_dict_f32(model)
    wpath = os.path.join(out_dir, "weights.safetensors")
    ref.write_safetensors(wpath, sd, {"format": "pt", "source": "vocodex scripts/make_fixtures.py",
                                       "variant": variant})
    with open(os.path.join(out_dir, "hparams.json"), "w") as f:
        json.dump(spec["hparams"], f, indent=1)
        f.write("\n")

    model64 = ref.build_model(hp, {k: v.double() for k, v in sd.items()}).double()
    files, stats = {}, {}

    def save(fn, arr):
        np.save(os.path.join(out_dir, fn), arr)
        files[fn] = {"dtype": str(arr.dtype), "shape": list(arr.shape)}

    with torch.no_grad():
        for name, x_np in inputs.items():
            save(fname("input", name), x_np)
            x = torch.from_numpy(x_np).view(1, 1, -1)
            latent = model.encoder(x)
            save(fname("latent", name), latent[0].numpy().astype(np.float32))
            for bw in hp["target_bandwidths"]:
                model.set_target_bandwidth(bw)
                codes, margins, _ = model.encode(x, with_margins=True)
                q = model.quantizer.decode(codes.transpose(0, 1))
                y = model.decode(codes)
                assert y.shape[-1] == latent.shape[-1] * hop
                save(fname("codes", name, bw), codes[0].numpy().astype(np.int32))
                save(fname("quantized", name, bw), q[0].numpy().astype(np.float32))
                save(fname("decoded", name, bw), y[0, 0].numpy().astype(np.float32))
                m = margins[0].numpy().astype(np.float32)
                save(fname("margins", name, bw), m)
                c = codes[0].numpy()
                model64.bandwidth = bw
                c64 = model64.encode(x.double())[0].numpy()
                stats[f"{name or 'main'}_bw{bw_tag(bw)}"] = {
                    "n_samples": int(x_np.shape[0]), "frames": int(c.shape[1]), "n_codebooks": int(c.shape[0]),
                    "decoded_samples": int(y.shape[-1]),
                    "unique_codes_per_codebook": [int(len(np.unique(r))) for r in c],
                    "min_margin": float(m.min()),
                    "code_mismatches_vs_float64_model": int((c64 != c).sum()),
                    "margin_lt_1e-3": int((m < 1e-3).sum()), "margin_lt_1e-4": int((m < 1e-4).sum()),
                    "latent_absmax": float(latent.abs().max()), "decoded_absmax": float(y.abs().max()),
                }

    with open(wpath, "rb") as f:
        wsha = hashlib.sha256(f.read()).hexdigest()
    files["weights.safetensors"] = {"bytes": os.path.getsize(wpath), "sha256": wsha, "tensors": len(sd)}
    files["hparams.json"] = {}
    fr = ref.frame_rate(hp)
    manifest = {
        "codec": "EnCodec",
        "variant": variant,
        "generator": "scripts/make_fixtures.py (model: scripts/encodec_reference.py)",
        "torch_version": torch.__version__,
        "numpy_version": np.__version__,
        "seed": seed,
        "hparams": hp,
        "sample_rate": sr,
        "hop_length": hop,
        "frame_rate": fr,
        "bits_per_codebook": int(math.log2(int(hp["bins"]))),
        "codebooks_per_bandwidth": {bw_tag(bw): ref.n_q_for_bandwidth(hp, bw) for bw in hp["target_bandwidths"]},
        "inputs": {
            (n or "main"): {"file": fname("input", n), "samples": int(v.shape[0]),
                            "frames": int(math.ceil(v.shape[0] / hop)),
                            "decoded_samples": int(math.ceil(v.shape[0] / hop)) * hop}
            for n, v in inputs.items()
        },
        "naming": "KIND[_INPUT][_bwBW].npy, KIND in input/latent/codes/quantized/decoded/margins, "
                  "INPUT omitted for the main input, BW formatted with %g; arrays have no batch dimension",
        "weights_init": {
            "module_init": "torch.manual_seed(seed) then model construction (all values redrawn below)",
            "redraw": "encodec_reference.randomize_(model, seed, weight_gain=G): torch.Generator().manual_seed(seed), "
                      "parameters in state-dict order: weight_g U(0.5,1.5), weight_v / weight U(+-G/sqrt(fan_in)), "
                      "lstm U(+-1/sqrt(hidden)), biases U(+-0.05)",
            "weight_gain": spec.get("weight_gain", 1.0),
            "codebooks": "generator seed+2; for k = 0..n_q-1: R = residual of the main input entering stage k "
                         "(frames x D); embed_k = mean(R) + std(R) * N(0,1) per dimension; residual -= "
                         "quantize_k(residual). embed_avg = embed; cluster_size = 1; inited = 1",
        },
        "call_sequence": [
            "torch.set_num_threads(1); model.eval(); torch.no_grad(); float32; CPU",
            "x = input as tensor [1, 1, N]",
            "latent = model.encoder(x) -> [1, D, T], T = ceil(N / hop)",
            "model.set_target_bandwidth(bw); codes = model.encode(x) -> [1, K, T], K = max(1, floor(bw*1000 / "
            "(log2(bins) * frame_rate))) capped at n_q, frame_rate = ceil(sample_rate / prod(ratios))",
            "quantized = sum_k codebook_k[codes[k]] -> [1, D, T]",
            "decoded = model.decode(codes) -> [1, 1, T*hop] (NOT trimmed; trimming to N gives model(x))",
            "margins[k, t] = top1 - top2 of -(|r|^2 - 2 r.E^T + |E|^2), r = residual entering codebook k",
        ],
        "notes": [
            "Lower-bandwidth codes are the first K rows of the higher-bandwidth codes.",
            "Codes with margin < ~1e-5 may legitimately flip under a different fp32 summation order; "
            "a flip at codebook k changes codebooks k+1.. of that frame. See stats.*.min_margin.",
            "Causal SConv1d: left pad (k-1)*dilation + 1 - stride, right pad so the last window is full, "
            "pad_mode reflect (zero-extended first when the signal is shorter than the pad).",
            "Causal SConvTranspose1d: trims ceil((k - stride) * trim_right_ratio) on the right, rest on the left.",
            "weight_norm: weight = g * v / ||v||, norm over all dims but 0 (for ConvTranspose1d [in, out, k]: "
            "per input channel).",
        ],
        "files": files,
        "stats": stats,
    }
    with open(os.path.join(out_dir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
    return manifest


README = """# EnCodec test fixtures

Generated by `scripts/make_fixtures.py` (do not edit by hand):

    /usr/bin/python3 scripts/make_fixtures.py --out java-api/src/test/resources/fixtures

The outputs come from `scripts/encodec_reference.py`, Vocodex's own plain
PyTorch re-implementation of EnCodec, which reproduces the original
facebookresearch/encodec codes exactly (checked with
`scripts/check_reference_against_golden.py GOLDEN_DIR`).  Weights are random
and seeded, small configurations different from the 24 kHz model:

* `encodec_small/`: weight_norm, causal, ratios [7,4,2] (hop 56,
  frame rate ceil(24000/56) = 429), 2 residual layers, 1 LSTM layer,
  6 codebooks x 64; bandwidths 1.5/6/12/24 kbps -> 1/2/4/6 codebooks.
* `encodec_nonorm/`: norm 'none', true_skip, 2 LSTM layers, ELU alpha 0.7,
  kernels 5/3/5, dilation base 3, compress 1, ratios [5,2],
  3 codebooks x 16; bandwidths 10/20/30 kbps -> 1/2/3 codebooks.

Each folder has `weights.safetensors` (original tensor names, F32),
`hparams.json` (original constructor argument names) and `.npy` arrays
named `KIND[_INPUT][_bwBW].npy` (KIND = input, latent, codes, quantized,
decoded, margins; INPUT = none for the main input, `odd`, `short`; BW with
`%g`).  `manifest.json` lists shapes, the exact call sequence, seeds, torch
version and per-case statistics (minimum code margins).  `decoded_*` is the
untrimmed decoder output of length frames * hop.
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=DEFAULT_OUT, help="fixtures root (default: %(default)s)")
    ap.add_argument("--variants", nargs="*", default=list(VARIANTS), choices=list(VARIANTS))
    args = ap.parse_args()
    torch.set_num_threads(1)
    os.makedirs(args.out, exist_ok=True)
    total = 0
    for v in args.variants:
        d = os.path.join(args.out, v)
        man = build_variant(d, v, VARIANTS[v])
        size = sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d))
        total += size
        mins = {k: round(s["min_margin"], 7) for k, s in man["stats"].items()}
        print(f"{v}: {len(os.listdir(d))} files, {size} bytes, codebooks/bw {man['codebooks_per_bandwidth']}, "
              f"min margins {mins}")
    with open(os.path.join(args.out, "README.md"), "w") as f:
        f.write(README)
    print(f"total {total} bytes in {args.out}")


if __name__ == "__main__":
    main()
