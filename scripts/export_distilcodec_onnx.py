#!/usr/bin/python3
"""Export the reference DistilCodec (scripts/distilcodec_reference.py) to ONNX for the ONNX Runtime peer.

Usage:
    /usr/bin/python3 scripts/export_distilcodec_onnx.py --dir DIR --out ONNX_DIR [--opset 17]

DIR is written by `java --add-modules jdk.incubator.vector -cp jmh/target/benchmarks.jar io.vocodex.bench.PeerSide write --codec
distilcodec --config released|tiny --out DIR` (DIR/model: the DistilCodec folder the Vocodex
benchmarks run; DIR/input.npy; DIR/peer.json). Writes ONNX_DIR/encode.onnx (audio float32
[1, 1, N] -> codes int64 [1, 1, T]: log-mel front end, ConvNeXt encoder, downsample, the
nearest-code search over the 32768-code book), ONNX_DIR/decode.onnx (codes int64 [1, 1, T] ->
audio float32 [1, 1, S]: codebook lookup, project_out, upsample, HiFi-GAN) and ONNX_DIR/onnx.json.

The front end's STFT is computed as a conv1d with DFT kernels (hann window x cos / -sin, stride =
hop, one output channel per real and imaginary part of each of the n_fft / 2 + 1 bins) instead of
torch.stft: torch 1.13 cannot export it ("Exporting the operator 'aten::stft' to ONNX opset version
17 is not supported", with return_complex True or False). Same mathematics,
different summation order: codes can differ from the reference's on near-ties (the harness
reports the agreement with Vocodex's codes, and this script the agreement with the reference's).
Weights become initializers; weight norm is folded (as Vocodex folds it at load). Shapes are
STATIC (N = the input's length). At the released size the graphs hold ~830 MB (encode) and
~790 MB (decode) of weights, the 470 MB codebook in both: under protobuf's 2 GB limit; with
--external-data the tensors go to side files (encode.onnx.data, decode.onnx.data).
"""

import argparse
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import distilcodec_reference as ref  # noqa: E402
from encodec_reference import read_safetensors  # noqa: E402


