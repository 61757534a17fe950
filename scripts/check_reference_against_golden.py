#!/usr/bin/python3
"""Validate scripts/encodec_reference.py against golden outputs of the
original EnCodec implementation.

Usage:  /usr/bin/python3 scripts/check_reference_against_golden.py GOLDEN_DIR

GOLDEN_DIR holds manifest.json, weights.safetensors, input_<name>.npy and
<name>_latent.npy, <name>_bw<bw>_{codes,quantized,decoded,margins}.npy
(arrays with a leading batch dimension).  The model configuration is taken
from manifest["config"]["constructor"] (keyword arguments that match our
hyper-parameter names are parsed out of it; everything else is the 24 kHz
default).  Exit status 0 iff all codes are equal and all float outputs agree
within --tol (max abs difference).
"""

import argparse
import json
import os
import re
import sys

import numpy as np
import torch

sys.dont_write_bytecode = True  # keep scripts/ free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import encodec_reference as ref  # noqa: E402


def hparams_from_manifest(man):
    ctor = man.get("config", {}).get("constructor", "")
    hp = {}

    def grab(key, conv):
        m = re.search(r"\b%s=([^,()]+)" % key, ctor)
        if m:
            hp[key] = conv(m.group(1).strip().strip("'\""))

    for key in ("channels", "dimension", "n_filters", "n_q", "bins", "sample_rate",
                "n_residual_layers", "lstm", "kernel_size"):
        grab(key, int)
    grab("norm", str)
    grab("causal", lambda s: s == "True")
    m = re.search(r"target_bandwidths=\[([^\]]*)\]", ctor)
    if m:
        hp["target_bandwidths"] = [float(v) for v in m.group(1).split(",")]
    m = re.search(r"ratios=\[([^\]]*)\]", ctor)
    if m:
        hp["ratios"] = [int(v) for v in m.group(1).split(",")]
    return hp


def bw_tag(bw):
    return ("%g" % bw)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("golden_dir")
    ap.add_argument("--tol", type=float, default=1e-4, help="max-abs tolerance for float outputs")
    args = ap.parse_args()
    d = args.golden_dir
    torch.set_num_threads(1)
    with open(os.path.join(d, "manifest.json")) as f:
        man = json.load(f)
    hp = hparams_from_manifest(man)
    print("hparams:", json.dumps(hp))
    model = ref.load_model(os.path.join(d, "weights.safetensors"), hp=hp)
    bws = man.get("bandwidths_kbps_run") or model.hp["target_bandwidths"]
    inputs = sorted(f[len("input_"):-4] for f in os.listdir(d) if f.startswith("input_") and f.endswith(".npy"))

    ok = True
    worst = {"latent": 0.0, "quantized": 0.0, "decoded": 0.0, "decoded_from_golden_codes": 0.0}
    with torch.no_grad():
        for name in inputs:
            x = torch.from_numpy(np.load(os.path.join(d, f"input_{name}.npy")).astype(np.float32))
            latent = model.encoder(x)
            g_lat = np.load(os.path.join(d, f"{name}_latent.npy"))
            dl = float(np.abs(latent.numpy() - g_lat).max())
            rel = float(np.linalg.norm(latent.numpy() - g_lat) / np.linalg.norm(g_lat))
            worst["latent"] = max(worst["latent"], dl)
            print(f"[{name}] latent {tuple(latent.shape)} max|diff|={dl:.3e} relL2={rel:.3e}")
            for bw in bws:
                tag = bw_tag(bw)
                model.set_target_bandwidth(bw)
                codes, margins, _ = model.encode(x, with_margins=True)
                g_codes = np.load(os.path.join(d, f"{name}_bw{tag}_codes.npy"))
                same = codes.shape == g_codes.shape and bool((codes.numpy() == g_codes).all())
                nmis = int((codes.numpy() != g_codes).sum()) if codes.shape == g_codes.shape else -1
                q = model.quantizer.decode(codes.transpose(0, 1))
                y = model.decode(codes)
                y_g = model.decode(torch.from_numpy(g_codes.astype(np.int64)))
                g_q = np.load(os.path.join(d, f"{name}_bw{tag}_quantized.npy"))
                g_y = np.load(os.path.join(d, f"{name}_bw{tag}_decoded.npy"))
                g_m = np.load(os.path.join(d, f"{name}_bw{tag}_margins.npy"))
                dq = float(np.abs(q.numpy() - g_q).max())
                dy = float(np.abs(y.numpy() - g_y).max())
                dyg = float(np.abs(y_g.numpy() - g_y).max())
                dm = float(np.abs(margins.numpy() - g_m).max())
                worst["quantized"] = max(worst["quantized"], dq)
                worst["decoded"] = max(worst["decoded"], dy)
                worst["decoded_from_golden_codes"] = max(worst["decoded_from_golden_codes"], dyg)
                print(f"[{name} bw={tag}] codes {tuple(codes.shape)} equal={same} mismatches={nmis} | "
                      f"quantized max|diff|={dq:.3e} decoded {tuple(y.shape)} max|diff|={dy:.3e} "
                      f"(from golden codes {dyg:.3e}) margins max|diff|={dm:.3e}")
                ok &= same and dq <= args.tol and dy <= args.tol and dyg <= args.tol
            ok &= dl <= args.tol
    print("worst:", json.dumps(worst))
    print("RESULT:", "PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
