#!/usr/bin/python3
"""Write random (seeded) weights for the full-size EnCodec 24 kHz model.

Usage:
    /usr/bin/python3 scripts/make_random_encodec.py --out DIR [--seed S] [--hparams H.json]

Writes DIR/weights.safetensors (original EnCodec state-dict names, F32) and
DIR/hparams.json (original constructor argument names).  Default
architecture = the released causal 24 kHz model: n_filters 32, dimension 128,
ratios [8,5,4,2], 1 residual layer, 2 LSTM layers, weight_norm, 32 codebooks
of 1024, target bandwidths [1.5, 3, 6, 12, 24].  --hparams overrides any of
those keys.  These are build outputs for benchmarks (put them under build/),
not something to commit.

Weights: scripts/encodec_reference.randomize_(seed); codebooks fitted to the
residuals of 1 s of seeded noise (encodec_reference.fit_codebooks_), so the
codes spread over the codebooks as with a trained model.
"""

import argparse
import json
import os
import sys

import torch

sys.dont_write_bytecode = True  # keep scripts/ free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import encodec_reference as ref  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="output folder")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--hparams", help="JSON file overriding the 24 kHz hyper-parameters")
    args = ap.parse_args()

    overrides = {}
    if args.hparams:
        with open(args.hparams) as f:
            overrides = json.load(f)
    hp = ref.full_hparams(overrides)
    torch.manual_seed(args.seed)
    model = ref.EncodecReference(hp).eval()
    ref.randomize_(model, args.seed)
    g = torch.Generator().manual_seed(args.seed + 1)
    sr = int(hp["sample_rate"])
    x = 0.1 * torch.randn(1, int(hp["channels"]), sr, generator=g)
    with torch.no_grad():
        ref.fit_codebooks_(model, model.encoder(x), args.seed + 2)

    os.makedirs(args.out, exist_ok=True)
    sd = ref.state_dict_f32(model)
    ref.write_safetensors(os.path.join(args.out, "weights.safetensors"), sd,
                          {"format": "pt", "source": "vocodex scripts/make_random_encodec.py",
                           "seed": str(args.seed)})
    with open(os.path.join(args.out, "hparams.json"), "w") as f:
        json.dump(hp, f, indent=1)
        f.write("\n")
    n_params = sum(v.numel() for v in sd.values())
    print(f"wrote {len(sd)} tensors ({n_params} values) to {args.out}")


if __name__ == "__main__":
    main()
