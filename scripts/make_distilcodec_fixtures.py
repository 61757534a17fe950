#!/usr/bin/python3
"""Writes java-api/src/test/resources/fixtures/distilcodec_small: a tiny random-weight DistilCodec
(config.json in the original layout + model.safetensors) and the outputs of Vocodex's own PyTorch
implementation (distilcodec_reference.py) on three inputs; and fixtures/distilcodec_wide: a model
whose HiFi-GAN is wide enough (128 and 64 channels, kernel 11, dilations 1 and 5) for Vocodex to run
its ResBlock1 convs as Winograd convolutions, with the reference's decode of seeded random codes
(weights stored as float16 to stay small; the reference computes with the same values in float32).

    /usr/bin/python3 scripts/make_distilcodec_fixtures.py [--golden GOLDEN_DIR]

With --golden (the original implementation's outputs, e.g. shared/golden/distilcodec/tiny) it first
checks the reference against them: codes identical, tensors close; it refuses to write fixtures
otherwise. Output is deterministic (fixed seeds, no threading effects at this size) on one machine
set-up; run on 2026-12-07 with OpenBLAS as libblas.so.3, it rewrote distilcodec_small's model and
outputs with last-bit differences from the committed files (made in an earlier session, BLAS not
recorded), which were kept: the tests compare with tolerances.
"""
import argparse
import copy
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import distilcodec_reference as ref  # noqa: E402
from encodec_reference import read_safetensors, write_safetensors  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "java-api", "src", "test", "resources", "fixtures", "distilcodec_small")
OUT_WIDE = os.path.join(ROOT, "java-api", "src", "test", "resources", "fixtures", "distilcodec_wide")


def check_golden(golden):
    manifest = json.load(open(os.path.join(golden, "manifest.json")))
    sd, _ = read_safetensors(os.path.join(golden, "weights.safetensors"))
    worst = {}
    for name in ("speech", "noise"):
        x = np.load(os.path.join(golden, f"input_{name}.npy"))
        out = ref.run(manifest["config"], sd, x)
        want = np.load(os.path.join(golden, f"{name}_codes.npy")).reshape(-1)
        if not np.array_equal(out["codes"].reshape(-1), want):
            sys.exit(f"{name}: codes differ from the original at {np.nonzero(out['codes'].reshape(-1) != want)[0][:10]}")
        # stage-wise decode from the golden codes (it is what the golden decoded tensors are)
        for key in ("mel", "encoder_out", "latent_prequant", "x_pjt_in", "quantized_latent", "decoded"):
            g = np.load(os.path.join(golden, f"{name}_{key}.npy")).reshape(out[key].shape)
            rel = np.linalg.norm(out[key] - g) / np.linalg.norm(g)
            worst[f"{name}_{key}"] = (float(rel), float(np.abs(out[key] - g).max()))
            if rel > 1e-5:
                sys.exit(f"{name} {key}: rel L2 {rel:.3g} vs the original")
    for k, (rel, mx) in worst.items():
        print(f"  {k}: rel L2 {rel:.2e}, max |diff| {mx:.2e}")
    print("reference == original (codes identical)")


def small_config():
    cfg = {
        "base_model": "QWen2.5-7B-Pretrain", "token_id_offset": 152064,
        "spec_transform": {"sampling_rate": 24000, "segment_size": 72000, "num_mels": 64, "n_fft": 1024, "hop_size": 256,
                           "win_size": 1024, "fmin": 0, "fmax": 12000, "fmax_loss": None},
        "encoder": {"input_channels": 64, "depths": [1, 1], "dims": [16, 24], "drop_path_rate": 0.2, "kernel_size": 7},
        "decoder": {"hop_length": 256, "upsample_rates": [8, 4, 2, 2, 2], "upsample_kernel_sizes": [16, 12, 4, 4, 4],
                    "resblock_kernel_sizes": [3, 7, 11], "resblock_dilation_sizes": [[1, 3, 5], [1, 3, 5], [1, 3, 5]],
                    "num_mels": 24, "upsample_initial_channel": 32, "use_template": False,
                    "pre_conv_kernel_size": 13, "post_conv_kernel_size": 13},
        "quantizer": {"quantizer_type": "grvq", "input_dim": 24, "n_groups": 1, "n_codebooks": 1, "codebook_size": 2048,
                      "codebook_dim": 8, "levels": [8, 5, 5, 5], "downsample_factor": [1], "ema_decay": 0.8,
                      "codebook_diversity_loss_weight": 1.0, "codebook_diversity_temperature": 100.0},
    }
    return cfg


def wide_config():
    """small_config with a decoder of 256 -> 128 -> 64 -> 32 channels (rates 8, 4, 8), ResBlock1 kernel
    11 at dilations 1 and 5: Vocodex's WinogradConv.suits takes the 128- and 64-channel convs."""
    cfg = small_config()
    cfg["decoder"].update({"upsample_rates": [8, 4, 8], "upsample_kernel_sizes": [16, 8, 16],
                           "resblock_kernel_sizes": [11], "resblock_dilation_sizes": [[1, 5]],
                           "upsample_initial_channel": 256})
    return cfg