def dft_kernels(n_fft, win):
    """[2 * (n_fft/2 + 1), 1, n_fft]: window x cos, then window x -sin (float64 -> float32)."""
    n = torch.arange(n_fft, dtype=torch.float64)
    k = torch.arange(n_fft // 2 + 1, dtype=torch.float64)
    w = torch.hann_window(win, dtype=torch.float64)
    w = F.pad(w, ((n_fft - win) // 2, n_fft - win - (n_fft - win) // 2))
    ang = 2 * math.pi * k[:, None] * n[None, :] / n_fft
    return torch.cat([w * torch.cos(ang), -w * torch.sin(ang)]).float()[:, None, :]


def log_mel_conv(cfg, x, kernels, fb_t):
    """ref.log_mel with the STFT as a strided conv1d (exportable)."""
    s = cfg["spec_transform"]
    hop, win = s["hop_size"], s["win_size"]
    y = torch.cat([torch.zeros(1), x])[None, None]
    y = F.pad(y, ((win - hop) // 2, (win - hop + 1) // 2), mode="reflect")
    spec = F.conv1d(y, kernels, stride=hop)[0]  # [2 * bins, T]
    bins = spec.shape[0] // 2
    mag = torch.sqrt(spec[:bins].pow(2) + spec[bins:].pow(2) + 1e-6)
    return torch.log(torch.clamp(fb_t @ mag, min=1e-5))


class Encode(torch.nn.Module):
    def __init__(self, cfg, sd):
        super().__init__()
        s = cfg["spec_transform"]
        self.cfg, self.sd = cfg, sd
        self.kernels = dft_kernels(s["n_fft"], s["win_size"])
        fmax = s["fmax"] if s.get("fmax") is not None else s["sampling_rate"] // 2
        self.fb_t = ref.mel_filterbank(s["n_fft"] // 2 + 1, s.get("fmin", 0) or 0, fmax, s["num_mels"],
                                       s["sampling_rate"]).T.contiguous()

    def forward(self, audio):  # [1, 1, N]
        mel = log_mel_conv(self.cfg, audio[0, 0], self.kernels, self.fb_t)
        pre = ref.prequant(self.cfg, self.sd, ref.encode_mel(self.cfg, self.sd, mel))
        return ref.quantize(self.cfg, self.sd, pre)[0][None]


class Decode(torch.nn.Module):
    def __init__(self, cfg, sd):
        super().__init__()
        self.cfg, self.sd = cfg, sd

    def forward(self, codes):  # [1, K, T]
        return ref.generate(self.cfg, self.sd, ref.dequantize(self.cfg, self.sd, codes[0]))[None, None]


def fold_weight_norm(sd):
    """Replaces every weight-norm pair by its effective weight (ref._w); returns the count."""
    out, n = dict(sd), 0
    for g, v in ((".parametrizations.weight.original0", ".parametrizations.weight.original1"), (".weight_g", ".weight_v")):
        for name in [k for k in sd if k.endswith(g)]:
            p = name[: -len(g)]
            out[p + ".weight"] = ref._w(sd, p)
            del out[p + g], out[p + v]
            n += 1
    return out, n


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--opset", type=int, default=17)
    ap.add_argument("--external-data", action="store_true", help="store the weights next to the graphs")
    args = ap.parse_args()
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))

    meta = json.load(open(os.path.join(args.dir, "peer.json")))
    cfg = json.load(open(os.path.join(args.dir, "model", "config.json")))
    sd, _ = read_safetensors(os.path.join(args.dir, "model", "model.safetensors"))
    sd, folded = fold_weight_norm(sd)
    x = torch.from_numpy(np.load(os.path.join(args.dir, "input.npy")).astype(np.float32))[None, None]
    enc, dec = Encode(cfg, sd), Decode(cfg, sd)
    os.makedirs(args.out, exist_ok=True)
    with torch.no_grad():
        codes = enc(x)
        mel = ref.log_mel(cfg, x[0, 0])
        ref_codes = ref.quantize(cfg, sd, ref.prequant(cfg, sd, ref.encode_mel(cfg, sd, mel)))[0]
        agree = float((codes[0] == ref_codes).float().mean())
        y = dec(codes)
        for name, mod, inp, i_name, o_name in (("encode.onnx", enc, x, "audio", "codes"),
                                               ("decode.onnx", dec, codes, "codes", "audio")):
            path = os.path.join(args.out, name)
            torch.onnx.export(mod, (inp,), path, opset_version=args.opset, input_names=[i_name],
                              output_names=[o_name], do_constant_folding=True)
            if args.external_data:
                import onnx
                m = onnx.load(path)
                onnx.save_model(m, path, save_as_external_data=True, all_tensors_to_one_file=True,
                                location=name + ".data", size_threshold=1024)
                del m
    out = {
        "source": "scripts/export_distilcodec_onnx.py",
        "model": "distilcodec",
        "config": meta["config"],
        "torch": torch.__version__,
        "opset": args.opset,
        "seconds": meta["seconds"],
        "bandwidth": meta["bandwidth"],
        "samples": int(x.shape[-1]),
        "sample_rate": int(cfg["spec_transform"]["sampling_rate"]),
        "n_codebooks": int(codes.shape[1]),
        "frames": int(codes.shape[2]),
        "decoded_samples": int(y.shape[-1]),
        "weight_norm_folded": folded,
        "stft": "conv1d with DFT kernels (aten::stft has no ONNX export in torch 1.13)",
        "codes_equal_fraction_vs_reference_stft": round(agree, 6),
        "external_data": args.external_data,
        "encode": "log-mel (DFT conv) + ConvNeXt encoder + downsample + nearest-code search (audio -> codes)",
        "decode": "codebook lookup + project_out + upsample + HiFi-GAN (codes -> audio)",
        "static_shapes": True,
    }
    try:
        import onnx
        for name in ("encode.onnx", "decode.onnx"):
            onnx.checker.check_model(os.path.join(args.out, name))  # a path: works for external data too
        out["onnx_checker"] = "ok (onnx " + onnx.__version__ + ")"
    except ImportError:
        out["onnx_checker"] = "skipped (python3-onnx not installed)"
    with open(os.path.join(args.out, "onnx.json"), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
