#!/usr/bin/python3
"""Checks scripts/mimi_reference.py against the ORIGINAL Mimi's golden outputs.

Usage:
    /usr/bin/python3 scripts/check_mimi_reference_against_golden.py GOLDEN_DIR

GOLDEN_DIR holds manifest.json, weights.safetensors and the *.npy outputs of moshi's MimiModel
(e.g. shared/golden/mimi/tiny). Codes (batch and streaming) must be identical; tensors are
reported as max-abs differences. Exit status 1 on any code mismatch.
"""

import json
import os
import sys

import numpy as np
import torch

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mimi_reference as ref  # noqa: E402
from encodec_reference import read_safetensors  # noqa: E402


def main():
    g = sys.argv[1]
    torch.set_num_threads(1)
    man = json.load(open(os.path.join(g, "manifest.json")))
    sd, _ = read_safetensors(os.path.join(g, "weights.safetensors"))
    m = ref.MimiReference(man["config"], sd)
    nq = man["codebooks"]["total"]
    ok = True

    def load(name):
        return np.load(os.path.join(g, name))

    with torch.no_grad():
        for inp in ("speech", "noise"):
            x = torch.from_numpy(load(f"input_{inp}.npy"))
            diffs = {}
            seanet = m.seanet_encode(x)
            diffs["seanet_enc_out"] = (seanet, load(f"{inp}_seanet_enc_out_batch.npy")[0])
            diffs["enc_transformer_out"] = (m.enc_tr(seanet), load(f"{inp}_enc_transformer_out_batch.npy")[0])
            lat = m.latent(x)
            diffs["latent"] = (lat, load(f"{inp}_latent_batch.npy")[0])
            codes = m.encode(x, nq)
            lats = []
            scodes = m.encode_streaming(x, nq, lats)
            diffs["latent_stream"] = (torch.cat(lats, 1), load(f"{inp}_latent_stream.npy")[0])
            cb = torch.from_numpy(load(f"{inp}_q4_codes_batch.npy")[0].astype(np.int64))
            diffs["quantized_latent"] = (m.dequantize(cb), load(f"{inp}_q4_quantized_latent.npy")[0])
            diffs["decoded_batch"] = (m.decode(cb), load(f"{inp}_q4_decoded_batch.npy")[0, 0])
            diffs["decoded_stream"] = (m.decode_streaming(cb), load(f"{inp}_q4_decoded_stream.npy")[0, 0])
            for name, want in (("batch", f"{inp}_q4_codes_batch.npy"), ("stream", f"{inp}_q4_codes_stream.npy")):
                got = (codes if name == "batch" else scodes).numpy()
                exp = load(want)[0]
                same = np.array_equal(got, exp)
                ok &= same
                print(f"{inp} codes {name}: {'identical' if same else 'MISMATCH %d' % int((got != exp).sum())}")
            for k, (a, b) in diffs.items():
                print(f"{inp} {k}: max-abs {float(np.abs(a.numpy() - b).max()):.3e}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