def make_wide():
    cfg = wide_config()
    sd = {k: v.half().float() if v.is_floating_point() else v for k, v in random_weights(cfg, 5151).items()}
    frames = 48
    codes = torch.from_numpy(np.random.default_rng(91).integers(0, cfg["quantizer"]["codebook_size"], (1, frames)))
    with torch.no_grad():
        decoded = ref.generate(cfg, sd, ref.dequantize(cfg, sd, codes)).numpy().reshape(-1).astype(np.float32)
    os.makedirs(OUT_WIDE, exist_ok=True)
    write_safetensors(os.path.join(OUT_WIDE, "model.safetensors"),
                      {k: v.half() if v.is_floating_point() else v for k, v in sd.items()},
                      {"source": "make_distilcodec_fixtures.py seed 5151, float16"})
    folder_cfg = {"architecture": "distilcodec", "format_version": 1}
    folder_cfg.update(copy.deepcopy(cfg))
    with open(os.path.join(OUT_WIDE, "config.json"), "w") as f:
        json.dump(folder_cfg, f, indent=2)
        f.write("\n")
    np.save(os.path.join(OUT_WIDE, "codes.npy"), codes.numpy().astype(np.int32))
    np.save(os.path.join(OUT_WIDE, "decoded.npy"), decoded)
    with open(os.path.join(OUT_WIDE, "manifest.json"), "w") as f:
        json.dump({"generator": "scripts/make_distilcodec_fixtures.py (own PyTorch reference: scripts/distilcodec_reference.py)",
                   "torch": torch.__version__, "frames": frames, "samples": int(decoded.size),
                   "decoded_rms": float(np.sqrt((decoded.astype(np.float64) ** 2).mean()))}, f, indent=2)
        f.write("\n")
    total = sum(os.path.getsize(os.path.join(OUT_WIDE, n)) for n in os.listdir(OUT_WIDE))
    print(f"wrote {OUT_WIDE}: {total / 1e6:.2f} MB")


def random_weights(cfg, seed):
    """Shapes of every tensor the model reads; values seeded. The project_in bias re-centres the
    projected vectors on the codebook so that many distinct codes are used."""
    g = torch.Generator().manual_seed(seed)
    e, d, q = cfg["encoder"], cfg["decoder"], cfg["quantizer"]
    sd = {}

    def u(name, shape, a):
        sd[name] = (torch.rand(shape, generator=g, dtype=torch.float64) * 2 - 1).mul(a).float()

    def conv(p, o, i, k, wn=False, transposed=False):
        fan = (o if transposed else i) * k
        if wn:
            u(p + ".parametrizations.weight.original1", (o, i, k) if not transposed else (i, o, k), 1 / fan ** 0.5)
            sd[p + ".parametrizations.weight.original0"] = (torch.rand(((i if transposed else o), 1, 1), generator=g) + 0.5)
        else:
            u(p + ".weight", (o, i, k) if not transposed else (i, o, k), 1 / fan ** 0.5)
        u(p + ".bias", (o,), 0.02)

    def ln(p, c):
        sd[p + ".weight"] = 1 + 0.1 * (torch.rand(c, generator=g) * 2 - 1)
        u(p + ".bias", (c,), 0.02)

    def block(p, c, k=7):
        u(p + ".gamma", (c,), 0.5)
        sd[p + ".gamma"] = sd[p + ".gamma"].abs() + 0.1
        conv(p + ".dwconv", c, 1, k)
        ln(p + ".norm", c)
        u(p + ".pwconv1.weight", (4 * c, c), 1 / c ** 0.5)
        u(p + ".pwconv1.bias", (4 * c,), 0.02)
        u(p + ".pwconv2.weight", (c, 4 * c), 1 / (4 * c) ** 0.5)
        u(p + ".pwconv2.bias", (c,), 0.02)

    dims = e["dims"]
    conv("encoder.downsample_layers.0.0", dims[0], e["input_channels"], e["kernel_size"])
    ln("encoder.downsample_layers.0.1", dims[0])
    for i in range(1, len(dims)):
        ln(f"encoder.downsample_layers.{i}.0", dims[i - 1])
        conv(f"encoder.downsample_layers.{i}.1", dims[i], dims[i - 1], 1)
    for i, n in enumerate(e["depths"]):
        for j in range(n):
            block(f"encoder.stages.{i}.{j}", dims[i], e["kernel_size"])
    ln("encoder.norm", dims[-1])
    c, cd = q["input_dim"], q["codebook_dim"]
    for i, f in enumerate(q["downsample_factor"]):
        conv(f"quantizer.downsample.{i}.0", c, c, f)
        block(f"quantizer.downsample.{i}.1", c)
        conv(f"quantizer.upsample.{i}.0", c, c, f, transposed=True)
        block(f"quantizer.upsample.{i}.1", c)
    p = "quantizer.grvq.rvqs.0"
    u(p + ".project_in.weight", (cd, c), 1 / c ** 0.5)
    u(p + ".project_in.bias", (cd,), 0.02)
    u(p + ".project_out.weight", (c, cd), 1 / cd ** 0.5)
    u(p + ".project_out.bias", (c,), 0.02)
    u(p + ".layers.0._codebook.embed", (1, q["codebook_size"], cd), 0.5)
    sd[p + ".layers.0._codebook.initted"] = torch.ones(1)
    sd[p + ".layers.0._codebook.cluster_size"] = torch.zeros(1, q["codebook_size"])
    sd[p + ".layers.0._codebook.embed_avg"] = torch.zeros(1, q["codebook_size"], cd)
    ch = d["upsample_initial_channel"]
    conv("generator.conv_pre", ch, d["num_mels"], d["pre_conv_kernel_size"], wn=True)
    for i, (r, k) in enumerate(zip(d["upsample_rates"], d["upsample_kernel_sizes"])):
        conv(f"generator.ups.{i}", ch >> (i + 1), ch >> i, k, wn=True, transposed=True)
        for b, (rk, dil) in enumerate(zip(d["resblock_kernel_sizes"], d["resblock_dilation_sizes"])):
            for j in range(len(dil)):
                for which in ("convs1", "convs2"):
                    conv(f"generator.resblocks.{i}.blocks.{b}.{which}.{j}", ch >> (i + 1), ch >> (i + 1), rk, wn=True)
    conv("generator.conv_post", 1, ch >> len(d["upsample_rates"]), d["post_conv_kernel_size"], wn=True)
    return sd


