#!/usr/bin/python3
"""Export the reference EnCodec (scripts/encodec_reference.py) to ONNX for the ONNX Runtime peer.

Usage:
    /usr/bin/python3 scripts/export_encodec_onnx.py --weights W.safetensors --hparams H.json \\
        --out DIR [--seconds 10] [--bandwidth 6] [--opset 17]

Writes DIR/encode.onnx (audio float32 [1, 1, N] -> codes int64 [1, K, T]: SEANet encoder, LSTM
and the residual VQ's nearest-code search for the bandwidth's K codebooks), DIR/decode.onnx
(codes int64 [1, K, T] -> audio float32 [1, 1, T * hop]: codebook lookup and sum, LSTM, SEANet
decoder) and DIR/onnx.json (shapes, opset, torch version).

torch.onnx.export traces the same modules the PyTorch peer runs, with the same weights; weight
norm is folded first (torch.nn.utils.remove_weight_norm), as Vocodex folds it at load. The shapes
are STATIC (N = seconds * sample_rate): the padding arithmetic of the reference is Python integer
code that the tracer records as constants, so each export is valid for one length only (the
benchmark length). The ONNX Runtime harness checks its codes against Vocodex's on that input.
"""

import argparse
import json
import os
import sys

import torch

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import encodec_reference as ref  # noqa: E402


class Encode(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model.encode(x)


class Decode(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, codes):
        return self.model.decode(codes)


def fold_weight_norm(model):
    n = 0
    for m in model.modules():
        if hasattr(m, "weight_g") and hasattr(m, "weight_v"):
            torch.nn.utils.remove_weight_norm(m)
            n += 1
    return n


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", required=True)
    ap.add_argument("--hparams", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--bandwidth", type=float, default=6.0)
    ap.add_argument("--opset", type=int, default=17)
    args = ap.parse_args()

    model = ref.load_model(args.weights, args.hparams)
    model.set_target_bandwidth(args.bandwidth)
    folded = fold_weight_norm(model)
    model.eval()
    n = int(round(args.seconds * model.sample_rate))
    x = 0.1 * torch.randn(1, int(model.hp["channels"]), n, generator=torch.Generator().manual_seed(0))
    os.makedirs(args.out, exist_ok=True)
    with torch.no_grad():
        codes = model.encode(x)
        y = model.decode(codes)
        torch.onnx.export(Encode(model), (x,), os.path.join(args.out, "encode.onnx"), opset_version=args.opset,
                          input_names=["audio"], output_names=["codes"], do_constant_folding=True)
        torch.onnx.export(Decode(model), (codes,), os.path.join(args.out, "decode.onnx"), opset_version=args.opset,
                          input_names=["codes"], output_names=["audio"], do_constant_folding=True)
    meta = {
        "source": "scripts/export_encodec_onnx.py",
        "torch": torch.__version__,
        "opset": args.opset,
        "seconds": args.seconds,
        "bandwidth": args.bandwidth,
        "samples": n,
        "sample_rate": model.sample_rate,
        "n_codebooks": int(codes.shape[1]),
        "frames": int(codes.shape[2]),
        "decoded_samples": int(y.shape[-1]),
        "weight_norm_folded": folded,
        "encode": "SEANet encoder + LSTM + residual VQ nearest-code search (audio -> codes)",
        "decode": "codebook lookup + SEANet decoder (codes -> audio)",
        "static_shapes": True,
    }
    try:
        import onnx
        for name in ("encode.onnx", "decode.onnx"):
            onnx.checker.check_model(os.path.join(args.out, name))
        meta["onnx_checker"] = "ok (onnx " + onnx.__version__ + ")"
    except ImportError:
        meta["onnx_checker"] = "skipped (python3-onnx not installed)"
    with open(os.path.join(args.out, "onnx.json"), "w") as f:
        json.dump(meta, f, indent=1)
        f.write("\n")
    print(json.dumps(meta))


if __name__ == "__main__":
    main()
