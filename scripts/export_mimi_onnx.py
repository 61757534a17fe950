#!/usr/bin/python3
"""Export the reference Mimi (scripts/mimi_reference.py) to ONNX for the ONNX Runtime peer.

Usage:
    /usr/bin/python3 scripts/export_mimi_onnx.py --dir DIR --out ONNX_DIR [--opset 17]

DIR is written by `java --add-modules jdk.incubator.vector -cp jmh/target/benchmarks.jar io.vocodex.bench.PeerSide write --codec mimi
--out DIR` (DIR/model: the Mimi folder the Vocodex benchmarks run; DIR/input.npy, DIR/peer.json).
Writes ONNX_DIR/encode.onnx (audio float32 [1, 1, N] -> codes int64 [1, K, T]: SEANet encoder,
encoder transformer, downsample, and the split RVQ's nearest-code search for the K = 8 codebooks of
peer.json), ONNX_DIR/decode.onnx (codes int64 [1, K, T] -> audio float32 [1, 1, T * 1920]: codebook
lookups, output projections, upsample, decoder transformer, SEANet decoder) and ONNX_DIR/onnx.json.

torch.onnx.export traces MimiReference built from config.json and the same weights (its tensors
become initializers). Two changes for the exporter, same arithmetic: the RVQ search computes
|r|^2 - 2 r.c + |c|^2 and its argmin instead of torch.cdist (not exportable in torch 1.13), and
the codebooks are the reference's embedding_sum / cluster_usage, folded at export. Shapes are
STATIC (N = the input's length, 10 s): the padding arithmetic and the attention masks are traced
as constants. The ONNX Runtime harness (peers/) checks its codes against Vocodex's on that input.
"""

import argparse
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mimi_reference as ref  # noqa: E402
from encodec_reference import read_safetensors  # noqa: E402


def rvq_search(rvq, latent, n):
    """Rvq.encode without cdist: argmin over codes of |r|^2 - 2 r.c + |c|^2."""
    r = F.conv1d(latent[None], rvq.inp)[0].t()
    codes = []
    for cb in rvq.cbs[:n]:
        d = r.pow(2).sum(1, keepdim=True) - 2 * (r @ cb.t()) + cb.pow(2).sum(1)[None]
        c = d.argmin(-1)
        codes.append(c)
        r = r - cb[c]
    return codes


class Encode(torch.nn.Module):
    def __init__(self, m, n_q):
        super().__init__()
        self.m, self.n_q = m, n_q

    def forward(self, audio):  # [1, 1, N]
        lat = self.m.latent(audio[0, 0])
        codes = rvq_search(self.m.first, lat, min(self.n_q, self.m.n_sem))
        if self.n_q > self.m.n_sem:
            codes += rvq_search(self.m.rest, lat, self.n_q - self.m.n_sem)
        return torch.stack(codes)[None]


class Decode(torch.nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, codes):  # [1, K, T]
        return self.m.decode(codes[0])[None, None]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--opset", type=int, default=17)
    args = ap.parse_args()
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))

    meta = json.load(open(os.path.join(args.dir, "peer.json")))
    config = json.load(open(os.path.join(args.dir, "model", "config.json")))
    sd, _ = read_safetensors(os.path.join(args.dir, "model", "model.safetensors"))
    m = ref.MimiReference(config, sd)
    n_q = int(meta["n_codebooks"])
    x = torch.from_numpy(np.load(os.path.join(args.dir, "input.npy")).astype(np.float32))[None, None]
    enc, dec = Encode(m, n_q), Decode(m)
    os.makedirs(args.out, exist_ok=True)
    with torch.no_grad():
        codes = enc(x)
        same_as_reference = bool(torch.equal(codes[0], m.encode(x[0, 0], n_q)))
        y = dec(codes)
        torch.onnx.export(enc, (x,), os.path.join(args.out, "encode.onnx"), opset_version=args.opset,
                          input_names=["audio"], output_names=["codes"], do_constant_folding=True)
        torch.onnx.export(dec, (codes,), os.path.join(args.out, "decode.onnx"), opset_version=args.opset,
                          input_names=["codes"], output_names=["audio"], do_constant_folding=True)
    out = {
        "source": "scripts/export_mimi_onnx.py",
        "model": "mimi",
        "torch": torch.__version__,
        "opset": args.opset,
        "seconds": meta["seconds"],
        "bandwidth": meta["bandwidth"],
        "samples": int(x.shape[-1]),
        "sample_rate": int(config["sample_rate"]),
        "n_codebooks": int(codes.shape[1]),
        "frames": int(codes.shape[2]),
        "decoded_samples": int(y.shape[-1]),
        "search_codes_equal_cdist_reference": same_as_reference,
        "encode": "SEANet encoder + transformer + downsample + split RVQ nearest-code search (audio -> codes)",
        "decode": "codebook lookups + upsample + transformer + SEANet decoder (codes -> audio)",
        "static_shapes": True,
    }
    try:
        import onnx
        for name in ("encode.onnx", "decode.onnx"):
            onnx.checker.check_model(os.path.join(args.out, name))
        out["onnx_checker"] = "ok (onnx " + onnx.__version__ + ")"
    except ImportError:
        out["onnx_checker"] = "skipped (python3-onnx not installed)"
    with open(os.path.join(args.out, "onnx.json"), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