def inputs():
    sr = 24000
    rng = np.random.default_rng(77)
    t = np.arange(int(1.2 * sr)) / sr
    chirp = (0.4 * np.sin(2 * np.pi * (150 * t + 400 * t * t)) * (0.5 + 0.5 * np.sin(2 * np.pi * 3 * t))
             + 0.02 * rng.standard_normal(t.size)).astype(np.float32)
    noise = (0.1 * rng.standard_normal(9000)).astype(np.float32)
    short = (0.3 * rng.standard_normal(511)).astype(np.float32)  # (511 + 1) / 256 = 2 frames; > 384 reflect padding
    return {"chirp": chirp, "noise": noise, "short": short}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--golden", help="the original's golden outputs directory (checked first)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    if args.golden:
        check_golden(args.golden)
    cfg = small_config()
    sd = random_weights(cfg, 4242)
    # re-centre project_in on the codebook so that the codes spread: bias = -mean(W latent) over the inputs
    lat = [ref.prequant(cfg, sd, ref.encode_mel(cfg, sd, ref.log_mel(cfg, torch.from_numpy(x)))) for x in inputs().values()]
    with torch.no_grad():
        w = sd["quantizer.grvq.rvqs.0.project_in.weight"]
        proj = torch.cat([torch.nn.functional.linear(l.T, w) for l in lat])
        scale = 0.35 / proj.std(0)  # per output dim: spread like the codebook (uniform +-0.5)
        sd["quantizer.grvq.rvqs.0.project_in.weight"] = (w * scale[:, None]).float()
        sd["quantizer.grvq.rvqs.0.project_in.bias"] = (-proj.mean(0) * scale).float()
    os.makedirs(OUT, exist_ok=True)
    write_safetensors(os.path.join(OUT, "model.safetensors"), sd, {"source": "make_distilcodec_fixtures.py seed 4242"})
    folder_cfg = {"architecture": "distilcodec", "format_version": 1}
    folder_cfg.update(copy.deepcopy(cfg))
    with open(os.path.join(OUT, "config.json"), "w") as f:
        json.dump(folder_cfg, f, indent=2)
        f.write("\n")
    summary = {}
    for name, x in inputs().items():
        np.save(os.path.join(OUT, f"input_{name}.npy"), x)
        out = ref.run(cfg, sd, x)
        for key in ("mel", "latent_prequant", "codes", "quantized_latent", "decoded"):
            np.save(os.path.join(OUT, f"{name}_{key}.npy"), out[key])
        # float64 margin between the best and second-best code: parity must not hinge on rounding
        xp = out["x_pjt_in"].astype(np.float64)
        emb = sd["quantizer.grvq.rvqs.0.layers.0._codebook.embed"][0].double().numpy()
        dist = np.sqrt(((xp[:, None, :] - emb[None]) ** 2).sum(-1))
        two = np.sort(dist, axis=1)[:, :2]
        margin = float((two[:, 1] - two[:, 0]).min())
        if margin < 1e-5:
            sys.exit(f"{name}: a code is decided by a float64 margin of {margin:.2e}; pick another seed")
        summary[name] = {"samples": int(x.size), "frames": int(out["codes"].shape[1]),
                         "distinct_codes": int(len(np.unique(out["codes"]))), "nn_min_margin": margin}
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump({"generator": "scripts/make_distilcodec_fixtures.py (own PyTorch reference: scripts/distilcodec_reference.py)",
                   "torch": torch.__version__, "inputs": summary}, f, indent=2)
        f.write("\n")
    total = sum(os.path.getsize(os.path.join(OUT, n)) for n in os.listdir(OUT))
    print(f"wrote {OUT}: {total / 1e6:.2f} MB; {summary}")
    make_wide()


if __name__ == "__main__":
    main()
